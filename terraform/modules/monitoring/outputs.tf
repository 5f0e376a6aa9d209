output "topic_arn" {
  description = "SNS topic of every alarm and of failed pipeline executions."
  value       = aws_sns_topic.alerts.arn
}

output "alarm_names" {
  description = "Names of every alarm."
  value = concat(
    [aws_cloudwatch_metric_alarm.pipeline_failed.alarm_name, aws_cloudwatch_metric_alarm.api_5xx.alarm_name, aws_cloudwatch_metric_alarm.quarantine_rate.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.function_errors : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.offset_lag : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.dead_letters : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.monitor : a.alarm_name],
  )
}

output "monitor_alarms" {
  description = "The Monitor task's alarms by key (feature-drift, segment-shift, run-quarantine-rate, segmented-users-drop): name, metric and threshold."
  value       = { for k, a in aws_cloudwatch_metric_alarm.monitor : k => { name = a.alarm_name, metric = a.metric_name, threshold = a.threshold } }
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the system."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
