# Campaigns with a holdout (segmentation.campaign): the campaigns table (one item per campaign,
# hash key campaign_id: target segment keys, holdout, window, the model version its membership
# is frozen to) and the secret of the arm key (HMAC of the anonymised id and the campaign id ->
# treatment or control; a key of its own, never the anonymisation key). The reader roles (the
# serving stage: segment_api and publish) may use both.

resource "aws_dynamodb_table" "campaigns" {
  name                        = var.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "campaign_id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "campaign_id"
    type = "S"
  }

  # A campaign's frozen model version is what its uplift is measured on: restorable to any second.
  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }
}

# The resource only: `segmentation keygen --campaigns` puts the value, so the key is never in
# Terraform state or plan output.
resource "aws_secretsmanager_secret" "arm_key" {
  #checkov:skip=CKV2_AWS_57:Rotating the arm key re-draws the arms of every running campaign (its users would switch between treatment and control); it is a deliberate step, not an automatic rotation.
  name                    = var.secret_name
  description             = "HMAC-SHA256 key that decides campaign arms (hex). Value written by `segmentation keygen --campaigns`, never by Terraform."
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_iam_role_policy" "campaigns" {
  for_each = toset(var.reader_role_names)
  name     = "campaigns"
  role     = each.value
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "CampaignsTable"
        Effect   = "Allow"
        Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Scan", "dynamodb:DescribeTable"]
        Resource = [aws_dynamodb_table.campaigns.arn]
      },
      {
        Sid      = "ReadArmKey"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
        Resource = [aws_secretsmanager_secret.arm_key.arn]
      },
      {
        Sid      = "EncryptedTableAndKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
        Resource = [var.kms_key_arn]
      },
    ]
  })
}
