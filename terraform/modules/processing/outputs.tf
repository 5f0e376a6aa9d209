output "glue_job_names" {
  description = "Glue job of each entry point (clean, features, assign, backtest)."
  value       = { for k, j in aws_glue_job.this : k => j.name }
}

output "glue_job_role_arns" {
  description = "Role each Glue job runs as (etl_role unless job_roles names another)."
  value       = { for k, j in aws_glue_job.this : k => j.role_arn }
}

output "glue_clean_job_name" {
  description = "Glue job running glue_jobs/clean.py."
  value       = aws_glue_job.this["clean"].name
}

output "glue_features_job_name" {
  description = "Glue job running glue_jobs/features.py."
  value       = aws_glue_job.this["features"].name
}

output "emr_application_id" {
  description = "EMR Serverless application of the clustering step."
  value       = aws_emrserverless_application.this.id
}

output "emr_application_arn" {
  description = "ARN of the EMR Serverless application."
  value       = aws_emrserverless_application.this.arn
}

output "emr_job_role_arn" {
  description = "Job role of the clustering step (the lake's ml role)."
  value       = var.ml_role.arn
}

output "emr_cluster_entry_point" {
  description = "S3 URI of emr_steps/cluster.py."
  value       = "${local.s3}/${local.entry_point_key}"
}

output "emr_spark_submit_parameters" {
  description = "sparkSubmitParameters of the clustering job: venv, SEG_* environment, Glue catalog."
  value       = local.emr_spark_submit_parameters
}

output "glue_job_arn" {
  description = "ARN of the Glue job of each entry point (clean, features, assign, backtest)."
  value       = { for k, j in aws_glue_job.this : k => j.arn }
}

output "glue_job_arns" {
  description = "ARNs of the Glue jobs (for the orchestration role)."
  value       = [for j in aws_glue_job.this : j.arn]
}

output "jobs_security_group_id" {
  description = "Security group of the Spark workers (null outside a VPC), allowed into MLflow."
  value       = local.in_vpc ? aws_security_group.jobs[0].id : null
}
