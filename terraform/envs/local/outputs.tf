output "aws_endpoint" {
  description = "The emulator this state belongs to."
  value       = var.aws_endpoint
}

output "buckets" {
  description = "Bucket of each lake zone."
  value       = module.deployment.lake.bucket_names
}

output "databases" {
  description = "Glue database of each zone."
  value       = module.deployment.lake.database_names
}

output "stage_role_arns" {
  description = "IAM role of each pipeline stage."
  value       = module.deployment.lake.stage_role_arns
}

output "hmac_secret_name" {
  description = "Secret to fill with `segmentation keygen`."
  value       = module.deployment.lake.hmac_secret_name
}

output "state_machine_arn" {
  description = "Pipeline state machine (its definition is what the local runner follows)."
  value       = module.deployment.orchestration.state_machine_arn
}

output "segments_table" {
  description = "Segments table."
  value       = module.deployment.serving.table_name
}

output "campaigns_table" {
  description = "Campaigns table."
  value       = module.deployment.campaigns.table_name
}

output "campaign_secret_name" {
  description = "Secret to fill with `segmentation keygen --campaigns`."
  value       = module.deployment.campaigns.secret_name
}

output "ledger_table" {
  description = "Run ledger of the clean step."
  value       = module.deployment.ledger.table_name
}

output "api_id" {
  description = "REST API id in the emulator."
  value       = module.deployment.serving.api_id
}

output "functions" {
  description = "Deployed function names."
  value = {
    ingest       = module.deployment.streaming.ingest_function_name
    batch_ingest = module.deployment.streaming.batch_ingest_function_name
    publish      = module.deployment.serving.publish_function_name
    segment_api  = module.deployment.serving.segment_api_function_name
    monitor      = module.deployment.orchestration.monitor_function_name
  }
}

output "validate_input_function_name" {
  description = "The state machine's input check (its own role, not a stage role)."
  value       = module.deployment.orchestration.validate_input_function_name
}

output "glue_jobs" {
  description = "Glue jobs."
  value       = module.deployment.processing.glue_job_names
}

output "emr_application_id" {
  description = "EMR Serverless application."
  value       = module.deployment.processing.emr_application_id
}

output "event_source_mapping_uuid" {
  description = "MSK -> ingest mapping (null without msk)."
  value       = module.deployment.streaming.event_source_mapping_uuid
}

output "alerts_topic_arn" {
  description = "SNS topic of alarms and failed runs."
  value       = module.deployment.monitoring.topic_arn
}

output "pipeline_template_values" {
  description = "Values the pipeline ASL was rendered with; `segmentation_local.orchestration.asl.render_definition` gives the same definition."
  value       = module.deployment.orchestration.template_values
}

output "api_key_id" {
  description = "Default API key id in the emulator."
  value       = module.deployment.serving.api_key_id
}

output "console" {
  description = "The web console's pool, client and bucket on the emulator (no CloudFront there: `segmentation serve` serves the page)."
  value = {
    user_pool_id  = module.deployment.console.user_pool_id
    user_pool_arn = module.deployment.console.user_pool_arn
    client_id     = module.deployment.console.client_id
    bucket        = module.deployment.console.bucket
  }
}

output "assign_job_name" {
  description = "Glue job of the daily between-run assignment (locally: `segmentation assign` runs the same step)."
  value       = module.deployment.processing.glue_job_names["assign"]
}

output "assignment_schedule_name" {
  description = "EventBridge Scheduler schedule starting the between-run assignment."
  value       = module.deployment.assignment_schedule.name
}
