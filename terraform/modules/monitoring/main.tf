# Monitoring: one alert topic, the alarms that matter (failed pipeline runs, ingest errors, stream
# lag, API 5xx, quarantine rate, dead letters; and on the data, the Monitor task's feature drift,
# segment share shift, run quarantine rate and segmented-users drop) all wired to it, and a
# dashboard.

data "aws_region" "current" {}

resource "aws_sns_topic" "alerts" {
  name              = "${var.name_prefix}-alerts"
  kms_master_key_id = var.kms_key_arn
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.alarm_emails)
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = each.value
}

locals {
  actions = [aws_sns_topic.alerts.arn]
  functions = {
    ingest       = var.ingest_function_name
    batch_ingest = var.batch_ingest_function_name
  }
}

resource "aws_cloudwatch_metric_alarm" "pipeline_failed" {
  alarm_name          = "${var.name_prefix}-pipeline-failed"
  alarm_description   = "A segmentation-pipeline execution failed, timed out or was aborted."
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions

  metric_query {
    id          = "unsuccessful"
    expression  = "failed + timedout + aborted"
    label       = "Unsuccessful executions"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = { failed = "ExecutionsFailed", timedout = "ExecutionsTimedOut", aborted = "ExecutionsAborted" }
    content {
      id = metric_query.key
      metric {
        namespace   = "AWS/States"
        metric_name = metric_query.value
        dimensions  = { StateMachineArn = var.state_machine_arn }
        period      = var.period_seconds
        stat        = "Sum"
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  for_each            = local.functions
  alarm_name          = "${var.name_prefix}-${each.key}-errors"
  alarm_description   = "The ${each.key} function raised errors (failed batches go to the failure queue)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "offset_lag" {
  count               = var.stream_mapping_enabled ? 1 : 0
  alarm_name          = "${var.name_prefix}-ingest-offset-lag"
  alarm_description   = "The MSK event source mapping is falling behind the topic."
  namespace           = "AWS/Lambda"
  metric_name         = "OffsetLag"
  dimensions          = { FunctionName = var.ingest_function_name }
  statistic           = "Maximum"
  period              = var.period_seconds
  evaluation_periods  = 3
  threshold           = var.offset_lag_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "api_5xx" {
  alarm_name          = "${var.name_prefix}-api-5xx"
  alarm_description   = "The segment API answers server errors."
  namespace           = "AWS/ApiGateway"
  metric_name         = "5XXError"
  dimensions          = { ApiName = var.api_name, Stage = var.api_stage }
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = 1
  threshold           = var.api_5xx_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "quarantine_rate" {
  alarm_name          = "${var.name_prefix}-quarantine-rate"
  alarm_description   = "More than ${var.quarantine_rate_percent}% of streamed records failed validation and went to quarantine."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.quarantine_rate_percent
  evaluation_periods  = 3
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions

  metric_query {
    id          = "rate"
    expression  = "IF(records > 0, 100 * quarantined / records, 0)"
    label       = "Quarantined %"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = { records = "RecordsIn", quarantined = "RecordsQuarantined" }
    content {
      id = metric_query.key
      metric {
        namespace   = var.metrics_namespace
        metric_name = metric_query.value
        dimensions  = { service = var.ingest_service }
        period      = var.period_seconds
        stat        = "Sum"
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  count               = var.failure_queue_name == null ? 0 : 1
  alarm_name          = "${var.name_prefix}-ingest-dead-letters"
  alarm_description   = "Failed ingest batches wait in the failure queue: nothing is dropped, someone must look."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = var.failure_queue_name }
  statistic           = "Maximum"
  period              = var.period_seconds
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

# The pipeline's Monitor task (segmentation.monitoring) sends each run's figures with dimension
# pipeline = the state machine's name, and publishes one SNS message itself when a threshold is
# crossed; these alarms hold the same thresholds (monitor_thresholds, also the function's
# SEG_MONITOR_*), so a dashboard, an alarm history and AWS's own notification see what it saw.
# One datapoint per run: Maximum (Minimum for a drop) over monitor_period_seconds, missing data is
# not breaching (no run, no alarm).
locals {
  monitor_alarms = {
    feature-drift = {
      metric      = "FeaturePsiMax"
      statistic   = "Maximum"
      comparison  = "GreaterThanThreshold"
      threshold   = var.monitor_thresholds.psi_max
      description = "A feature drifted: its PSI against the previous model version is above ${var.monitor_thresholds.psi_max}."
    }
    segment-shift = {
      metric      = "SegmentShareShiftMax"
      statistic   = "Maximum"
      comparison  = "GreaterThanThreshold"
      threshold   = var.monitor_thresholds.share_shift_max
      description = "A segment's share of the users moved by more than ${var.monitor_thresholds.share_shift_max} since the previous model version."
    }
    run-quarantine-rate = {
      metric      = "CleanQuarantineRate"
      statistic   = "Maximum"
      comparison  = "GreaterThanThreshold"
      threshold   = var.monitor_thresholds.quarantine_rate_max
      description = "The clean step quarantined more than a share ${var.monitor_thresholds.quarantine_rate_max} of a run's new rows."
    }
    segmented-users-drop = {
      metric      = "SegmentedUsersChange"
      statistic   = "Minimum"
      comparison  = "LessThanThreshold"
      threshold   = -var.monitor_thresholds.users_drop_max
      description = "Segmented users fell by more than a share ${var.monitor_thresholds.users_drop_max} since the previous model version."
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "monitor" {
  for_each            = local.monitor_alarms
  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = each.value.description
  namespace           = var.metrics_namespace
  metric_name         = each.value.metric
  dimensions          = { pipeline = var.pipeline_name }
  statistic           = each.value.statistic
  period              = var.monitor_period_seconds
  evaluation_periods  = 1
  threshold           = each.value.threshold
  comparison_operator = each.value.comparison
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

locals {
  region = data.aws_region.current.name
  # Monitor metrics: [namespace, name, "pipeline", <pipeline>], and a horizontal line per threshold.
  monitor_metric = { for m in ["FeaturePsiMax", "SegmentShareShiftMax", "SegmentAriVsPrevious", "CleanQuarantineRate", "CleanDuplicateShare", "CleanNullRateMax", "CleanNewRows", "SegmentedUsers", "SegmentedUsersChange"] : m => [var.metrics_namespace, m, "pipeline", var.pipeline_name] }
  threshold_line = { for k, a in local.monitor_alarms : a.metric => { label = "alarm: ${k}", value = a.threshold } }
  widgets = [
    {
      type = "metric", x = 0, y = 0, width = 12, height = 6
      properties = {
        title   = "Pipeline executions", region = local.region, stat = "Sum", period = var.period_seconds
        metrics = [for m in ["ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut"] : ["AWS/States", m, "StateMachineArn", var.state_machine_arn]]
      }
    },
    {
      type = "metric", x = 12, y = 0, width = 12, height = 6
      properties = {
        title   = "Ingested vs quarantined records", region = local.region, stat = "Sum", period = var.period_seconds
        metrics = [for m in ["RecordsIn", "RecordsValid", "RecordsQuarantined"] : [var.metrics_namespace, m, "service", var.ingest_service]]
      }
    },
    {
      type = "metric", x = 0, y = 6, width = 12, height = 6
      properties = {
        title = "Ingest functions", region = local.region, stat = "Sum", period = var.period_seconds
        metrics = concat(
          [for f in values(local.functions) : ["AWS/Lambda", "Errors", "FunctionName", f]],
          [for f in values(local.functions) : ["AWS/Lambda", "Invocations", "FunctionName", f]],
        )
      }
    },
    {
      type = "metric", x = 12, y = 6, width = 12, height = 6
      properties = {
        title   = "Stream offset lag", region = local.region, stat = "Maximum", period = var.period_seconds
        metrics = [["AWS/Lambda", "OffsetLag", "FunctionName", var.ingest_function_name]]
      }
    },
    {
      type = "metric", x = 0, y = 12, width = 24, height = 6
      properties = {
        title   = "Segment API", region = local.region, stat = "Sum", period = var.period_seconds
        metrics = [for m in ["Count", "4XXError", "5XXError"] : ["AWS/ApiGateway", m, "ApiName", var.api_name, "Stage", var.api_stage]]
      }
    },
    {
      type = "metric", x = 0, y = 18, width = 12, height = 6
      properties = {
        title = "Feature drift (PSI vs the previous model version)", region = local.region, stat = "Maximum", period = var.monitor_period_seconds
        metrics = [
          [{ expression = "SEARCH('{${var.metrics_namespace},feature,pipeline} MetricName=\"FeaturePsi\" pipeline=\"${var.pipeline_name}\"', 'Maximum', ${var.monitor_period_seconds})", id = "per_feature", label = "" }],
          concat(local.monitor_metric["FeaturePsiMax"], [{ id = "psi_max" }]),
        ]
        annotations = { horizontal = [local.threshold_line["FeaturePsiMax"]] }
      }
    },
    {
      type = "metric", x = 12, y = 18, width = 12, height = 6
      properties = {
        title       = "Segment stability (largest share shift, ARI vs previous)", region = local.region, stat = "Maximum", period = var.monitor_period_seconds
        metrics     = [local.monitor_metric["SegmentShareShiftMax"], local.monitor_metric["SegmentAriVsPrevious"]]
        annotations = { horizontal = [local.threshold_line["SegmentShareShiftMax"]] }
      }
    },
    {
      type = "metric", x = 0, y = 24, width = 12, height = 6
      properties = {
        title       = "Run data quality (clean step: quarantine rate, duplicate share, max null rate)", region = local.region, stat = "Maximum", period = var.monitor_period_seconds
        metrics     = [local.monitor_metric["CleanQuarantineRate"], local.monitor_metric["CleanDuplicateShare"], local.monitor_metric["CleanNullRateMax"]]
        annotations = { horizontal = [local.threshold_line["CleanQuarantineRate"]] }
      }
    },
    {
      type = "metric", x = 12, y = 24, width = 12, height = 6
      properties = {
        title = "Segmented users (and change vs the previous version), new rows", region = local.region, stat = "Maximum", period = var.monitor_period_seconds
        metrics = [
          local.monitor_metric["SegmentedUsers"],
          local.monitor_metric["CleanNewRows"],
          concat(local.monitor_metric["SegmentedUsersChange"], [{ stat = "Minimum", yAxis = "right" }]),
        ]
        annotations = { horizontal = [merge(local.threshold_line["SegmentedUsersChange"], { yAxis = "right" })] }
      }
    },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = "${var.name_prefix}-overview"
  dashboard_body = jsonencode({ widgets = local.widgets })
}
