# Offline: the AWS provider is mocked, so these runs check what the module would ask AWS for.

mock_provider "aws" {
  source = "../../tests/mocks/aws"
}

# Distinct bucket ARNs, so policies can be traced back to their zone.
override_resource {
  target = aws_s3_bucket.zone["landing"]
  values = { arn = "arn:aws:s3:::seg-test-landing" }
}
override_resource {
  target = aws_s3_bucket.zone["raw"]
  values = { arn = "arn:aws:s3:::seg-test-raw" }
}
override_resource {
  target = aws_s3_bucket.zone["hot"]
  values = { arn = "arn:aws:s3:::seg-test-hot" }
}
override_resource {
  target = aws_s3_bucket.zone["curated"]
  values = { arn = "arn:aws:s3:::seg-test-curated" }
}
override_resource {
  target = aws_s3_bucket.zone["features"]
  values = { arn = "arn:aws:s3:::seg-test-features" }
}
override_resource {
  target = aws_s3_bucket.zone["segments"]
  values = { arn = "arn:aws:s3:::seg-test-segments" }
}
override_resource {
  target = aws_s3_bucket.zone["quarantine"]
  values = { arn = "arn:aws:s3:::seg-test-quarantine" }
}
override_resource {
  target = aws_s3_bucket.zone["artifacts"]
  values = { arn = "arn:aws:s3:::seg-test-artifacts" }
}

# Distinct role ARNs, so grants can be traced back to the stage they were made for.
override_resource {
  target = aws_iam_role.stage["ingest"]
  values = { arn = "arn:aws:iam::123456789012:role/seg-ingest" }
}
override_resource {
  target = aws_iam_role.stage["etl"]
  values = { arn = "arn:aws:iam::123456789012:role/seg-etl" }
}
override_resource {
  target = aws_iam_role.stage["ml"]
  values = { arn = "arn:aws:iam::123456789012:role/seg-ml" }
}
override_resource {
  target = aws_iam_role.stage["serving"]
  values = { arn = "arn:aws:iam::123456789012:role/seg-serving" }
}
override_resource {
  target = aws_iam_role.stage["monitor"]
  values = { arn = "arn:aws:iam::123456789012:role/seg-monitor" }
}
override_resource {
  target = aws_iam_role.stage["analyst"]
  values = { arn = "arn:aws:iam::123456789012:role/seg-analyst" }
}
override_resource {
  target = aws_iam_role.stage["evaluation"]
  values = { arn = "arn:aws:iam::123456789012:role/seg-evaluation" }
}

variables {
  name_prefix        = "seg"
  lake_prefix        = "seg-test"
  hmac_secret_name   = "seg/hmac-key"
  ledger_table_arn   = "arn:aws:dynamodb:eu-west-1:123456789012:table/seg-ledger"
  segments_table_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/seg-segments"
}

run "zone_buckets" {
  command = apply

  assert {
    condition     = toset([for b in aws_s3_bucket.zone : b.bucket]) == toset([for z in ["landing", "raw", "hot", "curated", "features", "segments", "quarantine", "artifacts"] : "seg-test-${z}"])
    error_message = "one bucket per zone, named <lake_prefix>-<zone> like Settings.bucket"
  }
  assert {
    condition     = alltrue([for b in aws_s3_bucket.zone : !b.force_destroy])
    error_message = "buckets must not be force-destroyable by default"
  }

  assert {
    condition = alltrue([for z, c in aws_s3_bucket_server_side_encryption_configuration.zone :
      one(one(c.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms" && one(c.rule).bucket_key_enabled
    ])
    error_message = "every zone bucket must default to SSE-KMS with a bucket key"
  }
  assert {
    condition     = length(aws_s3_bucket_server_side_encryption_configuration.zone) == 8
    error_message = "encryption must cover all eight zones"
  }
  assert {
    condition = alltrue([for p in aws_s3_bucket_public_access_block.zone :
    p.block_public_acls && p.block_public_policy && p.ignore_public_acls && p.restrict_public_buckets])
    error_message = "public access must be blocked on every bucket"
  }
  assert {
    condition     = length(aws_s3_bucket_public_access_block.zone) == 8
    error_message = "public access block must cover all eight zones"
  }
  assert {
    condition     = alltrue([for v in aws_s3_bucket_versioning.zone : one(v.versioning_configuration).status == "Enabled"])
    error_message = "every bucket must be versioned"
  }
  assert {
    condition     = aws_kms_key.lake.enable_key_rotation
    error_message = "the lake key must rotate"
  }
  assert {
    condition     = aws_secretsmanager_secret.hmac.kms_key_id != null && aws_secretsmanager_secret.hmac.name == "seg/hmac-key"
    error_message = "the HMAC secret is KMS-encrypted and named after SEG_HMAC_SECRET_NAME"
  }

  assert {
    condition = alltrue([for p in aws_s3_bucket_policy.zone :
      jsondecode(p.policy).Statement[0].Effect == "Deny" &&
      jsondecode(p.policy).Statement[0].Condition.Bool["aws:SecureTransport"] == "false"
    ])
    error_message = "every bucket policy must deny non-TLS access"
  }
  assert {
    condition     = length(aws_s3_bucket_policy.zone) == 8
    error_message = "TLS-only policy on all eight buckets"
  }

  assert {
    condition     = one([for r in aws_s3_bucket_lifecycle_configuration.zone["hot"].rule : r.expiration[0].days if r.id == "expire-hot"]) == 14
    error_message = "hot objects expire after the compaction window"
  }
  assert {
    condition     = one(one([for r in aws_s3_bucket_lifecycle_configuration.zone["raw"].rule : r.transition if r.id == "infrequent-access-raw"])).storage_class == "STANDARD_IA"
    error_message = "raw objects move to infrequent access"
  }
  assert {
    condition     = length([for r in aws_s3_bucket_lifecycle_configuration.zone["curated"].rule : r if length(r.expiration) > 0]) == 0
    error_message = "curated data must never expire"
  }
}

run "catalog_and_lake_formation" {
  command = apply

  assert {
    condition     = length(aws_glue_catalog_database.zone) == 8 && aws_glue_catalog_database.zone["curated"].name == "seg_test_curated"
    error_message = "one Glue database per zone, hyphens replaced"
  }
  assert {
    condition     = toset(keys(aws_glue_catalog_table.this)) == toset(["curated_events", "features_user_features", "segments_segment_map"])
    error_message = "tables for curated, features and segments"
  }
  assert {
    condition     = one(aws_glue_catalog_table.this["curated_events"].storage_descriptor).location == "s3://seg-test-curated/events/"
    error_message = "curated.events lives at segmentation.lake EVENTS"
  }
  assert {
    condition     = !contains([for c in one(aws_glue_catalog_table.this["curated_events"].storage_descriptor).columns : c.name], "user_id")
    error_message = "no raw user id column in the lake"
  }

  assert {
    condition     = length(aws_lakeformation_resource.zone) == 8 && alltrue([for r in aws_lakeformation_resource.zone : r.role_arn == aws_iam_role.lakeformation.arn])
    error_message = "every zone bucket is registered with Lake Formation through its role"
  }
  assert {
    condition     = contains(aws_lakeformation_data_lake_settings.this.admins, "arn:aws:iam::123456789012:user/deployer")
    error_message = "the deployer administers the lake"
  }
  assert {
    condition     = toset(aws_lakeformation_lf_tag.zone.values) == toset(["landing", "raw", "hot", "curated", "features", "segments", "quarantine", "artifacts"])
    error_message = "LF-tag zone has a value per zone"
  }
  assert {
    condition     = one([for t in aws_lakeformation_resource_lf_tags.database["landing"].lf_tag : t.value if t.key == "sensitivity"]) == "restricted"
    error_message = "landing may hold raw ids: sensitivity restricted"
  }
}

run "each_role_is_granted_exactly_its_zones" {
  command = apply

  # Zones each role reaches through Lake Formation table grants, by database.
  assert {
    condition = alltrue([for stage, expected in {
      ingest     = ["landing", "raw", "hot", "quarantine"]
      etl        = ["raw", "hot", "artifacts", "curated", "features", "quarantine"]
      ml         = ["features", "artifacts", "segments"]
      serving    = ["segments"]
      monitor    = ["curated", "segments"]
      analyst    = ["curated", "features", "segments"]
      evaluation = ["curated", "features", "segments", "artifacts"]
      } : toset([for p in aws_lakeformation_permissions.tables : one(p.table).database_name if p.principal == aws_iam_role.stage[stage].arn])
      == toset([for z in expected : "seg_test_${z}"])
    ])
    error_message = "a stage's table grants must cover exactly its zones"
  }
  # Write access (data location + INSERT) only where the stage writes.
  assert {
    condition = alltrue([for stage, expected in {
      ingest     = ["raw", "hot", "quarantine"]
      etl        = ["curated", "features", "quarantine"]
      ml         = ["segments"]
      serving    = []
      monitor    = []
      analyst    = []
      evaluation = ["segments"]
      } : toset([for p in aws_lakeformation_permissions.tables : one(p.table).database_name if p.principal == aws_iam_role.stage[stage].arn && contains(p.permissions, "INSERT")])
      == toset([for z in expected : "seg_test_${z}"])
    ])
    error_message = "INSERT only on the zones a stage writes"
  }
  assert {
    condition = toset([for k, p in aws_lakeformation_permissions.location : k]) == toset([
      "ingest/raw", "ingest/hot", "ingest/quarantine", "etl/curated", "etl/features", "etl/quarantine", "ml/segments", "assign/segments", "evaluation/segments"
    ])
    error_message = "data location access only for written zones"
  }
  # The IAM side agrees: S3 object writes only on written zones.
  assert {
    condition = toset(one([for s in jsondecode(aws_iam_role_policy.stage_lake["etl"].policy).Statement : s.Resource if s.Sid == "WriteZones"])) == toset([
      "${aws_s3_bucket.zone["curated"].arn}/*", "${aws_s3_bucket.zone["features"].arn}/*", "${aws_s3_bucket.zone["quarantine"].arn}/*"
    ])
    error_message = "etl's IAM policy writes curated, features and quarantine only"
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.stage_lake["serving"].policy).Statement : s if s.Sid == "WriteZones"]) == 0
    error_message = "serving writes no zone"
  }
  assert {
    condition = length([for s in jsondecode(aws_iam_role_policy.stage_lake["monitor"].policy).Statement : s if s.Sid == "WriteZones"]) == 0 && toset(one([for s in jsondecode(aws_iam_role_policy.stage_lake["monitor"].policy).Statement : s.Resource if s.Sid == "ReadZones"])) == toset([
      "${aws_s3_bucket.zone["curated"].arn}/*", "${aws_s3_bucket.zone["segments"].arn}/*"
    ])
    error_message = "the monitor reads curated (quality reports) and segments (model documents), writes nothing"
  }
  assert {
    condition     = jsondecode(aws_iam_role.stage["monitor"].assume_role_policy).Statement[0].Principal.Service == ["lambda.amazonaws.com"]
    error_message = "the monitor role is assumed by Lambda"
  }
  assert {
    condition     = jsondecode(aws_iam_role.stage["ml"].assume_role_policy).Statement[0].Principal.Service == ["emr-serverless.amazonaws.com"]
    error_message = "the ml role is assumed by EMR Serverless"
  }

  assert {
    condition     = toset(keys(aws_iam_role_policy.hmac_secret)) == toset(["ingest", "serving"])
    error_message = "only the stages handling raw ids read the HMAC key"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.hmac_secret["ingest"].policy).Statement[0].Resource == [aws_secretsmanager_secret.hmac.arn]
    error_message = "the grant is scoped to the one secret"
  }
}

run "the_etl_stage_keeps_the_ledger_and_the_curated_partitions" {
  command = apply

  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.stage_lake["etl"].policy).Statement : s if s.Sid == "RunLedger"]) == {
      Sid    = "RunLedger", Effect = "Allow", Resource = [var.ledger_table_arn]
      Action = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    }
    error_message = "etl (the Glue jobs clean and features) reads and writes the ledger's items, on the one table"
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.stage_lake["etl"].policy).Statement : s if s.Sid == "TableKey"]) == {
      Sid       = "TableKey", Effect = "Allow", Resource = [aws_kms_key.lake.arn]
      Action    = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:DescribeKey"]
      Condition = { StringEquals = { "kms:ViaService" = "dynamodb.eu-west-1.amazonaws.com" } }
    }
    error_message = "the ledger's key, only through DynamoDB"
  }
  assert {
    condition = alltrue([for stage in ["ingest", "ml", "serving", "monitor", "analyst"] :
      length([for s in jsondecode(aws_iam_role_policy.stage_lake[stage].policy).Statement : s if contains(["RunLedger", "KeepPartitions"], s.Sid)]) == 0
    ])
    error_message = "no other stage touches the ledger or keeps partitions"
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.stage_lake["ml"].policy).Statement : s if s.Sid == "PublishedPointer"]) == {
      Sid       = "PublishedPointer", Effect = "Allow", Resource = [var.segments_table_arn]
      Action    = ["dynamodb:GetItem"]
      Condition = { "ForAllValues:StringEquals" = { "dynamodb:LeadingKeys" = ["META"] } }
    }
    error_message = "the cluster step (ml) reads the segments table's META items only: the published pointer"
  }
  assert {
    condition = alltrue([for stage in ["ingest", "serving", "monitor", "analyst"] :
      length([for s in jsondecode(aws_iam_role_policy.stage_lake[stage].policy).Statement : s if contains(["PublishedPointer", "TableKey"], s.Sid)]) == 0
    ])
    error_message = "only etl (ledger) and ml (pointer) use a table or its key"
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.stage_lake["etl"].policy).Statement : s if s.Sid == "KeepPartitions"]) == {
      Sid    = "KeepPartitions", Effect = "Allow"
      Action = ["glue:GetTable", "glue:GetPartition", "glue:GetPartitions", "glue:BatchCreatePartition", "glue:BatchUpdatePartition", "glue:BatchDeletePartition"]
      Resource = [
        "arn:aws:glue:eu-west-1:123456789012:catalog",
        "arn:aws:glue:eu-west-1:123456789012:database/seg_test_curated",
        "arn:aws:glue:eu-west-1:123456789012:table/seg_test_curated/events",
      ]
    }
    error_message = "etl adds, moves and drops curated.events partitions (catalog, database, that table)"
  }
  # Lake Formation: etl writes curated, so its curated table grant already holds ALTER.
  assert {
    condition = length(aws_lakeformation_permissions.partitions) == 0 && contains(
      one([for p in aws_lakeformation_permissions.tables : p.permissions if p.principal == aws_iam_role.stage["etl"].arn && one(p.table).database_name == "seg_test_curated"]),
    "ALTER")
    error_message = "etl alters curated.events through its curated grant, without a second grant"
  }
}

run "the_assign_stage_reads_the_ledger_head_and_writes_provisional_items_only" {
  command = apply

  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.stage_lake["assign"].policy).Statement : s if s.Sid == "ProvisionalAssignments"]) == {
      Sid       = "ProvisionalAssignments", Effect = "Allow", Resource = [var.segments_table_arn]
      Action    = ["dynamodb:PutItem", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem"]
      Condition = { "ForAllValues:StringLike" = { "dynamodb:LeadingKeys" = ["USER#*", "PROVISIONAL#*"] } }
    }
    error_message = "the between-run assignment writes user items and provisional summaries only (never META or a segment profile)"
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.stage_lake["assign"].policy).Statement : s if s.Sid == "RunLedgerHead"]) == {
      Sid       = "RunLedgerHead", Effect = "Allow", Resource = [var.ledger_table_arn], Action = ["dynamodb:GetItem"]
      Condition = { "ForAllValues:StringEquals" = { "dynamodb:LeadingKeys" = ["head"] } }
    }
    error_message = "it reads the ledger's head and nothing else: the lock and commits are the clean step's"
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.stage_lake["assign"].policy).Statement : s if contains(["RunLedger", "KeepPartitions"], s.Sid)]) == 0 && length([for s in jsondecode(aws_iam_role_policy.stage_lake["assign"].policy).Statement : s if s.Sid == "PublishedPointer"]) == 1
    error_message = "it reads the published pointer, never writes the ledger or the catalog's partitions"
  }
  assert {
    condition     = toset(one([for s in jsondecode(aws_iam_role_policy.stage_lake["assign"].policy).Statement : s.Resource if s.Sid == "WriteZones"])) == toset(["${aws_s3_bucket.zone["segments"].arn}/*"])
    error_message = "its only lake write is its record in the segments zone"
  }
  assert {
    condition     = jsondecode(aws_iam_role.stage["assign"].assume_role_policy).Statement[0].Principal == { Service = ["glue.amazonaws.com"] }
    error_message = "a Glue job runs as it"
  }
  assert {
    condition = alltrue([for stage in ["ingest", "etl", "ml", "serving", "monitor", "analyst"] :
      length([for s in jsondecode(aws_iam_role_policy.stage_lake[stage].policy).Statement : s if contains(["ProvisionalAssignments", "RunLedgerHead"], s.Sid)]) == 0
    ])
    error_message = "no other stage writes provisional items"
  }
}

run "the_evaluation_stage_reads_the_ledger_head_and_writes_only_segments" {
  command = apply

  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.stage_lake["evaluation"].policy).Statement : s if s.Sid == "RunLedgerHead"]) == {
      Sid       = "RunLedgerHead", Effect = "Allow", Resource = [var.ledger_table_arn]
      Action    = ["dynamodb:GetItem"]
      Condition = { "ForAllValues:StringEquals" = { "dynamodb:LeadingKeys" = ["head"] } }
    }
    error_message = "the backtest (evaluation) reads the ledger's head item only"
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.stage_lake["evaluation"].policy).Statement : s if contains(["RunLedger", "KeepPartitions", "PublishedPointer", "ProvisionalAssignments"], s.Sid)]) == 0
    error_message = "evaluation neither writes the ledger, keeps partitions, reads the published pointer nor writes provisional items"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.stage_lake["evaluation"].policy).Statement : s.Condition if s.Sid == "TableKey"]) == { StringEquals = { "kms:ViaService" = "dynamodb.eu-west-1.amazonaws.com" } }
    error_message = "the ledger's key, only through DynamoDB"
  }
  assert {
    condition = toset(one([for s in jsondecode(aws_iam_role_policy.stage_lake["evaluation"].policy).Statement : s.Resource if s.Sid == "WriteZones"])) == toset(["${aws_s3_bucket.zone["segments"].arn}/*"]) && toset(one([for s in jsondecode(aws_iam_role_policy.stage_lake["evaluation"].policy).Statement : s.Resource if s.Sid == "ReadZones"])) == toset([
      for z in ["curated", "features", "segments", "artifacts"] : "${aws_s3_bucket.zone[z].arn}/*"
    ])
    error_message = "evaluation reads curated, features, segments and artifacts, writes segments only"
  }
  assert {
    condition     = jsondecode(aws_iam_role.stage["evaluation"].assume_role_policy).Statement[0].Principal.Service == ["glue.amazonaws.com"]
    error_message = "the evaluation role is assumed by Glue"
  }
  assert {
    condition     = !contains(keys(aws_iam_role_policy.hmac_secret), "evaluation")
    error_message = "the backtest never reads the HMAC key"
  }
  assert {
    condition = alltrue([for stage in ["ingest", "etl", "ml", "serving", "monitor", "analyst"] :
      length([for s in jsondecode(aws_iam_role_policy.stage_lake[stage].policy).Statement : s if s.Sid == "RunLedgerHead"]) == 0
    ])
    error_message = "no stage but assign and evaluation has the head-only grant (etl holds the full ledger one)"
  }
}

run "the_ledger_head_reader_needs_the_ledger_table" {
  command = plan
  variables {
    ledger_table_arn = null
    stage_access = {
      evaluation = { read = ["curated"], write = [], ledger_read = true }
    }
    stage_trust          = { evaluation = { services = ["glue.amazonaws.com"] } }
    secret_reader_stages = []
  }
  expect_failures = [var.ledger_table_arn]
}

run "a_read_only_stage_keeping_partitions_gets_alter_on_the_table" {
  command = apply
  variables {
    stage_access = {
      etl     = { read = ["raw", "hot", "artifacts"], write = ["curated", "features", "quarantine"], ledger = true, partitions = ["curated_events"] }
      analyst = { read = ["curated"], write = [], partitions = ["curated_events"] }
    }
    stage_trust          = { etl = { services = ["glue.amazonaws.com"] }, analyst = {} }
    secret_reader_stages = []
  }
  assert {
    condition     = keys(aws_lakeformation_permissions.partitions) == ["analyst/curated_events"]
    error_message = "one table grant, for the stage that does not write curated"
  }
  assert {
    condition     = one(aws_lakeformation_permissions.partitions["analyst/curated_events"].table).name == "events" && toset(aws_lakeformation_permissions.partitions["analyst/curated_events"].permissions) == toset(["ALTER", "DESCRIBE"])
    error_message = "ALTER on curated.events only"
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.stage_lake["analyst"].policy).Statement : s if s.Sid == "RunLedger"]) == 0
    error_message = "ledger = false by default"
  }
}

run "the_pointer_stage_needs_the_segments_table" {
  command = plan
  variables {
    segments_table_arn = null
  }
  expect_failures = [var.segments_table_arn]
}

run "the_ledger_stage_needs_the_ledger_table" {
  command = plan
  variables {
    ledger_table_arn = null
  }
  expect_failures = [var.ledger_table_arn]
}

run "partitions_name_a_catalog_table" {
  command = plan
  variables {
    stage_access = {
      etl = { read = ["raw"], write = ["curated"], partitions = ["curated_evnets"] }
    }
    stage_trust          = { etl = { services = ["glue.amazonaws.com"] } }
    secret_reader_stages = []
  }
  expect_failures = [var.stage_access]
}

run "lake_prefix_validated" {
  command = plan
  variables {
    lake_prefix = "Bad_Prefix"
  }
  expect_failures = [var.lake_prefix]
}

run "s3_managed_keys_for_an_http_emulator" {
  command = apply
  variables {
    bucket_sse_algorithm = "AES256"
  }
  assert {
    condition = alltrue([for z, c in aws_s3_bucket_server_side_encryption_configuration.zone :
      one(one(c.rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256" &&
      one(one(c.rule).apply_server_side_encryption_by_default).kms_master_key_id == null &&
      !one(c.rule).bucket_key_enabled
    ])
    error_message = "AES256 buckets name no KMS key and no bucket key"
  }
}

run "sse_algorithm_validated" {
  command = plan
  variables {
    bucket_sse_algorithm = "aws:kms:dsse"
  }
  expect_failures = [var.bucket_sse_algorithm]
}
