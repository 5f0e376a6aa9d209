mock_provider "aws" {
  source = "../../tests/mocks/aws"
}

variables {
  name_prefix          = "seg"
  kms_key_arn          = "arn:aws:kms:eu-west-1:123456789012:key/k"
  ingest_role          = { arn = "arn:aws:iam::123456789012:role/seg-ingest", name = "seg-ingest" }
  landing_bucket       = { name = "seg-landing", arn = "arn:aws:s3:::seg-landing" }
  ingest_package       = { path = "ingest.zip", hash = "aGFzaA==" }
  batch_ingest_package = { path = "batch_ingest.zip", hash = "aGFzaA==" }
  environment          = { SEG_LAKE_PREFIX = "seg", SEG_ENVIRONMENT = "aws" }
  vpc                  = { id = "vpc-1", cidr_block = "10.40.0.0/16", subnet_ids = ["subnet-a", "subnet-b"], security_group_ids = ["sg-workloads"] }
}

run "msk_serverless_with_iam_auth" {
  command = apply

  assert {
    condition     = one(one(one(aws_msk_serverless_cluster.this[0].client_authentication).sasl).iam).enabled
    error_message = "MSK takes IAM authentication"
  }
  assert {
    condition     = length(aws_msk_cluster.this) == 0
    error_message = "serverless by default"
  }
  assert {
    condition     = one(aws_msk_serverless_cluster.this[0].vpc_config).subnet_ids == toset(["subnet-a", "subnet-b"])
    error_message = "cluster in the private subnets"
  }
  assert {
    condition     = output.bootstrap_brokers == "boot-1.kafka-serverless.eu-west-1.amazonaws.com:9098"
    error_message = "SASL/IAM bootstrap brokers exposed"
  }
}

run "event_source_mapping" {
  command = apply

  assert {
    condition     = aws_lambda_event_source_mapping.ingest[0].event_source_arn == aws_msk_serverless_cluster.this[0].arn && aws_lambda_event_source_mapping.ingest[0].topics == toset(["raw-events"])
    error_message = "the mapping reads the raw-events topic of the cluster"
  }
  assert {
    condition = (aws_lambda_event_source_mapping.ingest[0].batch_size == 500 &&
      aws_lambda_event_source_mapping.ingest[0].maximum_batching_window_in_seconds == 10 &&
    aws_lambda_event_source_mapping.ingest[0].starting_position == "TRIM_HORIZON")
    error_message = "batch size, window and starting position as configured"
  }
  assert {
    condition     = one(aws_lambda_event_source_mapping.ingest[0].amazon_managed_kafka_event_source_config).consumer_group_id == "seg-ingest"
    error_message = "named consumer group"
  }
  assert {
    condition     = one(one(aws_lambda_event_source_mapping.ingest[0].destination_config).on_failure).destination_arn == aws_sqs_queue.failures.arn
    error_message = "failed batches go to the failure queue, never dropped"
  }
  assert {
    condition     = aws_sqs_queue.failures.kms_master_key_id == var.kms_key_arn
    error_message = "failure queue encrypted"
  }
  assert {
    condition = toset(one([for s in jsondecode(aws_iam_role_policy.msk_consume[0].policy).Statement : s.Resource if s.Sid == "ConsumeTopic"])) == toset([
      aws_msk_serverless_cluster.this[0].arn,
      "arn:aws:kafka:eu-west-1:123456789012:topic/seg-events/*/raw-events",
      "arn:aws:kafka:eu-west-1:123456789012:group/seg-events/*/seg-ingest",
    ])
    error_message = "the ingest role reads only its topic as its group"
  }
}

run "functions_and_landing_trigger" {
  command = apply

  assert {
    condition     = module.ingest.function_name == "seg-ingest" && module.batch_ingest.function_name == "seg-batch-ingest"
    error_message = "function names"
  }
  assert {
    condition     = toset([for f in aws_s3_bucket_notification.landing.lambda_function : f.filter_suffix]) == toset([".csv", ".parquet"])
    error_message = "landing CSV and Parquet uploads trigger batch_ingest"
  }
  assert {
    condition     = alltrue([for f in aws_s3_bucket_notification.landing.lambda_function : contains(f.events, "s3:ObjectCreated:*")])
    error_message = "on object creation"
  }
  assert {
    condition     = aws_lambda_permission.landing.principal == "s3.amazonaws.com" && aws_lambda_permission.landing.source_arn == "arn:aws:s3:::seg-landing"
    error_message = "only the landing bucket may invoke batch_ingest"
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.msk_from_functions[0].from_port == 9098
    error_message = "functions reach MSK on the IAM/TLS port only"
  }
  assert {
    condition     = alltrue([for f in [module.ingest, module.batch_ingest] : f.vpc_config.security_group_ids == toset(["sg-workloads", aws_security_group.functions[0].id])])
    error_message = "functions wear the network's workload group (443 to the endpoints) and their MSK group"
  }
}

run "provisioned_cluster_is_encrypted" {
  command = apply
  variables {
    msk_mode = "provisioned"
  }

  assert {
    condition     = one(one(aws_msk_cluster.this[0].encryption_info).encryption_in_transit).client_broker == "TLS"
    error_message = "TLS between clients and brokers"
  }
  assert {
    condition     = one(one(aws_msk_cluster.this[0].client_authentication).sasl).iam && !one(aws_msk_cluster.this[0].client_authentication).unauthenticated
    error_message = "IAM auth only"
  }
  assert {
    condition     = length(aws_msk_serverless_cluster.this) == 0 && aws_lambda_event_source_mapping.ingest[0].event_source_arn == aws_msk_cluster.this[0].arn
    error_message = "the mapping follows the provisioned cluster"
  }
}

run "no_msk" {
  command = apply
  variables {
    msk_mode = "none"
    vpc      = null
  }

  assert {
    condition     = length(aws_lambda_event_source_mapping.ingest) == 0 && length(aws_msk_serverless_cluster.this) == 0 && output.bootstrap_brokers == null
    error_message = "no cluster and no mapping"
  }
}

run "msk_needs_a_vpc" {
  command = plan
  variables {
    vpc = null
  }
  expect_failures = [aws_msk_serverless_cluster.this]
}
