# The wiring both environments share, on the mocked AWS. tests/artifacts holds stand-ins for
# `make package`'s output: only their paths and hashes are read.

mock_provider "aws" {
  source = "../../tests/mocks/aws"
}

# Glue job ARNs of AWS's shape (the orchestration module checks its jobs are among them).
override_resource {
  target = module.processing.aws_glue_job.this["clean"]
  values = { arn = "arn:aws:glue:eu-west-1:123456789012:job/seg-clean" }
}
override_resource {
  target = module.processing.aws_glue_job.this["features"]
  values = { arn = "arn:aws:glue:eu-west-1:123456789012:job/seg-features" }
}
override_resource {
  target = module.processing.aws_glue_job.this["backtest"]
  values = { arn = "arn:aws:glue:eu-west-1:123456789012:job/seg-backtest" }
}

variables {
  name_prefix      = "seg"
  lake_prefix      = "seg-prod"
  hmac_secret_name = "seg/hmac-key"
  segments_table   = "seg-segments"
  ledger_table     = "seg-ledger"
  kafka_topic      = "raw-events"
  environment_name = "aws"
  build_dir        = "tests/artifacts"
  vpc              = { id = "vpc-1", cidr_block = "10.40.0.0/16", subnet_ids = ["subnet-a", "subnet-b"], security_group_ids = ["sg-workloads"] }
  extra_layer_arns = ["arn:aws:lambda:eu-west-1:336392948345:layer:AWSSDKPandas-Python311:20"]
}

run "aws" {
  command = apply

  assert {
    condition     = length(module.tracking) == 1 && output.mlflow_tracking_uri == module.tracking[0].tracking_uri && local.function_env["SEG_MLFLOW_TRACKING_URI"] == output.mlflow_tracking_uri
    error_message = "MLflow deployed and named to every function and step"
  }
  assert {
    condition     = local.layers == [aws_lambda_layer_version.dependencies[0].arn, "arn:aws:lambda:eu-west-1:336392948345:layer:AWSSDKPandas-Python311:20"]
    error_message = "every function takes the dependency layer, then AWSSDKPandas"
  }
  assert {
    condition     = local.workload_vpc == var.vpc && module.processing.jobs_security_group_id != null
    error_message = "the workloads run in the VPC"
  }
  assert {
    condition     = !contains(keys(local.function_env), "SEG_AWS_ENDPOINT_URL") && local.function_env["SEG_ENVIRONMENT"] == "aws" && local.function_env["SEG_AWS_REGION"] == "eu-west-1"
    error_message = "functions use the SDK's AWS endpoints"
  }
  assert {
    condition     = output.orchestration.template_values.validate_input_function_arn == output.orchestration.validate_input_function_arn && output.orchestration.template_values.publish_function_arn == output.serving.publish_function_arn
    error_message = "the definition invokes this deployment's validate_input and publish"
  }
  assert {
    condition     = output.orchestration.template_values.monitor_function_arn == output.orchestration.monitor_function_arn && output.orchestration.monitor_function_name == "seg-monitor"
    error_message = "the definition's MonitorRun invokes this deployment's monitor"
  }
  assert {
    condition = (
      output.lake.stage_role_names["monitor"] == "seg-monitor" &&
      [var.monitor_thresholds.psi_max, var.monitor_thresholds.share_shift_max, var.monitor_thresholds.quarantine_rate_max, var.monitor_thresholds.users_drop_max] == [0.25, 0.15, 0.05, 0.5]
    )
    error_message = "the monitor stage of its own; the thresholds default to Settings' (SEG_MONITOR_*)"
  }
  assert {
    condition = alltrue([for k, v in {
      "feature-drift" = 0.25, "segment-shift" = 0.15, "run-quarantine-rate" = 0.05, "segmented-users-drop" = -0.5
    } : output.monitoring.monitor_alarms[k].threshold == v])
    error_message = "the alarms take the one set of thresholds the monitor function gets"
  }
  assert {
    condition     = alltrue([for n, p in local.lambda_packages : p.path == "tests/artifacts/lambda/${n}.zip" && p.hash != null]) && length(local.lambda_packages) == 6
    error_message = "the six function zips of make package, by path and hash"
  }
  assert {
    condition     = local.emr_venv != null
    error_message = "AWS uploads the EMR venv when built"
  }
  assert {
    condition     = output.ledger.table_name == "seg-ledger" && local.function_env["SEG_LEDGER_TABLE"] == "seg-ledger"
    error_message = "the run ledger's table, named to every function"
  }
  assert {
    condition     = output.campaigns.table_name == local.function_env["SEG_CAMPAIGNS_TABLE"] && output.campaigns.secret_name == local.function_env["SEG_CAMPAIGN_SECRET_NAME"] && output.campaigns.secret_name != output.lake.hmac_secret_name
    error_message = "the campaigns table and the arm key (a secret of its own), named to every function"
  }
  assert {
    condition     = keys(module.campaigns.reader_roles) == [output.lake.stage_role_names["serving"]]
    error_message = "the serving stage (segment_api, publish) uses the campaigns table and reads the arm key"
  }
  # The daily between-run assignment: its Glue job as its own stage role, started by the
  # scheduler's universal target, which may start that job only.
  assert {
    condition = (
      output.assignment_schedule.state == "ENABLED" && output.assignment_schedule.schedule_expression == "cron(0 4 * * ? *)" &&
      output.assignment_schedule.target_arn == "arn:aws:scheduler:::aws-sdk:glue:startJobRun" &&
      jsondecode(output.assignment_schedule.input) == { JobName = "seg-assign" }
    )
    error_message = "a daily schedule starts the Glue job seg-assign"
  }
  assert {
    condition     = jsondecode(output.assignment_schedule.policy).Statement == [{ Effect = "Allow", Action = ["glue:StartJobRun"], Resource = [output.processing.glue_job_arn["assign"]] }]
    error_message = "the schedule's role starts the assign job and nothing else"
  }
  assert {
    condition     = module.processing.glue_job_names["assign"] == "seg-assign" && output.lake.stage_role_names["assign"] == "seg-assign" && output.orchestration.template_values.glue_clean_job_name == "seg-clean"
    error_message = "the assign job is deployed beside clean and features, with a stage role of its own"
  }
  assert {
    condition     = alltrue([for j in ["clean", "features", "assign", "backtest"] : local.glue_scripts[j].path == "tests/artifacts/glue/${j}.py" && local.glue_scripts[j].hash != null])
    error_message = "the four Glue scripts of make package, by path and hash"
  }
  assert {
    condition = (
      output.processing.glue_job_role_arns["backtest"] == output.lake.stage_role_arns["evaluation"] &&
      output.processing.glue_job_role_arns["assign"] == output.lake.stage_role_arns["assign"] &&
      output.processing.glue_job_role_arns["clean"] == output.lake.stage_role_arns["etl"] &&
      output.processing.glue_job_role_arns["features"] == output.lake.stage_role_arns["etl"]
    )
    error_message = "the backtest job runs as the evaluation stage, assign as its own; clean and features as etl"
  }
  assert {
    condition     = output.orchestration.template_values.glue_backtest_job_name == output.processing.glue_job_names["backtest"]
    error_message = "the definition's BacktestSegments starts this deployment's backtest job"
  }
}

run "assignment_schedule_is_a_variable" {
  command = plan
  variables {
    assignment = { expression = "cron(30 5 * * ? *)", timezone = "Europe/Paris", enabled = false }
  }
  assert {
    condition     = module.assignment_schedule.schedule_expression == "cron(30 5 * * ? *)" && module.assignment_schedule.state == "DISABLED"
    error_message = "when and whether it fires is the deployment's choice"
  }
}

run "emulator" {
  command = apply
  variables {
    environment_name    = "local"
    emulator            = true
    aws_endpoint        = "http://127.0.0.1:5000"
    msk_mode            = "none"
    vpc                 = null
    workloads_in_vpc    = false
    mlflow_tracking_uri = "http://127.0.0.1:5001"
    schedule            = { enabled = false }
    protect_data        = false
    extra_layer_arns    = []
  }

  assert {
    condition     = length(module.tracking) == 0 && output.tracking == null && output.mlflow_tracking_uri == "http://127.0.0.1:5001"
    error_message = "no MLflow service: the given server"
  }
  assert {
    condition     = local.function_env["SEG_AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000" && local.function_env["SEG_ENVIRONMENT"] == "local"
    error_message = "functions name the emulator"
  }
  assert {
    condition     = local.workload_vpc == null && module.processing.jobs_security_group_id == null && local.emr_venv == null
    error_message = "nothing placed in a VPC, no venv upload"
  }
  assert {
    condition     = local.layers == [aws_lambda_layer_version.dependencies[0].arn]
    error_message = "the dependency layer when it was built"
  }
}

run "emulator_with_msk" {
  command = apply
  variables {
    environment_name    = "local"
    emulator            = true
    vpc                 = { id = "vpc-1", cidr_block = "10.40.0.0/16", subnet_ids = ["subnet-a", "subnet-b"], security_group_ids = [] }
    workloads_in_vpc    = false
    mlflow_tracking_uri = "http://127.0.0.1:5001"
  }

  assert {
    condition     = local.workload_vpc == null && module.processing.jobs_security_group_id == null && output.streaming.function_security_group_id != null
    error_message = "the VPC gives MSK and the ingest functions subnets, nothing else"
  }
}

run "monitor_thresholds_feed_the_function_and_the_alarms" {
  command = apply
  variables {
    monitor_thresholds = { psi_max = 0.3, users_drop_max = 0.25 }
  }

  assert {
    condition     = output.monitoring.monitor_alarms["feature-drift"].threshold == 0.3 && output.monitoring.monitor_alarms["segmented-users-drop"].threshold == -0.25 && output.monitoring.monitor_alarms["segment-shift"].threshold == 0.15
    error_message = "alarms follow monitor_thresholds (unset ones keep their default)"
  }
}

run "monitor_thresholds_validated" {
  command = plan
  variables {
    monitor_thresholds = { share_shift_max = 1.5 }
  }
  expect_failures = [var.monitor_thresholds]
}

run "mlflow_service_needs_a_vpc" {
  command = plan
  variables {
    vpc      = null
    msk_mode = "none"
  }
  expect_failures = [var.mlflow_tracking_uri]
}

run "timestamp_min_reaches_ingest_and_clean" {
  command = apply
  variables {
    timestamp_min = "1970-01-02"
  }

  assert {
    condition     = local.function_env["SEG_TIMESTAMP_MIN"] == "1970-01-02" && strcontains(output.processing.emr_spark_submit_parameters, "driverEnv.SEG_TIMESTAMP_MIN=1970-01-02")
    error_message = "one lower bound for the ingest functions (contract) and the clean step (its reason)"
  }
}

run "timestamp_min_validated" {
  command = plan
  variables {
    timestamp_min = "1997/01/01"
  }
  expect_failures = [var.timestamp_min]
}
