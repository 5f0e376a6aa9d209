# One IAM role per pipeline stage. Its S3/KMS/Glue policy and its Lake Formation grants are both
# derived from var.stage_access, so IAM and Lake Formation always agree on what a stage may touch.

locals {
  root_arn = "arn:${local.partition}:iam::${local.account_id}:root"

  # A stage's zones: written zones imply read access, so "write" wins when a zone is in both.
  stage_grants = merge(
    { for g in flatten([for s, a in var.stage_access : [for z in a.read : { stage = s, zone = z, write = false }]]) : "${g.stage}/${g.zone}" => g },
    { for g in flatten([for s, a in var.stage_access : [for z in a.write : { stage = s, zone = z, write = true }]]) : "${g.stage}/${g.zone}" => g },
  )

  stage_trust = {
    for s in keys(var.stage_access) : s => {
      services   = try(var.stage_trust[s].services, [])
      principals = length(try(var.stage_trust[s].principals, [])) > 0 ? var.stage_trust[s].principals : (length(try(var.stage_trust[s].services, [])) > 0 ? [] : [local.root_arn])
    }
  }

  catalog_arn = "arn:${local.partition}:glue:${local.region}:${local.account_id}:catalog"
  db_arn      = { for z, d in local.databases : z => "arn:${local.partition}:glue:${local.region}:${local.account_id}:database/${d}" }
  tables_arn  = { for z, d in local.databases : z => "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${d}/*" }
  table_arn   = { for k, t in local.tables : k => "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${local.databases[t.zone]}/${t.name}" }

  stage_read_zones  = { for s, a in var.stage_access : s => sort(distinct(concat(a.read, a.write))) }
  stage_write_zones = { for s, a in var.stage_access : s => sort(distinct(a.write)) }

  # Catalog tables whose partitions a stage adds, moves and drops itself (the clean step keeps
  # curated.events' partition locations in step with the ledger's committed manifest).
  stage_partition_tables = { for s, a in var.stage_access : s => sort(distinct(a.partitions)) }
  partition_grants       = merge({}, [for s, a in var.stage_access : { for t in distinct(a.partitions) : "${s}/${t}" => { stage = s, table = t } }]...)

  stage_policy = {
    for s in keys(var.stage_access) : s => jsonencode({
      Version = "2012-10-17"
      Statement = concat(
        [
          {
            Sid      = "ListZones"
            Effect   = "Allow"
            Action   = ["s3:ListBucket", "s3:GetBucketLocation"]
            Resource = [for z in local.stage_read_zones[s] : aws_s3_bucket.zone[z].arn]
          },
          {
            Sid      = "ReadZones"
            Effect   = "Allow"
            Action   = ["s3:GetObject", "s3:GetObjectVersion"]
            Resource = [for z in local.stage_read_zones[s] : "${aws_s3_bucket.zone[z].arn}/*"]
          },
          {
            Sid      = "DecryptLake"
            Effect   = "Allow"
            Action   = ["kms:Decrypt", "kms:DescribeKey"]
            Resource = [aws_kms_key.lake.arn]
          },
          {
            Sid    = "ReadCatalog"
            Effect = "Allow"
            Action = ["glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition"]
            Resource = concat([local.catalog_arn],
              [for z in local.stage_read_zones[s] : local.db_arn[z]],
            [for z in local.stage_read_zones[s] : local.tables_arn[z]])
          },
          {
            Sid      = "LakeFormationCredentialVending"
            Effect   = "Allow"
            Action   = ["lakeformation:GetDataAccess"]
            Resource = "*"
          },
        ],
        length(local.stage_write_zones[s]) == 0 ? [] : [
          {
            Sid      = "WriteZones"
            Effect   = "Allow"
            Action   = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
            Resource = [for z in local.stage_write_zones[s] : "${aws_s3_bucket.zone[z].arn}/*"]
          },
          {
            Sid      = "EncryptLake"
            Effect   = "Allow"
            Action   = ["kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKey*"]
            Resource = [aws_kms_key.lake.arn]
          },
          {
            Sid    = "WriteCatalog"
            Effect = "Allow"
            Action = ["glue:CreateTable", "glue:UpdateTable", "glue:CreatePartition", "glue:BatchCreatePartition", "glue:UpdatePartition", "glue:DeletePartition", "glue:BatchDeletePartition"]
            Resource = concat([local.catalog_arn],
              [for z in local.stage_write_zones[s] : local.db_arn[z]],
            [for z in local.stage_write_zones[s] : local.tables_arn[z]])
          },
        ],
        # The run ledger's items (segmentation.ledger: head and lock).
        [for statement in [
          {
            Sid      = "RunLedger"
            Effect   = "Allow"
            Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
            Resource = [var.ledger_table_arn]
          },
        ] : statement if var.stage_access[s].ledger],
        # The ledger's head item only, read: which manifest of curated is committed.
        [for statement in [
          {
            Sid       = "RunLedgerHead"
            Effect    = "Allow"
            Action    = ["dynamodb:GetItem"]
            Resource  = [var.ledger_table_arn]
            Condition = { "ForAllValues:StringEquals" = { "dynamodb:LeadingKeys" = ["head"] } }
          },
        ] : statement if var.stage_access[s].ledger_read && !var.stage_access[s].ledger],
        # The segments table's META items only (the published version's pointer), read.
        [for statement in [
          {
            Sid       = "PublishedPointer"
            Effect    = "Allow"
            Action    = ["dynamodb:GetItem"]
            Resource  = [var.segments_table_arn]
            Condition = { "ForAllValues:StringEquals" = { "dynamodb:LeadingKeys" = ["META"] } }
          },
        ] : statement if var.stage_access[s].published],
        # Both tables are encrypted with the lake's key: usable only as DynamoDB uses it.
        [for statement in [
          {
            Sid       = "TableKey"
            Effect    = "Allow"
            Action    = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:DescribeKey"]
            Resource  = [aws_kms_key.lake.arn]
            Condition = { StringEquals = { "kms:ViaService" = "dynamodb.${local.region}.amazonaws.com" } }
          },
        ] : statement if var.stage_access[s].ledger || var.stage_access[s].ledger_read || var.stage_access[s].published],
        length(local.stage_partition_tables[s]) == 0 ? [] : [
          {
            Sid    = "KeepPartitions"
            Effect = "Allow"
            Action = ["glue:GetTable", "glue:GetPartition", "glue:GetPartitions", "glue:BatchCreatePartition", "glue:BatchUpdatePartition", "glue:BatchDeletePartition"]
            Resource = concat([local.catalog_arn],
              distinct([for t in local.stage_partition_tables[s] : try(local.db_arn[local.tables[t].zone], t)]),
            [for t in local.stage_partition_tables[s] : try(local.table_arn[t], t)])
          },
        ],
      )
    })
  }
}

resource "aws_iam_role" "stage" {
  for_each    = var.stage_access
  name        = "${var.name_prefix}-${each.key}"
  description = "Stage ${each.key}: reads ${join(", ", each.value.read)}; writes ${length(each.value.write) == 0 ? "nothing" : join(", ", each.value.write)}"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      length(local.stage_trust[each.key].services) == 0 ? [] : [{
        Effect    = "Allow"
        Principal = { Service = local.stage_trust[each.key].services }
        Action    = "sts:AssumeRole"
      }],
      length(local.stage_trust[each.key].principals) == 0 ? [] : [{
        Effect    = "Allow"
        Principal = { AWS = local.stage_trust[each.key].principals }
        Action    = "sts:AssumeRole"
      }],
    )
  })
}

resource "aws_iam_role_policy" "stage_lake" {
  for_each = var.stage_access
  name     = "lake-access"
  role     = aws_iam_role.stage[each.key].id
  policy   = local.stage_policy[each.key]
}

# Lake Formation reaches the zone buckets through its own role (not the service-linked one),
# because the buckets are encrypted with a customer-managed key it must be allowed to use.
resource "aws_iam_role" "lakeformation" {
  name        = "${var.name_prefix}-lakeformation-registration"
  description = "Lake Formation data access to the registered zone buckets"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lakeformation.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "lakeformation" {
  name = "zone-buckets"
  role = aws_iam_role.lakeformation.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["s3:ListBucket", "s3:GetBucketLocation"]
        Resource = [for b in aws_s3_bucket.zone : b.arn]
      },
      {
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
        Resource = [for b in aws_s3_bucket.zone : "${b.arn}/*"]
      },
      {
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
        Resource = [aws_kms_key.lake.arn]
      },
    ]
  })
}

# Only the stages that see raw user ids may read the HMAC key.
resource "aws_iam_role_policy" "hmac_secret" {
  for_each = toset(var.secret_reader_stages)
  name     = "hmac-secret-read"
  role     = aws_iam_role.stage[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "ReadHmacKey"
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
      Resource = [aws_secretsmanager_secret.hmac.arn]
    }]
  })
}
