output "aws_endpoint" {
  description = "The emulator this state belongs to."
  value       = var.aws_endpoint
}

output "buckets" {
  description = "Bucket of each lake zone."
  value       = module.lake.bucket_names
}

output "databases" {
  description = "Glue database of each zone."
  value       = module.lake.database_names
}

output "stage_role_arns" {
  description = "IAM role of each pipeline stage."
  value       = module.lake.stage_role_arns
}

output "hmac_secret_name" {
  description = "Secret to fill with `segmentation keygen`."
  value       = module.lake.hmac_secret_name
}

output "state_machine_arn" {
  description = "Pipeline state machine (its definition is what the local runner follows)."
  value       = module.orchestration.state_machine_arn
}

output "segments_table" {
  description = "Segments table."
  value       = module.serving.table_name
}

output "api_id" {
  description = "REST API id in the emulator."
  value       = module.serving.api_id
}

output "functions" {
  description = "Deployed function names."
  value = {
    ingest       = module.streaming.ingest_function_name
    batch_ingest = module.streaming.batch_ingest_function_name
    publish      = module.serving.publish_function_name
    segment_api  = module.serving.segment_api_function_name
  }
}

output "glue_jobs" {
  description = "Glue jobs."
  value       = module.processing.glue_job_names
}

output "emr_application_id" {
  description = "EMR Serverless application."
  value       = module.processing.emr_application_id
}

output "event_source_mapping_uuid" {
  description = "MSK -> ingest mapping (null without msk)."
  value       = module.streaming.event_source_mapping_uuid
}

output "alerts_topic_arn" {
  description = "SNS topic of alarms and failed runs."
  value       = module.monitoring.topic_arn
}

output "pipeline_template_values" {
  description = "Values the pipeline ASL was rendered with; `segmentation_local.orchestration.asl.render_definition` gives the same definition."
  value       = module.orchestration.template_values
}

output "api_key_id" {
  description = "Default API key id in the emulator."
  value       = module.serving.api_key_id
}
