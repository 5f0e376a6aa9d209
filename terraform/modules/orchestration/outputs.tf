output "state_machine_arn" {
  description = "ARN of the pipeline state machine (aws stepfunctions start-execution --state-machine-arn)."
  value       = aws_sfn_state_machine.pipeline.arn
}

output "state_machine_name" {
  description = "Name of the pipeline state machine."
  value       = aws_sfn_state_machine.pipeline.name
}

output "definition" {
  description = "The rendered ASL, as deployed."
  value       = local.definition
}

output "role_arn" {
  description = "Role the state machine runs as."
  value       = aws_iam_role.pipeline.arn
}

output "schedule_name" {
  description = "EventBridge Scheduler schedule starting weekly runs."
  value       = module.schedule.name
}

output "log_group_name" {
  description = "Execution log group."
  value       = aws_cloudwatch_log_group.pipeline.name
}

output "validate_input_function_name" {
  description = "Name of the validate_input function (the definition's input check)."
  value       = module.validate_input.function_name
}

output "validate_input_function_arn" {
  description = "ARN of the validate_input function."
  value       = module.validate_input.arn
}

output "monitor_function_name" {
  description = "Name of the monitor function (the definition's MonitorRun task)."
  value       = module.monitor.function_name
}

output "monitor_function_arn" {
  description = "ARN of the monitor function."
  value       = module.monitor.arn
}

output "pipeline_name" {
  description = "The `pipeline` dimension of the Monitor's metrics (SEG_PIPELINE_NAME): the state machine's name."
  value       = local.name
}

output "template_values" {
  description = "The values the ASL template was rendered with (the local runner can render the same)."
  value       = local.template_values
}
