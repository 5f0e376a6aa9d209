output "table_name" {
  description = "The campaigns table (SEG_CAMPAIGNS_TABLE)."
  value       = aws_dynamodb_table.campaigns.name
}

output "table_arn" {
  description = "ARN of the campaigns table."
  value       = aws_dynamodb_table.campaigns.arn
}

output "secret_name" {
  description = "Secret of the arm key (SEG_CAMPAIGN_SECRET_NAME), filled by `segmentation keygen --campaigns`."
  value       = aws_secretsmanager_secret.arm_key.name
}

output "secret_arn" {
  description = "ARN of the arm key's secret."
  value       = aws_secretsmanager_secret.arm_key.arn
}

output "reader_roles" {
  description = "The roles given the campaigns policy, by name."
  value       = { for name, p in aws_iam_role_policy.campaigns : name => p.name }
}
