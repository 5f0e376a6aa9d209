# The clean step's run ledger (segmentation.ledger): one DynamoDB table whose items `head` (the
# committed curated version and its manifest) and `lock` (the running clean) make a clean run's
# commit one conditional write. Who may use it is the lake's stage_access (`ledger = true`).

resource "aws_dynamodb_table" "ledger" {
  name                        = var.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  # The head is the only pointer to curated's committed state: restorable to any second.
  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }
}
