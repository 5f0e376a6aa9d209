output "function_name" {
  description = "Name of the function."
  value       = aws_lambda_function.this.function_name
}

output "arn" {
  description = "ARN of the function."
  value       = aws_lambda_function.this.arn
}

output "invoke_arn" {
  description = "ARN API Gateway uses to invoke the function."
  value       = aws_lambda_function.this.invoke_arn
}

output "role_arn" {
  description = "The execution role (the given one, or the function's own with create_role)."
  value       = local.role_arn
}

output "log_group_name" {
  description = "The function's CloudWatch log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "vpc_config" {
  description = "Subnets and security groups the function runs with (null outside a VPC)."
  value       = local.in_vpc ? one(aws_lambda_function.this.vpc_config) : null
}
