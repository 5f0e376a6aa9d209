output "cluster_arn" {
  description = "ARN of the MSK cluster (null when msk_mode = none)."
  value       = local.cluster_arn
}

output "bootstrap_brokers" {
  description = "SASL/IAM bootstrap brokers (SEG_KAFKA_BOOTSTRAP for `segmentation produce --iam`)."
  value       = local.bootstrap_brokers
}

output "topic" {
  description = "Topic of raw events."
  value       = var.topic
}

output "consumer_group_id" {
  description = "Consumer group of the event source mapping."
  value       = local.consumer_group
}

output "event_source_mapping_uuid" {
  description = "UUID of the MSK -> ingest event source mapping (null when msk_mode = none)."
  value       = local.msk ? aws_lambda_event_source_mapping.ingest[0].uuid : null
}

output "ingest_function_name" {
  description = "Name of the ingest function."
  value       = module.ingest.function_name
}

output "ingest_function_arn" {
  description = "ARN of the ingest function."
  value       = module.ingest.arn
}

output "batch_ingest_function_name" {
  description = "Name of the batch_ingest function."
  value       = module.batch_ingest.function_name
}

output "failure_queue_url" {
  description = "Queue of failed batches and async invocations."
  value       = aws_sqs_queue.failures.url
}

output "failure_queue_arn" {
  description = "ARN of the failure queue."
  value       = aws_sqs_queue.failures.arn
}

output "function_security_group_id" {
  description = "Security group of the ingest functions (null outside a VPC)."
  value       = local.in_vpc ? aws_security_group.functions[0].id : null
}

output "failure_queue_name" {
  description = "Name of the failure queue (CloudWatch QueueName dimension)."
  value       = aws_sqs_queue.failures.name
}
