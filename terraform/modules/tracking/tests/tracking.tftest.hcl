mock_provider "aws" {
  source = "../../tests/mocks/aws"
}

variables {
  name_prefix               = "seg"
  vpc                       = { id = "vpc-1", subnet_ids = ["subnet-a", "subnet-b"], security_group_ids = ["sg-workloads"] }
  kms_key_arn               = "arn:aws:kms:eu-west-1:123456789012:key/k"
  artifacts_bucket          = { name = "seg-prod-artifacts", arn = "arn:aws:s3:::seg-prod-artifacts" }
  client_security_group_ids = ["sg-jobs"]
}

run "database_secret_never_in_terraform" {
  command = apply

  assert {
    condition     = aws_db_instance.mlflow.manage_master_user_password && aws_db_instance.mlflow.password == null
    error_message = "RDS generates and keeps the password in Secrets Manager"
  }
  assert {
    condition     = aws_db_instance.mlflow.storage_encrypted && aws_db_instance.mlflow.kms_key_id == var.kms_key_arn && !aws_db_instance.mlflow.publicly_accessible
    error_message = "encrypted, private PostgreSQL"
  }
  assert {
    condition     = aws_db_instance.mlflow.engine == "postgres"
    error_message = "PostgreSQL backend store"
  }
  assert {
    condition = toset([for s in jsondecode(aws_ecs_task_definition.mlflow.container_definitions)[0].secrets : s.valueFrom]) == toset([
      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1:username::",
      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1:password::",
    ])
    error_message = "credentials injected by ECS from the RDS secret"
  }
}

run "mlflow_service" {
  command = apply

  assert {
    condition     = contains([for e in jsondecode(aws_ecs_task_definition.mlflow.container_definitions)[0].environment : "${e.name}=${e.value}"], "MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false")
    error_message = "no job-execution workers"
  }
  assert {
    condition     = contains([for e in jsondecode(aws_ecs_task_definition.mlflow.container_definitions)[0].environment : "${e.name}=${e.value}"], "MLFLOW_ARTIFACTS_DESTINATION=s3://seg-prod-artifacts/mlflow")
    error_message = "artifacts proxied to S3"
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.mlflow.container_definitions)[0].image == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/seg-mlflow:3.17.2"
    error_message = "image from the ECR repository"
  }
  assert {
    condition     = !one(aws_ecs_service.mlflow.network_configuration).assign_public_ip && one(aws_ecs_service.mlflow.network_configuration).subnets == toset(var.vpc.subnet_ids)
    error_message = "service in private subnets"
  }
  assert {
    condition     = one(aws_ecs_service.mlflow.network_configuration).security_groups == toset(["sg-workloads", aws_security_group.task.id])
    error_message = "tasks wear the network's workload group (ECR, Secrets Manager, Logs, S3) and their own"
  }
  assert {
    condition     = aws_lb.mlflow.internal && aws_lb.mlflow.drop_invalid_header_fields
    error_message = "internal load balancer"
  }
  assert {
    condition     = output.tracking_uri == "http://internal-seg-mlflow-1.eu-west-1.elb.amazonaws.com"
    error_message = "tracking URI for the Spark jobs"
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.alb_from_groups[0].referenced_security_group_id == "sg-jobs"
    error_message = "the Spark jobs reach MLflow"
  }
  assert {
    condition     = aws_ecr_repository.mlflow.image_tag_mutability == "IMMUTABLE" && one(aws_ecr_repository.mlflow.image_scanning_configuration).scan_on_push
    error_message = "immutable, scanned images"
  }
}

run "https_with_a_certificate" {
  command = apply
  variables {
    certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/c"
  }

  assert {
    condition     = aws_lb_listener.mlflow.protocol == "HTTPS" && aws_lb_listener.mlflow.port == 443 && startswith(output.tracking_uri, "https://")
    error_message = "HTTPS when a certificate is given"
  }
}
