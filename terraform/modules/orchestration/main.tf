# Orchestration: the pipeline state machine from the one ASL template (the local runner renders
# the same file), its least-privilege role, execution logging, the weekly schedule, and the two
# functions only the definition calls: the input check and the Monitor task.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name
  account   = data.aws_caller_identity.current.account_id
  name      = "${var.name_prefix}-pipeline"

  # Exactly the template variables of step_functions/segmentation_pipeline.asl.json.
  template_values = {
    glue_clean_job_name         = var.glue_clean_job_name
    glue_features_job_name      = var.glue_features_job_name
    glue_backtest_job_name      = var.glue_backtest_job_name
    emr_application_id          = var.emr_application_id
    emr_job_role_arn            = var.emr_job_role_arn
    emr_cluster_entry_point     = var.emr_cluster_entry_point
    emr_spark_submit_parameters = var.emr_spark_submit_parameters
    publish_function_arn        = var.publish_function_arn
    validate_input_function_arn = module.validate_input.arn
    monitor_function_arn        = module.monitor.arn
    notify_topic_arn            = var.notify_topic_arn
    lake_prefix                 = var.lake_prefix
    mlflow_tracking_uri         = var.mlflow_tracking_uri
  }
  definition = templatefile(var.definition_path, local.template_values)
  functions  = concat([var.publish_function_arn, module.validate_input.arn, module.monitor.arn], var.extra_function_arns)

  # The Monitor's metrics (segmentation.monitoring.NAMESPACE); its `pipeline` dimension is this
  # state machine's name, which the monitoring module's alarms watch.
  metrics_namespace = "Segmentation"
  monitor_environment = {
    POWERTOOLS_SERVICE_NAME         = "monitor"
    SEG_ALERT_TOPIC_ARN             = var.notify_topic_arn
    SEG_PIPELINE_NAME               = local.name
    SEG_MONITOR_PSI_MAX             = tostring(var.monitor_thresholds.psi_max)
    SEG_MONITOR_SHARE_SHIFT_MAX     = tostring(var.monitor_thresholds.share_shift_max)
    SEG_MONITOR_QUARANTINE_RATE_MAX = tostring(var.monitor_thresholds.quarantine_rate_max)
    SEG_MONITOR_USERS_DROP_MAX      = tostring(var.monitor_thresholds.users_drop_max)
  }
}

# The definition's first Task: the execution input against its model, before any job starts. It
# reads no data, so it runs outside the VPC as a role of its own (logs and X-Ray only).
module "validate_input" {
  source             = "../lambda_function"
  function_name      = "${var.name_prefix}-validate-input"
  description        = "Step Functions task: the execution input against the parameter models; an unknown field fails with InvalidInput"
  create_role        = true
  package            = var.validate_input_package
  layer_arns         = var.layer_arns
  environment        = merge(var.function_environment, { POWERTOOLS_SERVICE_NAME = "validate_input" })
  kms_key_arn        = var.kms_key_arn
  memory_mb          = 256
  timeout_seconds    = 30
  log_retention_days = var.log_retention_days
}

# The Monitor task, after clustering and before publish: the run's data quality, feature drift and
# segment shift as CloudWatch metrics, one SNS message when a threshold is crossed, and the drift
# gate's verdict (flip or hold). It reads lake data (the segments zone's model documents, the
# curated zone's quality reports), so it runs as the lake's monitor stage role, in the VPC.
module "monitor" {
  source             = "../lambda_function"
  function_name      = "${var.name_prefix}-monitor"
  description        = "Step Functions task: a run's quality, drift and segment-shift figures -> CloudWatch, an SNS alert on a crossed threshold, the drift gate"
  role_arn           = var.monitor_role.arn
  role_name          = var.monitor_role.name
  package            = var.monitor_package
  layer_arns         = var.layer_arns
  environment        = merge(var.function_environment, local.monitor_environment)
  kms_key_arn        = var.kms_key_arn
  memory_mb          = var.monitor_memory_mb
  timeout_seconds    = var.monitor_timeout_seconds
  log_retention_days = var.log_retention_days
  subnet_ids         = var.vpc == null ? [] : var.vpc.subnet_ids
  security_group_ids = var.vpc == null ? [] : var.vpc.security_group_ids
}

# What the monitor does beyond reading the lake (its stage role's lake-access policy): metrics in
# the Segmentation namespace only, and alerts to the one topic (encrypted with the lake's key).
resource "aws_iam_role_policy" "monitor" {
  name = "monitor-metrics-and-alerts"
  role = var.monitor_role.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # PutMetricData takes no resource ARN; the namespace condition scopes it.
        Sid       = "PutMonitorMetrics"
        Effect    = "Allow"
        Action    = ["cloudwatch:PutMetricData"]
        Resource  = "*"
        Condition = { StringEquals = { "cloudwatch:namespace" = local.metrics_namespace } }
      },
      {
        Sid      = "PublishAlerts"
        Effect   = "Allow"
        Action   = ["sns:Publish"]
        Resource = [var.notify_topic_arn]
      },
      {
        Sid      = "EncryptedTopic"
        Effect   = "Allow"
        Action   = ["kms:GenerateDataKey", "kms:Decrypt"]
        Resource = [var.kms_key_arn]
      },
    ]
  })
}

resource "aws_cloudwatch_log_group" "pipeline" {
  name              = "/aws/vendedlogs/states/${local.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_iam_role" "pipeline" {
  name        = "${local.name}-states"
  description = "Step Functions ${local.name}: runs exactly its jobs and functions"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "states.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account } }
    }]
  })
}

resource "aws_iam_role_policy" "pipeline" {
  name = "run-pipeline"
  role = aws_iam_role.pipeline.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "GlueJobs"
        Effect   = "Allow"
        Action   = ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"]
        Resource = var.glue_job_arns
      },
      {
        Sid      = "EmrServerlessStart"
        Effect   = "Allow"
        Action   = ["emr-serverless:StartJobRun"]
        Resource = [var.emr_application_arn]
      },
      {
        Sid      = "EmrServerlessJobRuns"
        Effect   = "Allow"
        Action   = ["emr-serverless:GetJobRun", "emr-serverless:CancelJobRun"]
        Resource = ["${var.emr_application_arn}/jobruns/*"]
      },
      {
        Sid       = "PassEmrJobRole"
        Effect    = "Allow"
        Action    = ["iam:PassRole"]
        Resource  = [var.emr_job_role_arn]
        Condition = { StringEquals = { "iam:PassedToService" = "emr-serverless.amazonaws.com" } }
      },
      {
        # The .sync integration with EMR Serverless waits on this managed rule.
        Sid      = "EmrServerlessSyncRule"
        Effect   = "Allow"
        Action   = ["events:PutTargets", "events:PutRule", "events:DescribeRule"]
        Resource = ["arn:${local.partition}:events:${local.region}:${local.account}:rule/StepFunctionsGetEventsForEMRServerlessJobRule"]
      },
      {
        Sid      = "InvokeFunctions"
        Effect   = "Allow"
        Action   = ["lambda:InvokeFunction"]
        Resource = concat(local.functions, [for f in local.functions : "${f}:*"])
      },
      {
        Sid      = "NotifyFailure"
        Effect   = "Allow"
        Action   = ["sns:Publish"]
        Resource = [var.notify_topic_arn]
      },
      {
        Sid      = "EncryptedTopic"
        Effect   = "Allow"
        Action   = ["kms:GenerateDataKey", "kms:Decrypt"]
        Resource = [var.kms_key_arn]
      },
      {
        # Log delivery and X-Ray APIs take no resource ARNs.
        Sid      = "ExecutionLogsAndTraces"
        Effect   = "Allow"
        Action   = ["logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups", "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
        Resource = "*"
      },
    ]
  })
}

resource "aws_sfn_state_machine" "pipeline" {
  name       = local.name
  role_arn   = aws_iam_role.pipeline.arn
  type       = "STANDARD"
  definition = local.definition

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.pipeline.arn}:*"
    include_execution_data = true # pipeline inputs carry parameters only, never user ids
    level                  = var.log_level
  }

  tracing_configuration {
    enabled = true
  }

  depends_on = [aws_iam_role_policy.pipeline]
}

# ---------------------------------------------------------------------------------------------
# Weekly schedule
# ---------------------------------------------------------------------------------------------
module "schedule" {
  source              = "../schedule"
  name                = "${local.name}-weekly"
  role_name           = "${local.name}-scheduler"
  description         = "Start ${local.name}"
  schedule_expression = var.schedule_expression
  timezone            = var.schedule_timezone
  enabled             = var.schedule_enabled
  target_arn          = aws_sfn_state_machine.pipeline.arn
  input               = jsonencode(var.schedule_input)
  target_actions      = ["states:StartExecution"]
  target_resources    = [aws_sfn_state_machine.pipeline.arn]
  policy_name         = "start-pipeline"
}

moved {
  from = aws_iam_role.scheduler
  to   = module.schedule.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.scheduler
  to   = module.schedule.aws_iam_role_policy.this
}

moved {
  from = aws_scheduler_schedule.pipeline
  to   = module.schedule.aws_scheduler_schedule.this
}
