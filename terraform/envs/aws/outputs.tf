output "region" {
  description = "Region of the deployment."
  value       = var.region
}

output "buckets" {
  description = "Bucket of each lake zone."
  value       = module.lake.bucket_names
}

output "hmac_secret_name" {
  description = "Secret to fill with `segmentation keygen --secret-name ...` before ingesting."
  value       = module.lake.hmac_secret_name
}

output "msk_bootstrap_brokers" {
  description = "SASL/IAM bootstrap brokers (SEG_KAFKA_BOOTSTRAP for `segmentation produce --iam`)."
  value       = module.streaming.bootstrap_brokers
}

output "kafka_topic" {
  description = "Topic the producers write to."
  value       = module.streaming.topic
}

output "state_machine_arn" {
  description = "Pipeline state machine (aws stepfunctions start-execution --state-machine-arn ...)."
  value       = module.orchestration.state_machine_arn
}

output "api_url" {
  description = "Base URL of the segment API."
  value       = module.serving.api_url
}

output "api_key_id" {
  description = "ID of the default API key (value: aws apigateway get-api-key --api-key <id> --include-value)."
  value       = module.serving.api_key_id
}

output "segments_table" {
  description = "DynamoDB table of published segments."
  value       = module.serving.table_name
}

output "mlflow_tracking_uri" {
  description = "MLflow inside the VPC."
  value       = module.tracking.tracking_uri
}

output "mlflow_repository_url" {
  description = "ECR repository to push the mlflow_server image to."
  value       = module.tracking.repository_url
}

output "glue_jobs" {
  description = "Glue jobs of the clean and features steps."
  value       = module.processing.glue_job_names
}

output "emr_application_id" {
  description = "EMR Serverless application of the cluster step."
  value       = module.processing.emr_application_id
}

output "alerts_topic_arn" {
  description = "SNS topic of alarms and failed runs."
  value       = module.monitoring.topic_arn
}

output "dashboard" {
  description = "CloudWatch dashboard."
  value       = module.monitoring.dashboard_name
}

output "pipeline_template_values" {
  description = "Values the pipeline ASL was rendered with."
  value       = module.orchestration.template_values
}
