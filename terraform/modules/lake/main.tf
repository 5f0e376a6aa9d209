# The lake: one KMS key, one bucket per zone, the HMAC secret (resource only), and (in the other
# files of this module) the Glue catalog, Lake Formation and the per-stage roles.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  buckets    = { for z in var.zones : z => "${var.lake_prefix}-${z}" }
  # Glue database names may not contain hyphens.
  databases = { for z in var.zones : z => replace("${var.lake_prefix}_${z}", "-", "_") }
}

# ---------------------------------------------------------------------------------------------
# KMS: one customer-managed key encrypts the lake, logs, queues, the table and the secret, so a
# single key policy states which AWS services may use it.
# ---------------------------------------------------------------------------------------------
locals {
  kms_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsEncryptsLogGroups"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnLike = { "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:*" }
        }
      },
      {
        Sid       = "AlarmsAndEventsPublishToEncryptedTopic"
        Effect    = "Allow"
        Principal = { Service = ["cloudwatch.amazonaws.com", "events.amazonaws.com"] }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
      },
    ]
  })
}

resource "aws_kms_key" "lake" {
  description             = "${var.name_prefix}: lake buckets, catalog, logs, queues, table and secrets"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = local.kms_policy
}

resource "aws_kms_alias" "lake" {
  name          = "alias/${var.name_prefix}-lake"
  target_key_id = aws_kms_key.lake.key_id
}

# ---------------------------------------------------------------------------------------------
# Buckets, one per zone (named exactly like segmentation.config.Settings.bucket).
# ---------------------------------------------------------------------------------------------
resource "aws_s3_bucket" "zone" {
  #checkov:skip=CKV_AWS_18:Access is audited by CloudTrail data events and Lake Formation audit logs; a server-access-log bucket per zone would duplicate them.
  #checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery choice left to the deployer; versioning covers accidental overwrites.
  #checkov:skip=CKV2_AWS_62:Only the landing zone has a consumer of object events (batch_ingest, wired in the streaming module); the other zones are written by the pipeline itself.
  for_each      = local.buckets
  bucket        = each.value
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket_ownership_controls" "zone" {
  for_each = aws_s3_bucket.zone
  bucket   = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "zone" {
  for_each = aws_s3_bucket.zone
  bucket   = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "zone" {
  for_each = aws_s3_bucket.zone
  bucket   = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.bucket_sse_algorithm
      kms_master_key_id = var.bucket_sse_algorithm == "aws:kms" ? aws_kms_key.lake.arn : null
    }
    bucket_key_enabled = var.bucket_sse_algorithm == "aws:kms"
  }
}

resource "aws_s3_bucket_public_access_block" "zone" {
  for_each                = aws_s3_bucket.zone
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_policy" "zone" {
  for_each = var.tls_only_policy ? aws_s3_bucket.zone : {}
  bucket   = each.value.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [each.value.arn, "${each.value.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
  depends_on = [aws_s3_bucket_public_access_block.zone]
}

locals {
  # Zone-specific expiry/transition; every bucket also aborts stale multipart uploads and expires
  # superseded versions.
  expire_days = {
    hot        = var.hot_retention_days
    landing    = var.landing_retention_days
    quarantine = var.quarantine_retention_days
  }
  infrequent_access_days = {
    raw = var.raw_infrequent_access_days
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "zone" {
  #checkov:skip=CKV_AWS_300:Every rule aborts incomplete uploads after 7 days; checkov only accepts an empty filter block, while `prefix = ""` (the same scope: every object) is what S3 returns and so does not drift.
  for_each = var.enable_lifecycle ? aws_s3_bucket.zone : {}
  bucket   = each.value.id

  rule {
    id     = "housekeeping"
    status = "Enabled"
    filter {
      prefix = ""
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
  }

  dynamic "rule" {
    for_each = contains(keys(local.expire_days), each.key) ? [local.expire_days[each.key]] : []
    content {
      id     = "expire-${each.key}"
      status = "Enabled"
      filter {
        prefix = ""
      }
      abort_incomplete_multipart_upload {
        days_after_initiation = 7
      }
      expiration {
        days = rule.value
      }
    }
  }

  dynamic "rule" {
    for_each = contains(keys(local.infrequent_access_days), each.key) ? [local.infrequent_access_days[each.key]] : []
    content {
      id     = "infrequent-access-${each.key}"
      status = "Enabled"
      filter {
        prefix = ""
      }
      abort_incomplete_multipart_upload {
        days_after_initiation = 7
      }
      transition {
        days          = rule.value
        storage_class = "STANDARD_IA"
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.zone]
}

# ---------------------------------------------------------------------------------------------
# The HMAC key's secret: the resource only. `segmentation keygen` puts the value, so the key is
# never in Terraform state or plan output.
# ---------------------------------------------------------------------------------------------
resource "aws_secretsmanager_secret" "hmac" {
  #checkov:skip=CKV2_AWS_57:Rotating the HMAC key re-keys every pseudonym in the lake and the segment table; it is a deliberate re-keying run, not an automatic rotation.
  name                    = var.hmac_secret_name
  description             = "HMAC-SHA256 key that pseudonymises user ids (hex). Value written by `segmentation keygen`, never by Terraform."
  kms_key_id              = aws_kms_key.lake.arn
  recovery_window_in_days = var.secret_recovery_window_days
}
