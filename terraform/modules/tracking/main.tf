# MLflow tracking server: container image in ECR, ECS Fargate service in private subnets behind an
# internal ALB, PostgreSQL on RDS (master password generated and kept by RDS in Secrets Manager,
# never in Terraform state), artifacts proxied to S3.

data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  name      = "${var.name_prefix}-mlflow"
  https     = var.certificate_arn != null
  port      = local.https ? 443 : 80
  scheme    = local.https ? "https" : "http"
  secret    = aws_db_instance.mlflow.master_user_secret[0].secret_arn
  artifacts = "s3://${var.artifacts_bucket.name}/${var.artifacts_prefix}"
}

# ---------------------------------------------------------------------------------------------
# Image repository
# ---------------------------------------------------------------------------------------------
resource "aws_ecr_repository" "mlflow" {
  name                 = local.name
  image_tag_mutability = "IMMUTABLE"
  image_scanning_configuration {
    scan_on_push = true
  }
  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }
}

resource "aws_ecr_lifecycle_policy" "mlflow" {
  repository = aws_ecr_repository.mlflow.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the last 10 images"
      selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 10 }
      action       = { type = "expire" }
    }]
  })
}

# ---------------------------------------------------------------------------------------------
# Security groups: clients -> ALB -> task -> database
# ---------------------------------------------------------------------------------------------
resource "aws_security_group" "alb" {
  name        = "${local.name}-alb"
  description = "MLflow internal load balancer"
  vpc_id      = var.vpc.id
}

resource "aws_vpc_security_group_ingress_rule" "alb_from_groups" {
  count                        = length(var.client_security_group_ids)
  security_group_id            = aws_security_group.alb.id
  description                  = "MLflow clients (Spark jobs)"
  ip_protocol                  = "tcp"
  from_port                    = local.port
  to_port                      = local.port
  referenced_security_group_id = var.client_security_group_ids[count.index]
}

resource "aws_vpc_security_group_ingress_rule" "alb_from_cidrs" {
  for_each          = toset(var.client_cidr_blocks)
  security_group_id = aws_security_group.alb.id
  description       = "MLflow UI users"
  ip_protocol       = "tcp"
  from_port         = local.port
  to_port           = local.port
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "alb_to_task" {
  security_group_id            = aws_security_group.alb.id
  description                  = "MLflow tasks"
  ip_protocol                  = "tcp"
  from_port                    = 5000
  to_port                      = 5000
  referenced_security_group_id = aws_security_group.task.id
}

# ECR, Secrets Manager, Logs and S3 (artifacts, image layers): the network's workload group.
resource "aws_security_group" "task" {
  name        = "${local.name}-task"
  description = "MLflow tasks: from the ALB; to the database and AWS endpoints"
  vpc_id      = var.vpc.id
}

resource "aws_vpc_security_group_ingress_rule" "task_from_alb" {
  security_group_id            = aws_security_group.task.id
  description                  = "Load balancer"
  ip_protocol                  = "tcp"
  from_port                    = 5000
  to_port                      = 5000
  referenced_security_group_id = aws_security_group.alb.id
}

resource "aws_vpc_security_group_egress_rule" "task_to_db" {
  security_group_id            = aws_security_group.task.id
  description                  = "Backend store"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.db.id
}

resource "aws_security_group" "db" {
  name        = "${local.name}-db"
  description = "MLflow backend store: PostgreSQL from the MLflow tasks only"
  vpc_id      = var.vpc.id
}

resource "aws_vpc_security_group_ingress_rule" "db_from_task" {
  security_group_id            = aws_security_group.db.id
  description                  = "MLflow tasks"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.task.id
}

# ---------------------------------------------------------------------------------------------
# Backend store
# ---------------------------------------------------------------------------------------------
resource "aws_db_subnet_group" "mlflow" {
  name       = local.name
  subnet_ids = var.vpc.subnet_ids
}

resource "aws_db_instance" "mlflow" {
  #checkov:skip=CKV_AWS_157:Multi-AZ is a variable (db_multi_az); the tracking store is rebuildable metadata, so single-AZ is the cost-conscious default.
  #checkov:skip=CKV_AWS_118:Enhanced monitoring needs its own role and costs per instance; Performance Insights and CloudWatch log exports are on.
  #checkov:skip=CKV2_AWS_30:Statement logging would write run parameters into logs; the postgresql log export keeps errors and connections.
  identifier                          = local.name
  engine                              = "postgres"
  engine_version                      = var.db_engine_version
  instance_class                      = var.db_instance_class
  allocated_storage                   = var.db_allocated_storage
  max_allocated_storage               = var.db_allocated_storage * 5
  storage_type                        = "gp3"
  storage_encrypted                   = true
  kms_key_id                          = var.kms_key_arn
  db_name                             = "mlflow"
  username                            = "mlflow"
  manage_master_user_password         = true
  master_user_secret_kms_key_id       = var.kms_key_arn
  db_subnet_group_name                = aws_db_subnet_group.mlflow.name
  vpc_security_group_ids              = [aws_security_group.db.id]
  publicly_accessible                 = false
  multi_az                            = var.db_multi_az
  backup_retention_period             = 7
  copy_tags_to_snapshot               = true
  auto_minor_version_upgrade          = true
  iam_database_authentication_enabled = true
  deletion_protection                 = var.deletion_protection
  skip_final_snapshot                 = !var.deletion_protection
  final_snapshot_identifier           = "${local.name}-final"
  enabled_cloudwatch_logs_exports     = ["postgresql", "upgrade"]
  performance_insights_enabled        = true
  performance_insights_kms_key_id     = var.kms_key_arn
}

# ---------------------------------------------------------------------------------------------
# Load balancer
# ---------------------------------------------------------------------------------------------
resource "aws_lb" "mlflow" {
  #checkov:skip=CKV_AWS_91:Access logs need a separate log bucket with an ELB-writable policy; the MLflow server logs every request itself.
  #checkov:skip=CKV2_AWS_28:Internal load balancer reachable from the VPC only; WAF is for internet-facing endpoints.
  name                       = substr(local.name, 0, 32)
  internal                   = true
  load_balancer_type         = "application"
  security_groups            = [aws_security_group.alb.id]
  subnets                    = var.vpc.subnet_ids
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
}

resource "aws_lb_target_group" "mlflow" {
  name        = substr(local.name, 0, 32)
  port        = 5000
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = var.vpc.id

  health_check {
    path                = "/health"
    matcher             = "200"
    interval            = 30
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "mlflow" {
  #checkov:skip=CKV_AWS_2:Plain HTTP only when no certificate_arn is given, inside the VPC behind an internal load balancer; pass a certificate for HTTPS.
  #checkov:skip=CKV_AWS_103:See CKV_AWS_2: TLS policy applies when the HTTPS listener is used.
  #checkov:skip=CKV2_AWS_74:See CKV_AWS_2.
  load_balancer_arn = aws_lb.mlflow.arn
  port              = local.port
  protocol          = local.https ? "HTTPS" : "HTTP"
  ssl_policy        = local.https ? "ELBSecurityPolicy-TLS13-1-2-2021-06" : null
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.mlflow.arn
  }
}

# ---------------------------------------------------------------------------------------------
# ECS service
# ---------------------------------------------------------------------------------------------
resource "aws_ecs_cluster" "this" {
  name = "${var.name_prefix}-tracking"
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_cloudwatch_log_group" "mlflow" {
  name              = "/ecs/${local.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_iam_role" "execution" {
  name = "${local.name}-execution"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "execution" {
  name = "pull-image-read-db-secret"
  role = aws_iam_role.execution.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "PullImage"
        Effect   = "Allow"
        Action   = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
        Resource = [aws_ecr_repository.mlflow.arn]
      },
      {
        Sid      = "RegistryLogin"
        Effect   = "Allow"
        Action   = ["ecr:GetAuthorizationToken"]
        Resource = "*"
      },
      {
        Sid      = "Logs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${aws_cloudwatch_log_group.mlflow.arn}:*"]
      },
      {
        Sid      = "DatabaseSecret"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = [local.secret]
      },
      {
        Sid      = "Decrypt"
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = [var.kms_key_arn]
      },
    ]
  })
}

resource "aws_iam_role" "task" {
  name = "${local.name}-task"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "task" {
  name = "artifacts"
  role = aws_iam_role.task.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "ListArtifacts"
        Effect    = "Allow"
        Action    = ["s3:ListBucket"]
        Resource  = [var.artifacts_bucket.arn]
        Condition = { StringLike = { "s3:prefix" = ["${var.artifacts_prefix}/*", var.artifacts_prefix] } }
      },
      {
        Sid      = "ReadWriteArtifacts"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
        Resource = ["${var.artifacts_bucket.arn}/${var.artifacts_prefix}/*"]
      },
      {
        Sid      = "EncryptedArtifacts"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = [var.kms_key_arn]
      },
    ]
  })
}

resource "aws_ecs_task_definition" "mlflow" {
  family                   = local.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.task_cpu
  memory                   = var.task_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([{
    name                   = "mlflow"
    image                  = "${aws_ecr_repository.mlflow.repository_url}:${var.image_tag}"
    essential              = true
    readonlyRootFilesystem = true
    portMappings           = [{ containerPort = 5000, protocol = "tcp" }]
    mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
    environment = [
      { name = "MLFLOW_SERVER_ENABLE_JOB_EXECUTION", value = "false" },
      { name = "MLFLOW_ARTIFACTS_DESTINATION", value = local.artifacts },
      { name = "MLFLOW_DB_HOST", value = aws_db_instance.mlflow.address },
      { name = "MLFLOW_DB_PORT", value = tostring(aws_db_instance.mlflow.port) },
      { name = "MLFLOW_DB_NAME", value = aws_db_instance.mlflow.db_name },
      { name = "MLFLOW_ALLOWED_HOSTS", value = "${aws_lb.mlflow.dns_name},${aws_lb.mlflow.dns_name}:*,localhost:*,10.*,172.*,192.168.*" },
      { name = "MLFLOW_WORKERS", value = "2" },
      { name = "AWS_DEFAULT_REGION", value = data.aws_region.current.name },
      { name = "HOME", value = "/tmp" },
    ]
    # ECS reads the RDS-managed secret at task start: the password never appears in Terraform.
    secrets = [
      { name = "MLFLOW_DB_USER", valueFrom = "${local.secret}:username::" },
      { name = "MLFLOW_DB_PASSWORD", valueFrom = "${local.secret}:password::" },
    ]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.mlflow.name
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = "mlflow"
      }
    }
  }])
}

resource "aws_ecs_service" "mlflow" {
  name                   = "mlflow"
  cluster                = aws_ecs_cluster.this.id
  task_definition        = aws_ecs_task_definition.mlflow.arn
  desired_count          = var.desired_count
  launch_type            = "FARGATE"
  propagate_tags         = "SERVICE"
  enable_execute_command = false

  network_configuration {
    subnets          = var.vpc.subnet_ids
    security_groups  = concat(var.vpc.security_group_ids, [aws_security_group.task.id])
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.mlflow.arn
    container_name   = "mlflow"
    container_port   = 5000
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  depends_on = [aws_lb_listener.mlflow]
}
