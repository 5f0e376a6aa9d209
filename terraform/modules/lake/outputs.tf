output "kms_key_arn" {
  description = "ARN of the customer-managed key encrypting the lake, logs, queues, table and secrets."
  value       = aws_kms_key.lake.arn
}

output "bucket_names" {
  description = "Bucket of each zone, '<lake_prefix>-<zone>'."
  value       = { for z, b in aws_s3_bucket.zone : z => b.id }
}

output "bucket_arns" {
  description = "ARN of each zone bucket."
  value       = { for z, b in aws_s3_bucket.zone : z => b.arn }
}

output "database_names" {
  description = "Glue Data Catalog database of each zone."
  value       = { for z, d in aws_glue_catalog_database.zone : z => d.name }
}

output "table_names" {
  description = "Catalog tables as '<database>.<table>'."
  value       = { for k, t in aws_glue_catalog_table.this : k => "${t.database_name}.${t.name}" }
}

output "stage_role_arns" {
  description = "IAM role of each pipeline stage (ingest, etl, ml, assign, serving, monitor, analyst, evaluation)."
  value       = { for s, r in aws_iam_role.stage : s => r.arn }
}

output "stage_role_names" {
  description = "IAM role name of each pipeline stage, for attaching service-specific policies."
  value       = { for s, r in aws_iam_role.stage : s => r.name }
}

output "hmac_secret_arn" {
  description = "ARN of the HMAC key secret (value written by `segmentation keygen`)."
  value       = aws_secretsmanager_secret.hmac.arn
}

output "hmac_secret_name" {
  description = "Name of the HMAC key secret (SEG_HMAC_SECRET_NAME)."
  value       = aws_secretsmanager_secret.hmac.name
}

output "lake_prefix" {
  description = "The bucket prefix (SEG_LAKE_PREFIX)."
  value       = var.lake_prefix
}
