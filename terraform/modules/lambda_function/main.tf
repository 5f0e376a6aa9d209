# One Lambda function the way this project runs them all: its log group (KMS, retention), X-Ray,
# encrypted environment, optional VPC and dead-letter queue, and the runtime permissions it needs
# added to its (shared, per-stage) execution role.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  log_group_arn = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:/aws/lambda/${var.function_name}"
  in_vpc        = length(var.subnet_ids) > 0
  role_arn      = var.create_role ? aws_iam_role.own[0].arn : var.role_arn
  role_name     = var.create_role ? aws_iam_role.own[0].name : var.role_name
}

# A function that touches no lake data (e.g. the state machine's input check) runs as a role of
# its own, holding only the runtime permissions below.
resource "aws_iam_role" "own" {
  count       = var.create_role ? 1 : 0
  name        = var.function_name
  description = "Lambda ${var.function_name}: its runtime permissions only (logs, X-Ray)"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_iam_role_policy" "runtime" {
  name = "lambda-${var.function_name}"
  role = local.role_name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid      = "WriteOwnLogs"
          Effect   = "Allow"
          Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
          Resource = ["${local.log_group_arn}:*"]
        },
        {
          Sid      = "Tracing"
          Effect   = "Allow"
          Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
          Resource = "*"
        },
        {
          Sid      = "DecryptEnvironment"
          Effect   = "Allow"
          Action   = ["kms:Decrypt"]
          Resource = [var.kms_key_arn]
        },
      ],
      local.in_vpc ? [
        {
          # ENI management cannot be scoped by resource: Lambda creates the interfaces itself.
          Sid      = "VpcNetworkInterfaces"
          Effect   = "Allow"
          Action   = ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"]
          Resource = "*"
        },
      ] : [],
      var.dead_letter_queue_arn == null ? [] : [
        {
          Sid      = "DeadLetters"
          Effect   = "Allow"
          Action   = ["sqs:SendMessage"]
          Resource = [var.dead_letter_queue_arn]
        },
        {
          Sid      = "EncryptDeadLetters"
          Effect   = "Allow"
          Action   = ["kms:GenerateDataKey"]
          Resource = [var.kms_key_arn]
        },
      ],
    )
  })
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile per account; packages come from this repository's CI build and are pinned by source_code_hash.
  #checkov:skip=CKV_AWS_116:A dead-letter queue is set wherever the function is invoked asynchronously (dead_letter_queue_arn); synchronous callers (API Gateway, Step Functions, the MSK mapping's on-failure destination) handle failures themselves.
  #checkov:skip=CKV_AWS_117:Functions run in the VPC whenever subnets are given (every function in envs/aws); the emulator environment has no VPC.
  #checkov:skip=CKV_AWS_115:Reserved concurrency is a variable (reserved_concurrency); the default leaves the account pool shared rather than starving other functions.
  function_name                  = var.function_name
  description                    = var.description
  role                           = local.role_arn
  filename                       = var.package.path
  source_code_hash               = var.package.hash
  handler                        = var.handler
  runtime                        = var.runtime
  memory_size                    = var.memory_mb
  timeout                        = var.timeout_seconds
  layers                         = var.layer_arns
  kms_key_arn                    = var.kms_key_arn
  reserved_concurrent_executions = var.reserved_concurrency
  architectures                  = ["x86_64"]

  environment {
    variables = var.environment
  }

  tracing_config {
    mode = var.tracing_mode
  }

  dynamic "vpc_config" {
    for_each = local.in_vpc ? [1] : []
    content {
      subnet_ids         = var.subnet_ids
      security_group_ids = var.security_group_ids
    }
  }

  dynamic "dead_letter_config" {
    for_each = var.dead_letter_queue_arn == null ? [] : [var.dead_letter_queue_arn]
    content {
      target_arn = dead_letter_config.value
    }
  }

  lifecycle {
    precondition {
      condition     = var.create_role != (var.role_arn != null && var.role_name != null)
      error_message = "Give the execution role (role_arn and role_name) or create_role = true, not both."
    }
    precondition {
      condition     = var.package.hash != null
      error_message = "Deployment package ${var.package.path} is missing: run `make package` first."
    }
  }

  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.runtime]
}
