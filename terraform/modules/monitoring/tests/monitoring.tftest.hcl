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
}

run "every_alarm_notifies_the_topic" {
  command = apply

  assert {
    condition = alltrue([for a in concat(
      [aws_cloudwatch_metric_alarm.pipeline_failed, aws_cloudwatch_metric_alarm.api_5xx, aws_cloudwatch_metric_alarm.quarantine_rate],
      values(aws_cloudwatch_metric_alarm.function_errors), aws_cloudwatch_metric_alarm.offset_lag, aws_cloudwatch_metric_alarm.dead_letters,
    ) : a.alarm_actions == toset([aws_sns_topic.alerts.arn]) && a.ok_actions == toset([aws_sns_topic.alerts.arn])])
    error_message = "alarms (and recoveries) go to the SNS topic"
  }
  assert {
    condition     = length(output.alarm_names) == 7
    error_message = "pipeline, 2 function errors, offset lag, API 5xx, quarantine rate, dead letters"
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
