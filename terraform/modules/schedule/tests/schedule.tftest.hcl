mock_provider "aws" {
  source = "../../tests/mocks/aws"
}

variables {
  name                = "seg-assign-daily"
  description         = "Start the Glue job seg-assign"
  schedule_expression = "cron(0 4 * * ? *)"
  target_arn          = "arn:aws:scheduler:::aws-sdk:glue:startJobRun"
  input               = "{\"JobName\":\"seg-assign\"}"
  target_actions      = ["glue:StartJobRun"]
  target_resources    = ["arn:aws:glue:eu-west-1:123456789012:job/seg-assign"]
}

run "a_glue_job_daily" {
  command = apply

  assert {
    condition     = aws_scheduler_schedule.this.schedule_expression == "cron(0 4 * * ? *)" && aws_scheduler_schedule.this.state == "ENABLED" && aws_scheduler_schedule.this.schedule_expression_timezone == "UTC"
    error_message = "fires daily at 04:00 UTC"
  }
  assert {
    condition     = one(aws_scheduler_schedule.this.target).arn == var.target_arn && jsondecode(one(aws_scheduler_schedule.this.target).input).JobName == "seg-assign"
    error_message = "the universal target starts the one job"
  }
  assert {
    condition     = one(aws_scheduler_schedule.this.target).role_arn == aws_iam_role.this.arn && aws_iam_role.this.name == "seg-assign-daily-scheduler"
    error_message = "it runs as its own role"
  }
  assert {
    condition = jsondecode(aws_iam_role_policy.this.policy).Statement == [{
      Effect = "Allow", Action = ["glue:StartJobRun"], Resource = ["arn:aws:glue:eu-west-1:123456789012:job/seg-assign"]
    }]
    error_message = "the role may start that job and nothing else"
  }
  assert {
    condition = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0] == {
      Effect    = "Allow", Principal = { Service = "scheduler.amazonaws.com" }, Action = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = "123456789012" } }
    }
    error_message = "only the scheduler of this account assumes it"
  }
}

run "disabled" {
  command = apply
  variables {
    enabled  = false
    timezone = "Europe/Paris"
  }
  assert {
    condition     = aws_scheduler_schedule.this.state == "DISABLED" && aws_scheduler_schedule.this.schedule_expression_timezone == "Europe/Paris"
    error_message = "a disabled schedule in its time zone"
  }
}

run "a_bad_expression_is_refused" {
  command = plan
  variables {
    schedule_expression = "daily"
  }
  expect_failures = [var.schedule_expression]
}
