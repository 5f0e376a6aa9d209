# The concern modules' outputs, whole: the environments pick what their users need.

output "lake" {
  description = "The lake module's outputs (buckets, databases, stage roles, KMS key, HMAC secret)."
  value       = module.lake
}

output "ledger" {
  description = "The ledger module's outputs (the clean step's run ledger table: name, ARN)."
  value       = module.ledger
}

output "campaigns" {
  description = "The campaigns module's outputs (campaigns table, arm key secret: names, ARNs)."
  value       = module.campaigns
}

output "streaming" {
  description = "The streaming module's outputs (MSK brokers, topic, ingest functions, failure queue)."
  value       = module.streaming
}

output "processing" {
  description = "The processing module's outputs (Glue jobs, EMR Serverless application)."
  value       = module.processing
}

output "tracking" {
  description = "The tracking module's outputs (MLflow service); null when mlflow_tracking_uri names a server."
  value       = one(module.tracking)
}

output "mlflow_tracking_uri" {
  description = "The MLflow every step logs to: the deployed service's or the given one."
  value       = local.mlflow_tracking_uri
}

output "serving" {
  description = "The serving module's outputs (segments table, API, publish and segment_api functions)."
  value       = module.serving
}

output "orchestration" {
  description = "The orchestration module's outputs (state machine, its template values, validate_input)."
  value       = module.orchestration
}

output "monitoring" {
  description = "The monitoring module's outputs (alerts topic, alarms, dashboard)."
  value       = module.monitoring
}

output "console" {
  description = "The web console: url, origin, bucket, distribution_id, user_pool_id, user_pool_arn, client_id."
  value       = module.console
}

output "assignment_schedule" {
  description = "The daily between-run assignment's schedule (name, arn, state, schedule_expression, target_arn, input, role_arn, policy)."
  value       = module.assignment_schedule
}
