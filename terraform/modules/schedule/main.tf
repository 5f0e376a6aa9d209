# One EventBridge Scheduler schedule and the role it runs as, allowed exactly the actions its
# target needs on exactly its resources. The pipeline's weekly run (a Step Functions execution)
# and the daily between-run assignment (a Glue job run, through the scheduler's universal target)
# are two instances.

data "aws_caller_identity" "current" {}

resource "aws_iam_role" "this" {
  name        = coalesce(var.role_name, "${var.name}-scheduler")
  description = "EventBridge Scheduler: ${var.description}"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "scheduler.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
    }]
  })
}

resource "aws_iam_role_policy" "this" {
  name = var.policy_name
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = var.target_actions
      Resource = var.target_resources
    }]
  })
}

resource "aws_scheduler_schedule" "this" {
  #checkov:skip=CKV_AWS_297:The schedules' inputs hold only job names and algorithm parameters, never user data; an AWS-owned key is enough.
  name                         = var.name
  description                  = "${var.description} (${var.schedule_expression} ${var.timezone})"
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = var.timezone
  state                        = var.enabled ? "ENABLED" : "DISABLED"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = var.target_arn
    role_arn = aws_iam_role.this.arn
    input    = var.input

    retry_policy {
      maximum_retry_attempts       = var.maximum_retry_attempts
      maximum_event_age_in_seconds = var.maximum_event_age_seconds
    }
  }
}
