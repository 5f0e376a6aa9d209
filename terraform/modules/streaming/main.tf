# Streaming ingest: MSK (IAM auth, TLS) -> event source mapping -> Lambda ingest -> hot zone, with
# failed batches sent to an SQS queue; and landing uploads -> Lambda batch_ingest -> raw zone.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  in_vpc         = var.vpc != null
  msk            = var.msk_mode != "none"
  cluster_name   = "${var.name_prefix}-events"
  consumer_group = coalesce(var.consumer_group_id, "${var.name_prefix}-ingest")
  cluster_arn = (
    var.msk_mode == "serverless" ? aws_msk_serverless_cluster.this[0].arn :
    var.msk_mode == "provisioned" ? aws_msk_cluster.this[0].arn : null
  )
  bootstrap_brokers = (
    var.msk_mode == "serverless" ? aws_msk_serverless_cluster.this[0].bootstrap_brokers_sasl_iam :
    var.msk_mode == "provisioned" ? aws_msk_cluster.this[0].bootstrap_brokers_sasl_iam : null
  )
  kafka_arn_prefix = "arn:${data.aws_partition.current.partition}:kafka:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
  function_env     = merge(var.environment, { SEG_KAFKA_TOPIC = var.topic })
  subnet_ids       = local.in_vpc ? var.vpc.subnet_ids : []
  # The network's workload group (HTTPS to the endpoints) plus this module's MSK group.
  function_sgs = local.in_vpc ? concat(var.vpc.security_group_ids, [aws_security_group.functions[0].id]) : []
}

# ---------------------------------------------------------------------------------------------
# Network: the functions reach AWS APIs with the network's workload group (443 to the
# endpoints) and MSK over IAM/TLS (9098) with this module's group.
# ---------------------------------------------------------------------------------------------
resource "aws_security_group" "functions" {
  #checkov:skip=CKV2_AWS_5:Attached to the ingest and batch_ingest functions through the lambda_function module (security_group_ids).
  count = local.in_vpc ? 1 : 0
  name  = "${var.name_prefix}-ingest-functions"
  # Kept as created (a new description replaces the group); 443 now comes with the workload group.
  description = "Ingest functions: out to VPC endpoints (443) and MSK (9098) only"
  vpc_id      = var.vpc.id
}

resource "aws_vpc_security_group_egress_rule" "functions_msk" {
  count                        = local.in_vpc && local.msk ? 1 : 0
  security_group_id            = aws_security_group.functions[0].id
  description                  = "MSK brokers, IAM auth over TLS"
  ip_protocol                  = "tcp"
  from_port                    = 9098
  to_port                      = 9098
  referenced_security_group_id = aws_security_group.msk[0].id
}

resource "aws_security_group" "msk" {
  #checkov:skip=CKV2_AWS_5:Attached to the MSK cluster (vpc_config / broker_node_group_info) in this module.
  count       = local.in_vpc && local.msk ? 1 : 0
  name        = "${var.name_prefix}-msk"
  description = "MSK brokers: IAM/TLS (9098) from the ingest functions and the event source mapping"
  vpc_id      = var.vpc.id
}

resource "aws_vpc_security_group_ingress_rule" "msk_from_functions" {
  count                        = local.in_vpc && local.msk ? 1 : 0
  security_group_id            = aws_security_group.msk[0].id
  description                  = "Ingest functions"
  ip_protocol                  = "tcp"
  from_port                    = 9098
  to_port                      = 9098
  referenced_security_group_id = aws_security_group.functions[0].id
}

# The event source mapping's pollers run with the cluster's security groups.
resource "aws_vpc_security_group_ingress_rule" "msk_self" {
  count                        = local.in_vpc && local.msk ? 1 : 0
  security_group_id            = aws_security_group.msk[0].id
  description                  = "Event source mapping pollers"
  ip_protocol                  = "tcp"
  from_port                    = 9098
  to_port                      = 9098
  referenced_security_group_id = aws_security_group.msk[0].id
}

resource "aws_vpc_security_group_egress_rule" "msk_self" {
  count                        = local.in_vpc && local.msk ? 1 : 0
  security_group_id            = aws_security_group.msk[0].id
  description                  = "Event source mapping pollers to brokers"
  ip_protocol                  = "tcp"
  from_port                    = 9098
  to_port                      = 9098
  referenced_security_group_id = aws_security_group.msk[0].id
}

resource "aws_vpc_security_group_egress_rule" "msk_endpoints" {
  count             = local.in_vpc && local.msk ? 1 : 0
  security_group_id = aws_security_group.msk[0].id
  description       = "Event source mapping pollers to Lambda/STS endpoints"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = var.vpc.cidr_block
}

# ---------------------------------------------------------------------------------------------
# MSK: IAM authentication only, TLS in transit (always on for serverless).
# ---------------------------------------------------------------------------------------------
resource "aws_msk_serverless_cluster" "this" {
  count        = var.msk_mode == "serverless" ? 1 : 0
  cluster_name = local.cluster_name

  vpc_config {
    subnet_ids         = var.vpc.subnet_ids
    security_group_ids = [aws_security_group.msk[0].id]
  }

  client_authentication {
    sasl {
      iam {
        enabled = true
      }
    }
  }

  lifecycle {
    precondition {
      condition     = local.in_vpc
      error_message = "MSK needs a VPC: pass var.vpc (the network module's outputs)."
    }
  }
}

resource "aws_cloudwatch_log_group" "msk" {
  count             = var.msk_mode == "provisioned" ? 1 : 0
  name              = "/aws/msk/${local.cluster_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_msk_cluster" "this" {
  count                  = var.msk_mode == "provisioned" ? 1 : 0
  cluster_name           = local.cluster_name
  kafka_version          = var.kafka_version
  number_of_broker_nodes = var.broker_count
  enhanced_monitoring    = "PER_TOPIC_PER_BROKER"

  broker_node_group_info {
    instance_type   = var.broker_instance_type
    client_subnets  = var.vpc.subnet_ids
    security_groups = [aws_security_group.msk[0].id]
    storage_info {
      ebs_storage_info {
        volume_size = var.broker_volume_gb
      }
    }
    connectivity_info {
      public_access {
        type = "DISABLED"
      }
    }
  }

  client_authentication {
    unauthenticated = false
    sasl {
      iam = true
    }
  }

  encryption_info {
    encryption_at_rest_kms_key_arn = var.kms_key_arn
    encryption_in_transit {
      client_broker = "TLS"
      in_cluster    = true
    }
  }

  logging_info {
    broker_logs {
      cloudwatch_logs {
        enabled   = true
        log_group = aws_cloudwatch_log_group.msk[0].name
      }
    }
  }

  lifecycle {
    precondition {
      condition     = local.in_vpc
      error_message = "MSK needs a VPC: pass var.vpc (the network module's outputs)."
    }
  }
}

# ---------------------------------------------------------------------------------------------
# Failed batches: nothing is dropped silently.
# ---------------------------------------------------------------------------------------------
resource "aws_sqs_queue" "failures" {
  name                              = "${var.name_prefix}-ingest-failures"
  message_retention_seconds         = var.message_retention_seconds
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
}

# ---------------------------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------------------------
module "ingest" {
  source                = "../lambda_function"
  function_name         = "${var.name_prefix}-ingest"
  description           = "MSK batch -> validate -> HMAC user ids -> Parquet in the hot zone; invalid records to quarantine"
  role_arn              = var.ingest_role.arn
  role_name             = var.ingest_role.name
  package               = var.ingest_package
  layer_arns            = var.layer_arns
  environment           = merge(local.function_env, { POWERTOOLS_SERVICE_NAME = "ingest" })
  kms_key_arn           = var.kms_key_arn
  memory_mb             = var.ingest_memory_mb
  timeout_seconds       = var.ingest_timeout_seconds
  log_retention_days    = var.log_retention_days
  subnet_ids            = local.subnet_ids
  security_group_ids    = local.function_sgs
  dead_letter_queue_arn = aws_sqs_queue.failures.arn
}

module "batch_ingest" {
  source                = "../lambda_function"
  function_name         = "${var.name_prefix}-batch-ingest"
  description           = "Landing CSV/Parquet -> validate -> HMAC user ids -> raw zone; invalid rows to quarantine"
  role_arn              = var.ingest_role.arn
  role_name             = var.ingest_role.name
  package               = var.batch_ingest_package
  layer_arns            = var.layer_arns
  environment           = merge(local.function_env, { POWERTOOLS_SERVICE_NAME = "batch_ingest" })
  kms_key_arn           = var.kms_key_arn
  memory_mb             = var.batch_ingest_memory_mb
  timeout_seconds       = var.batch_ingest_timeout_seconds
  log_retention_days    = var.log_retention_days
  subnet_ids            = local.subnet_ids
  security_group_ids    = local.function_sgs
  dead_letter_queue_arn = aws_sqs_queue.failures.arn
}

# The ingest role reads the topic as its consumer group, and nothing else on the cluster.
resource "aws_iam_role_policy" "msk_consume" {
  #checkov:skip=CKV_AWS_290:Only the MappingNetwork statement has no resource: the mapping's ENI actions cannot be scoped by resource (AWS requires "*"); topic and group access are scoped.
  #checkov:skip=CKV_AWS_355:See CKV_AWS_290.
  count = local.msk ? 1 : 0
  name  = "msk-consume"
  role  = var.ingest_role.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "DescribeCluster"
        Effect   = "Allow"
        Action   = ["kafka:DescribeCluster", "kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers"]
        Resource = [local.cluster_arn]
      },
      {
        Sid    = "ConsumeTopic"
        Effect = "Allow"
        Action = ["kafka-cluster:Connect", "kafka-cluster:DescribeClusterDynamicConfiguration", "kafka-cluster:DescribeTopic", "kafka-cluster:ReadData", "kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"]
        Resource = [
          local.cluster_arn,
          "${local.kafka_arn_prefix}:topic/${local.cluster_name}/*/${var.topic}",
          "${local.kafka_arn_prefix}:group/${local.cluster_name}/*/${local.consumer_group}",
        ]
      },
      {
        # The mapping's pollers place interfaces in the cluster's subnets; not scopable by resource.
        Sid      = "MappingNetwork"
        Effect   = "Allow"
        Action   = ["ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeNetworkInterfaces", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"]
        Resource = "*"
      },
    ]
  })
}

resource "aws_lambda_event_source_mapping" "ingest" {
  count                              = local.msk ? 1 : 0
  event_source_arn                   = local.cluster_arn
  function_name                      = module.ingest.arn
  topics                             = [var.topic]
  starting_position                  = var.starting_position
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.batching_window_seconds

  amazon_managed_kafka_event_source_config {
    consumer_group_id = local.consumer_group
  }

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.failures.arn
    }
  }

  depends_on = [aws_iam_role_policy.msk_consume]
}

# Landing uploads trigger batch_ingest.
resource "aws_lambda_permission" "landing" {
  statement_id   = "landing-object-created"
  action         = "lambda:InvokeFunction"
  function_name  = module.batch_ingest.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = var.landing_bucket.arn
  source_account = data.aws_caller_identity.current.account_id
}

resource "aws_s3_bucket_notification" "landing" {
  bucket = var.landing_bucket.name

  dynamic "lambda_function" {
    for_each = var.landing_suffixes
    content {
      id                  = "batch-ingest${replace(lambda_function.value, ".", "-")}"
      lambda_function_arn = module.batch_ingest.arn
      events              = ["s3:ObjectCreated:*"]
      filter_suffix       = lambda_function.value
    }
  }

  depends_on = [aws_lambda_permission.landing]
}
