mock_provider "aws" {
  source = "../../tests/mocks/aws"
}

override_resource {
  target = module.validate_input.aws_lambda_function.this
  values = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:seg-validate-input" }
}
override_resource {
  target = module.validate_input.aws_iam_role.own
  values = { arn = "arn:aws:iam::123456789012:role/seg-validate-input", name = "seg-validate-input" }
}
override_resource {
  target = module.monitor.aws_lambda_function.this
  values = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:seg-monitor" }
}

variables {
  name_prefix                 = "seg"
  definition_path             = "../../../step_functions/segmentation_pipeline.asl.json"
  lake_prefix                 = "seg-prod"
  glue_clean_job_name         = "seg-clean"
  glue_features_job_name      = "seg-features"
  glue_backtest_job_name      = "seg-backtest"
  glue_job_arns               = ["arn:aws:glue:eu-west-1:123456789012:job/seg-clean", "arn:aws:glue:eu-west-1:123456789012:job/seg-features", "arn:aws:glue:eu-west-1:123456789012:job/seg-backtest"]
  emr_application_id          = "00abc"
  emr_application_arn         = "arn:aws:emr-serverless:eu-west-1:123456789012:/applications/00abc"
  emr_job_role_arn            = "arn:aws:iam::123456789012:role/seg-ml"
  emr_cluster_entry_point     = "s3://seg-prod-artifacts/emr/cluster.py"
  emr_spark_submit_parameters = "--conf spark.executorEnv.SEG_LAKE_PREFIX=seg-prod"
  publish_function_arn        = "arn:aws:lambda:eu-west-1:123456789012:function:seg-publish"
  validate_input_package      = { path = "build/lambda/validate_input.zip", hash = "aA==" }
  monitor_package             = { path = "build/lambda/monitor.zip", hash = "bA==" }
  monitor_role                = { arn = "arn:aws:iam::123456789012:role/seg-monitor", name = "seg-monitor" }
  monitor_thresholds          = { psi_max = 0.25, share_shift_max = 0.15, quarantine_rate_max = 0.05, users_drop_max = 0.5 }
  function_environment        = { SEG_LAKE_PREFIX = "seg-prod", POWERTOOLS_LOG_LEVEL = "INFO" }
  layer_arns                  = ["arn:aws:lambda:eu-west-1:123456789012:layer:seg-dependencies:1"]
  notify_topic_arn            = "arn:aws:sns:eu-west-1:123456789012:seg-alerts"
  mlflow_tracking_uri         = "http://mlflow.internal"
  kms_key_arn                 = "arn:aws:kms:eu-west-1:123456789012:key/k"
}

run "definition_is_the_rendered_template" {
  command = apply

  assert {
    condition     = aws_sfn_state_machine.pipeline.name == "seg-pipeline" && aws_sfn_state_machine.pipeline.type == "STANDARD"
    error_message = "standard state machine '<prefix>-pipeline'"
  }
  assert {
    condition     = !strcontains(aws_sfn_state_machine.pipeline.definition, "$${")
    error_message = "every template variable is filled"
  }
  assert {
    condition = (
      strcontains(aws_sfn_state_machine.pipeline.definition, "\"seg-clean\"") &&
      strcontains(aws_sfn_state_machine.pipeline.definition, "\"seg-features\"") &&
      strcontains(aws_sfn_state_machine.pipeline.definition, "\"seg-backtest\"") &&
      strcontains(aws_sfn_state_machine.pipeline.definition, "\"00abc\"") &&
      strcontains(aws_sfn_state_machine.pipeline.definition, var.publish_function_arn) &&
      strcontains(aws_sfn_state_machine.pipeline.definition, "\"arn:aws:lambda:eu-west-1:123456789012:function:seg-validate-input\"") &&
      strcontains(aws_sfn_state_machine.pipeline.definition, "\"arn:aws:lambda:eu-west-1:123456789012:function:seg-monitor\"") &&
      strcontains(aws_sfn_state_machine.pipeline.definition, var.notify_topic_arn)
    )
    error_message = "the definition runs exactly these jobs and functions"
  }
  assert {
    condition     = can(jsondecode(aws_sfn_state_machine.pipeline.definition).StartAt)
    error_message = "valid JSON with a StartAt"
  }
}

run "the_backtest_job_runs_after_publish" {
  command = apply

  assert {
    condition     = jsondecode(aws_sfn_state_machine.pipeline.definition).States.BacktestSegments.Parameters.JobName == "seg-backtest" && jsondecode(aws_sfn_state_machine.pipeline.definition).States.PublishSegments.Next == "BacktestWanted"
    error_message = "BacktestSegments starts the backtest job, after publish"
  }
  assert {
    condition     = contains(one([for s in jsondecode(aws_iam_role_policy.pipeline.policy).Statement : s.Resource if s.Sid == "GlueJobs"]), "arn:aws:glue:eu-west-1:123456789012:job/seg-backtest")
    error_message = "the state machine's role may start the backtest job"
  }
}

run "every_job_the_definition_starts_is_in_glue_job_arns" {
  command = plan
  variables {
    glue_job_arns = ["arn:aws:glue:eu-west-1:123456789012:job/seg-clean", "arn:aws:glue:eu-west-1:123456789012:job/seg-features"]
  }
  expect_failures = [var.glue_job_arns]
}

run "role_runs_only_its_jobs_and_functions" {
  command = apply

  assert {
    condition     = toset(one([for s in jsondecode(aws_iam_role_policy.pipeline.policy).Statement : s.Resource if s.Sid == "GlueJobs"])) == toset(var.glue_job_arns)
    error_message = "Glue: exactly the three jobs"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.pipeline.policy).Statement : s.Resource if s.Sid == "EmrServerlessStart"]) == [var.emr_application_arn]
    error_message = "EMR: exactly the application"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.pipeline.policy).Statement : s if s.Sid == "PassEmrJobRole"]).Condition.StringEquals["iam:PassedToService"] == "emr-serverless.amazonaws.com"
    error_message = "the job role is passed to EMR Serverless only"
  }
  assert {
    condition = toset(one([for s in jsondecode(aws_iam_role_policy.pipeline.policy).Statement : s.Resource if s.Sid == "InvokeFunctions"])) == toset([
      var.publish_function_arn, "${var.publish_function_arn}:*", output.validate_input_function_arn, "${output.validate_input_function_arn}:*",
      output.monitor_function_arn, "${output.monitor_function_arn}:*",
    ])
    error_message = "Lambda: exactly publish, validate_input and monitor"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.pipeline.policy).Statement : s.Resource if s.Sid == "NotifyFailure"]) == [var.notify_topic_arn]
    error_message = "SNS: exactly the alert topic"
  }
}

run "logging_and_schedule" {
  command = apply

  assert {
    condition     = one(aws_sfn_state_machine.pipeline.logging_configuration).level == "ALL" && one(aws_sfn_state_machine.pipeline.tracing_configuration).enabled
    error_message = "execution logging and tracing on"
  }
  assert {
    condition     = module.schedule.schedule_expression == "cron(0 3 ? * MON *)" && module.schedule.state == "ENABLED"
    error_message = "weekly schedule"
  }
  assert {
    condition     = module.schedule.target_arn == aws_sfn_state_machine.pipeline.arn
    error_message = "the schedule starts the pipeline"
  }
  assert {
    condition     = jsondecode(module.schedule.policy).Statement == [{ Effect = "Allow", Action = ["states:StartExecution"], Resource = [aws_sfn_state_machine.pipeline.arn] }]
    error_message = "the scheduler may start only this state machine"
  }
}

run "schedule_input_and_disable" {
  command = apply
  variables {
    schedule_enabled = false
    schedule_input   = { algorithm = "dbscan", eps = 1.2 }
  }

  assert {
    condition     = module.schedule.state == "DISABLED" && jsondecode(module.schedule.input).algorithm == "dbscan"
    error_message = "scheduled input carries the algorithm and its parameters"
  }
}

run "validate_input_checks_the_input_first" {
  command = apply

  assert {
    condition     = output.template_values.validate_input_function_arn == "arn:aws:lambda:eu-west-1:123456789012:function:seg-validate-input" && output.validate_input_function_name == "seg-validate-input"
    error_message = "the definition's input check is this module's validate_input function"
  }
  assert {
    condition     = module.validate_input.role_arn == "arn:aws:iam::123456789012:role/seg-validate-input" && module.validate_input.vpc_config == null
    error_message = "its own role (logs and X-Ray only, see the lambda_function module's tests), outside the VPC: it reads no data"
  }
}

run "the_monitor_task_runs_the_monitor_function" {
  command = apply

  assert {
    condition     = output.template_values.monitor_function_arn == "arn:aws:lambda:eu-west-1:123456789012:function:seg-monitor" && output.monitor_function_name == "seg-monitor"
    error_message = "the definition's MonitorRun invokes this module's monitor function"
  }
  assert {
    condition = (
      jsondecode(aws_sfn_state_machine.pipeline.definition).States.ClusterUsers.Next == "MonitorRun" &&
      jsondecode(aws_sfn_state_machine.pipeline.definition).States.MonitorRun.Next == "PublishSegments" &&
      jsondecode(aws_sfn_state_machine.pipeline.definition).States.MonitorRun.Parameters.FunctionName == output.monitor_function_arn &&
      jsondecode(aws_sfn_state_machine.pipeline.definition).States.PublishSegments.Parameters.Payload["flip.$"] == "$.steps.monitor.flip"
    )
    error_message = "MonitorRun between ClusterUsers and PublishSegments, its flip reaching publish"
  }
  assert {
    condition     = module.monitor.role_arn == var.monitor_role.arn && module.monitor.vpc_config == null
    error_message = "the lake's monitor stage role; outside a VPC when none is given"
  }
  assert {
    condition = (
      local.monitor_environment["SEG_ALERT_TOPIC_ARN"] == var.notify_topic_arn &&
      local.monitor_environment["SEG_PIPELINE_NAME"] == output.pipeline_name &&
      output.pipeline_name == aws_sfn_state_machine.pipeline.name &&
      local.monitor_environment["POWERTOOLS_SERVICE_NAME"] == "monitor"
    )
    error_message = "the function environment plus the alert topic and the pipeline dimension (the state machine's name)"
  }
  assert {
    condition = alltrue([for k, v in {
      SEG_MONITOR_PSI_MAX             = var.monitor_thresholds.psi_max
      SEG_MONITOR_SHARE_SHIFT_MAX     = var.monitor_thresholds.share_shift_max
      SEG_MONITOR_QUARANTINE_RATE_MAX = var.monitor_thresholds.quarantine_rate_max
      SEG_MONITOR_USERS_DROP_MAX      = var.monitor_thresholds.users_drop_max
    } : tonumber(local.monitor_environment[k]) == v])
    error_message = "the thresholds the alarms use reach the function as SEG_MONITOR_*"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.monitor.policy).Statement : s if s.Sid == "PutMonitorMetrics"]).Condition.StringEquals["cloudwatch:namespace"] == "Segmentation"
    error_message = "PutMetricData only in the Segmentation namespace"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.monitor.policy).Statement : s.Resource if s.Sid == "PublishAlerts"]) == [var.notify_topic_arn] && aws_iam_role_policy.monitor.role == "seg-monitor"
    error_message = "sns:Publish on the alert topic only, attached to the monitor stage role"
  }
}

run "the_monitor_runs_in_the_vpc_when_given" {
  command = apply
  variables {
    vpc = { subnet_ids = ["subnet-a", "subnet-b"], security_group_ids = ["sg-workloads"] }
  }

  assert {
    condition     = module.monitor.vpc_config != null && module.validate_input.vpc_config == null
    error_message = "the monitor reads lake data inside the VPC; the input check stays outside"
  }
}
