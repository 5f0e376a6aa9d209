# Offline: the AWS provider is mocked, so these runs check what the module would ask AWS for.

mock_provider "aws" {
  source = "../../tests/mocks/aws"
}

variables {
  table_name  = "seg-ledger"
  kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/k"
}

run "ledger_table" {
  command = apply

  assert {
    condition     = aws_dynamodb_table.ledger.name == "seg-ledger" && output.table_name == "seg-ledger"
    error_message = "named after SEG_LEDGER_TABLE"
  }
  assert {
    condition     = aws_dynamodb_table.ledger.hash_key == "pk" && aws_dynamodb_table.ledger.range_key == null
    error_message = "hash key pk only, as segmentation.ledger.ensure_table creates it"
  }
  assert {
    condition     = toset([for a in aws_dynamodb_table.ledger.attribute : "${a.name}:${a.type}"]) == toset(["pk:S"])
    error_message = "a string key"
  }
  assert {
    condition     = aws_dynamodb_table.ledger.billing_mode == "PAY_PER_REQUEST" && one(aws_dynamodb_table.ledger.point_in_time_recovery).enabled
    error_message = "on-demand with PITR"
  }
  assert {
    condition     = one(aws_dynamodb_table.ledger.server_side_encryption).enabled && one(aws_dynamodb_table.ledger.server_side_encryption).kms_key_arn == var.kms_key_arn
    error_message = "encrypted with the lake key"
  }
  assert {
    condition     = aws_dynamodb_table.ledger.deletion_protection_enabled
    error_message = "deletion-protected by default"
  }
  assert {
    condition     = output.table_arn == aws_dynamodb_table.ledger.arn
    error_message = "the ARN is an output (for stage_access)"
  }
}

run "unprotected_for_local" {
  command = apply
  variables {
    deletion_protection = false
  }
  assert {
    condition     = !aws_dynamodb_table.ledger.deletion_protection_enabled
    error_message = "deletion protection follows the variable"
  }
}
