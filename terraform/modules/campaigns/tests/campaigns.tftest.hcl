# Offline: the AWS provider is mocked, so these runs check what the module would ask AWS for.

mock_provider "aws" {
  source = "../../tests/mocks/aws"
}

variables {
  table_name        = "seg-campaigns"
  secret_name       = "seg/campaign-key"
  kms_key_arn       = "arn:aws:kms:eu-west-1:123456789012:key/k"
  reader_role_names = ["seg-serving"]
}

run "campaigns_table" {
  command = apply

  assert {
    condition     = aws_dynamodb_table.campaigns.name == "seg-campaigns" && output.table_name == "seg-campaigns"
    error_message = "named after SEG_CAMPAIGNS_TABLE"
  }
  assert {
    condition     = aws_dynamodb_table.campaigns.hash_key == "campaign_id" && aws_dynamodb_table.campaigns.range_key == null
    error_message = "hash key campaign_id only, as segmentation.campaign.store.ensure_table creates it"
  }
  assert {
    condition     = toset([for a in aws_dynamodb_table.campaigns.attribute : "${a.name}:${a.type}"]) == toset(["campaign_id:S"])
    error_message = "a string key"
  }
  assert {
    condition     = aws_dynamodb_table.campaigns.billing_mode == "PAY_PER_REQUEST" && one(aws_dynamodb_table.campaigns.point_in_time_recovery).enabled
    error_message = "on-demand with PITR"
  }
  assert {
    condition     = one(aws_dynamodb_table.campaigns.server_side_encryption).enabled && one(aws_dynamodb_table.campaigns.server_side_encryption).kms_key_arn == var.kms_key_arn
    error_message = "encrypted with the lake key"
  }
  assert {
    condition     = aws_dynamodb_table.campaigns.deletion_protection_enabled
    error_message = "deletion-protected by default"
  }
}

run "arm_key_secret" {
  command = apply

  assert {
    condition     = aws_secretsmanager_secret.arm_key.name == "seg/campaign-key" && output.secret_name == "seg/campaign-key"
    error_message = "named after SEG_CAMPAIGN_SECRET_NAME"
  }
  assert {
    condition     = aws_secretsmanager_secret.arm_key.kms_key_id == var.kms_key_arn && aws_secretsmanager_secret.arm_key.recovery_window_in_days == 30
    error_message = "encrypted with the lake key, recoverable for 30 days"
  }
}

run "readers_use_the_table_and_read_the_key_only" {
  command = apply

  assert {
    condition     = keys(aws_iam_role_policy.campaigns) == ["seg-serving"] && aws_iam_role_policy.campaigns["seg-serving"].role == "seg-serving"
    error_message = "one policy per reader role"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.campaigns["seg-serving"].policy).Statement : s.Resource if s.Sid == "CampaignsTable"][0] == [aws_dynamodb_table.campaigns.arn]
    error_message = "the table's actions on this table only"
  }
  assert {
    condition     = !contains([for s in jsondecode(aws_iam_role_policy.campaigns["seg-serving"].policy).Statement : s.Action if s.Sid == "CampaignsTable"][0], "dynamodb:DeleteItem")
    error_message = "campaigns are never deleted by the API"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.campaigns["seg-serving"].policy).Statement : s.Action if s.Sid == "ReadArmKey"][0] == ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"] && [for s in jsondecode(aws_iam_role_policy.campaigns["seg-serving"].policy).Statement : s.Resource if s.Sid == "ReadArmKey"][0] == [aws_secretsmanager_secret.arm_key.arn]
    error_message = "the arm key is read, never written, by the readers"
  }
}

run "unprotected_for_local" {
  command = apply
  variables {
    deletion_protection         = false
    secret_recovery_window_days = 0
  }
  assert {
    condition     = !aws_dynamodb_table.campaigns.deletion_protection_enabled && aws_secretsmanager_secret.arm_key.recovery_window_in_days == 0
    error_message = "deletion protection and the recovery window follow the variables"
  }
}

run "recovery_window_bounds" {
  command = plan
  variables {
    secret_recovery_window_days = 3
  }
  expect_failures = [var.secret_recovery_window_days]
}
