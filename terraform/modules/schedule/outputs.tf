output "name" {
  description = "Name of the schedule."
  value       = aws_scheduler_schedule.this.name
}

output "arn" {
  description = "ARN of the schedule."
  value       = aws_scheduler_schedule.this.arn
}

output "state" {
  description = "ENABLED or DISABLED."
  value       = aws_scheduler_schedule.this.state
}

output "schedule_expression" {
  description = "When it fires."
  value       = aws_scheduler_schedule.this.schedule_expression
}

output "target_arn" {
  description = "What it starts."
  value       = one(aws_scheduler_schedule.this.target).arn
}

output "input" {
  description = "The target's input (JSON text)."
  value       = one(aws_scheduler_schedule.this.target).input
}

output "role_arn" {
  description = "Role the schedule starts its target as."
  value       = aws_iam_role.this.arn
}

output "policy" {
  description = "The role's policy (JSON text): the only actions and resources it allows."
  value       = aws_iam_role_policy.this.policy
}
