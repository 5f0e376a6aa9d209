mock_provider "aws" {
  source = "../../tests/mocks/aws"
}

variables {
  name_prefix                = "seg"
  kms_key_arn                = "arn:aws:kms:eu-west-1:123456789012:key/k"
  state_machine_arn          = "arn:aws:states:eu-west-1:123456789012:stateMachine:seg-pipeline"
  ingest_function_name       = "seg-ingest"
  batch_ingest_function_name = "seg-batch-ingest"
  failure_queue_name         = "seg-ingest-failures"
  api_name                   = "seg-segments"
  api_stage                  = "v1"
  alarm_emails               = ["oncall@example.com"]
  pipeline_name              = "seg-pipeline"
  monitor_thresholds         = { psi_max = 0.2, share_shift_max = 0.1, quarantine_rate_max = 0.03, users_drop_max = 0.4 }
}

run "every_alarm_notifies_the_topic" {
  command = apply

  assert {
    condition = alltrue([for a in concat(
      [aws_cloudwatch_metric_alarm.pipeline_failed, aws_cloudwatch_metric_alarm.api_5xx, aws_cloudwatch_metric_alarm.quarantine_rate],
      values(aws_cloudwatch_metric_alarm.function_errors), aws_cloudwatch_metric_alarm.offset_lag, aws_cloudwatch_metric_alarm.dead_letters,
      values(aws_cloudwatch_metric_alarm.monitor),
    ) : a.alarm_actions == toset([aws_sns_topic.alerts.arn]) && a.ok_actions == toset([aws_sns_topic.alerts.arn])])
    error_message = "alarms (and recoveries) go to the SNS topic"
  }
  assert {
    condition     = length(output.alarm_names) == 11
    error_message = "pipeline, 2 function errors, offset lag, API 5xx, quarantine rate, dead letters; the Monitor's feature drift, segment shift, run quarantine rate, users drop"
  }
  assert {
    condition     = aws_sns_topic.alerts.kms_master_key_id == var.kms_key_arn
    error_message = "topic encrypted"
  }
  assert {
    condition     = aws_sns_topic_subscription.email["oncall@example.com"].protocol == "email"
    error_message = "mail subscription"
  }
}

run "alarms_watch_the_right_metrics" {
  command = apply

  assert {
    condition     = alltrue([for q in aws_cloudwatch_metric_alarm.pipeline_failed.metric_query : q.id == "unsuccessful" ? true : one(q.metric).dimensions["StateMachineArn"] == var.state_machine_arn])
    error_message = "failed executions of the pipeline"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.function_errors["ingest"].dimensions["FunctionName"] == "seg-ingest" && aws_cloudwatch_metric_alarm.function_errors["ingest"].metric_name == "Errors"
    error_message = "ingest errors"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.offset_lag[0].metric_name == "OffsetLag" && aws_cloudwatch_metric_alarm.offset_lag[0].namespace == "AWS/Lambda"
    error_message = "event source mapping offset lag"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.api_5xx.dimensions == tomap({ ApiName = "seg-segments", Stage = "v1" }) && aws_cloudwatch_metric_alarm.api_5xx.metric_name == "5XXError"
    error_message = "API 5xx"
  }
  assert {
    condition = toset([for q in aws_cloudwatch_metric_alarm.quarantine_rate.metric_query : one(q.metric).metric_name if q.id != "rate"]) == toset(["RecordsIn", "RecordsQuarantined"]) && alltrue([
    for q in aws_cloudwatch_metric_alarm.quarantine_rate.metric_query : q.id == "rate" ? true : one(q.metric).dimensions["service"] == "ingest"])
    error_message = "quarantine rate from the ingest function's EMF metrics"
  }
  assert {
    condition     = one([for q in aws_cloudwatch_metric_alarm.quarantine_rate.metric_query : q.expression if q.id == "rate"]) == "IF(records > 0, 100 * quarantined / records, 0)"
    error_message = "rate in percent, 0 without traffic"
  }
}

run "no_stream_no_lag_alarm" {
  command = apply
  variables {
    stream_mapping_enabled = false
    failure_queue_name     = null
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.offset_lag) == 0 && length(aws_cloudwatch_metric_alarm.dead_letters) == 0
    error_message = "alarms only for what exists"
  }
}

# The Monitor task's figures (segmentation.monitoring.METRICS, namespace Segmentation, dimension
# pipeline): each alarm watches exactly the metric the function sends, with the threshold the
# function itself compares against (monitor_thresholds, its SEG_MONITOR_*).
run "monitor_alarms_match_the_monitor_metrics" {
  command = apply

  assert {
    condition = alltrue([for k, expected in {
      feature-drift        = { metric = "FeaturePsiMax", statistic = "Maximum", comparison = "GreaterThanThreshold", threshold = var.monitor_thresholds.psi_max }
      segment-shift        = { metric = "SegmentShareShiftMax", statistic = "Maximum", comparison = "GreaterThanThreshold", threshold = var.monitor_thresholds.share_shift_max }
      run-quarantine-rate  = { metric = "CleanQuarantineRate", statistic = "Maximum", comparison = "GreaterThanThreshold", threshold = var.monitor_thresholds.quarantine_rate_max }
      segmented-users-drop = { metric = "SegmentedUsersChange", statistic = "Minimum", comparison = "LessThanThreshold", threshold = -var.monitor_thresholds.users_drop_max }
      } : (
      aws_cloudwatch_metric_alarm.monitor[k].metric_name == expected.metric &&
      aws_cloudwatch_metric_alarm.monitor[k].statistic == expected.statistic &&
      aws_cloudwatch_metric_alarm.monitor[k].comparison_operator == expected.comparison &&
      aws_cloudwatch_metric_alarm.monitor[k].threshold == expected.threshold
    )]) && length(aws_cloudwatch_metric_alarm.monitor) == 4
    error_message = "FeaturePsiMax > psi_max, SegmentShareShiftMax > share_shift_max, CleanQuarantineRate > quarantine_rate_max, SegmentedUsersChange < -users_drop_max"
  }
  assert {
    condition = alltrue([for a in aws_cloudwatch_metric_alarm.monitor : (
      a.namespace == "Segmentation" && a.dimensions == tomap({ pipeline = "seg-pipeline" }) &&
      a.treat_missing_data == "notBreaching" && a.period == var.monitor_period_seconds && a.evaluation_periods == 1
    )])
    error_message = "namespace Segmentation, dimension pipeline = the state machine's name, no run is no alarm"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.monitor["feature-drift"].alarm_name == "seg-feature-drift" && output.monitor_alarms["segmented-users-drop"].threshold == -0.4
    error_message = "alarms named <prefix>-<key>; the drop threshold is negative"
  }
  assert {
    condition = alltrue([for m in ["FeaturePsiMax", "SegmentShareShiftMax", "CleanQuarantineRate", "SegmentedUsersChange"] :
      anytrue([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : contains([for row in w.properties.metrics : jsonencode(slice(row, 0, min(length(row), 4)))], jsonencode(["Segmentation", m, "pipeline", "seg-pipeline"]))])
    ])
    error_message = "a dashboard widget per alarmed Monitor metric"
  }
  assert {
    condition     = strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "MetricName=\\\"FeaturePsi\\\"")
    error_message = "per-feature PSI on the dashboard (SEARCH over the feature dimension)"
  }
}
