output "table_name" {
  description = "Segments table (SEG_SEGMENTS_TABLE)."
  value       = aws_dynamodb_table.segments.name
}

output "table_arn" {
  description = "ARN of the segments table."
  value       = aws_dynamodb_table.segments.arn
}

output "api_id" {
  description = "ID of the REST API."
  value       = aws_api_gateway_rest_api.this.id
}

output "api_name" {
  description = "Name of the REST API (CloudWatch ApiName dimension)."
  value       = aws_api_gateway_rest_api.this.name
}

output "api_url" {
  description = "Base URL of the API stage: <api_url>/users/<id>/segment, /segments, /health."
  value       = aws_api_gateway_stage.this.invoke_url
}

output "stage_name" {
  description = "Stage of the API."
  value       = aws_api_gateway_stage.this.stage_name
}

output "api_key_id" {
  description = "ID of the default API key; its value: aws apigateway get-api-key --api-key <id> --include-value."
  value       = aws_api_gateway_api_key.default.id
}

output "segment_api_function_name" {
  description = "Name of the segment_api function."
  value       = module.segment_api.function_name
}

output "publish_function_name" {
  description = "Name of the publish function."
  value       = module.publish.function_name
}

output "publish_function_arn" {
  description = "ARN of the publish function (invoked by the state machine)."
  value       = module.publish.arn
}
