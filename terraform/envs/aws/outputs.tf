output "region" {
  description = "Region of the deployment."
  value       = var.region
}

output "buckets" {
  description = "Bucket of each lake zone."
  value       = module.deployment.lake.bucket_names
}

output "hmac_secret_name" {
  description = "Secret to fill with `segmentation keygen --secret-name ...` before ingesting."
  value       = module.deployment.lake.hmac_secret_name
}

output "msk_bootstrap_brokers" {
  description = "SASL/IAM bootstrap brokers (SEG_KAFKA_BOOTSTRAP for `segmentation produce --iam`)."
  value       = module.deployment.streaming.bootstrap_brokers
}

output "kafka_topic" {
  description = "Topic the producers write to."
  value       = module.deployment.streaming.topic
}

output "state_machine_arn" {
  description = "Pipeline state machine (aws stepfunctions start-execution --state-machine-arn ...)."
  value       = module.deployment.orchestration.state_machine_arn
}

output "api_url" {
  description = "Base URL of the segment API."
  value       = module.deployment.serving.api_url
}

output "api_key_id" {
  description = "ID of the default API key (value: aws apigateway get-api-key --api-key <id> --include-value)."
  value       = module.deployment.serving.api_key_id
}

output "segments_table" {
  description = "DynamoDB table of published segments."
  value       = module.deployment.serving.table_name
}

output "campaign_secret_name" {
  description = "Secret of the campaigns' arm key: fill it once with `segmentation keygen --campaigns`."
  value       = module.deployment.campaigns.secret_name
}

output "ledger_table" {
  description = "DynamoDB table of the clean step's run ledger."
  value       = module.deployment.ledger.table_name
}

output "mlflow_tracking_uri" {
  description = "MLflow inside the VPC."
  value       = module.deployment.mlflow_tracking_uri
}

output "mlflow_repository_url" {
  description = "ECR repository to push the mlflow_server image to."
  value       = module.deployment.tracking.repository_url
}

output "glue_jobs" {
  description = "Glue jobs of the clean and features steps."
  value       = module.deployment.processing.glue_job_names
}

output "emr_application_id" {
  description = "EMR Serverless application of the cluster step."
  value       = module.deployment.processing.emr_application_id
}

output "alerts_topic_arn" {
  description = "SNS topic of alarms and failed runs."
  value       = module.deployment.monitoring.topic_arn
}

output "dashboard" {
  description = "CloudWatch dashboard."
  value       = module.deployment.monitoring.dashboard_name
}

output "pipeline_template_values" {
  description = "Values the pipeline ASL was rendered with."
  value       = module.deployment.orchestration.template_values
}

output "console_url" {
  description = "The web console's address (CloudFront, HTTPS); analysts are added with `segmentation analyst add EMAIL`."
  value       = module.deployment.console.url
}

output "assign_job_name" {
  description = "Glue job of the daily between-run assignment (locally: `segmentation assign` runs the same step)."
  value       = module.deployment.processing.glue_job_names["assign"]
}

output "assignment_schedule_name" {
  description = "EventBridge Scheduler schedule starting the between-run assignment."
  value       = module.deployment.assignment_schedule.name
}
