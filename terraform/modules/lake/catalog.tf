# Glue Data Catalog: a database per zone and the tables the pipeline's readers query.

resource "aws_glue_data_catalog_encryption_settings" "this" {
  count = var.manage_catalog_encryption ? 1 : 0
  data_catalog_encryption_settings {
    connection_password_encryption {
      return_connection_password_encrypted = true
      aws_kms_key_id                       = aws_kms_key.lake.arn
    }
    encryption_at_rest {
      catalog_encryption_mode = "SSE-KMS"
      sse_aws_kms_key_id      = aws_kms_key.lake.arn
    }
  }
}

resource "aws_glue_catalog_database" "zone" {
  for_each     = local.databases
  name         = each.value
  description  = "Lake zone ${each.key} (s3://${local.buckets[each.key]})"
  location_uri = "s3://${local.buckets[each.key]}/"

  # The data lake settings define no IAMAllowedPrincipals defaults, so databases created after
  # them get none either: access comes from the explicit per-stage grants only.
  depends_on = [aws_lakeformation_data_lake_settings.this]
}

locals {
  parquet_input  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
  parquet_output = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
  parquet_serde  = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"

  # The tables' columns in Glue types, as the pipeline writes them: segmentation.pipeline.tables
  # (GLUE_TABLES), held equal to these lists by tests/unit/test_schemas.py.
  # segmentation.lake.LAKE_EVENT_SCHEMA:
  event_columns = [
    { name = "event_id", type = "string" },
    { name = "user_anon_id", type = "string" },
    { name = "event_ts", type = "timestamp" },
    { name = "event_type", type = "string" },
    { name = "amount", type = "double" },
    { name = "session_id", type = "string" },
    { name = "content_id", type = "string" },
    { name = "device", type = "string" },
    { name = "watch_seconds", type = "double" },
    { name = "country", type = "string" },
    { name = "ingest_ts", type = "timestamp" },
    { name = "source", type = "string" },
  ]
  # segmentation.lake.CLEAN_FLAGS: what the clean step imputed, capped or sessionised.
  clean_flag_columns = [
    { name = "amount_imputed", type = "boolean" },
    { name = "watch_seconds_imputed", type = "boolean" },
    { name = "amount_capped", type = "boolean" },
    { name = "session_imputed", type = "boolean" },
  ]
  # segmentation.lake.CLEAN_ORIGINALS: the numbers as they arrived, beside the imputed/capped ones.
  clean_original_columns = [
    { name = "amount_original", type = "double" },
    { name = "watch_seconds_original", type = "double" },
  ]

  # The event counts the shares are rates over (segmentation.pipeline.features.COUNT_COLUMNS).
  feature_count_columns = [
    { name = "n_events", type = "double" },
    { name = "n_ended_plays", type = "double" },
    { name = "n_impressions", type = "double" },
  ]

  tables = {
    curated_events = {
      zone      = "curated"
      name      = "events"
      prefix    = "events"
      columns   = concat(local.event_columns, local.clean_flag_columns, local.clean_original_columns)
      partition = "event_date"
      comment   = "Cleaned, deduplicated events (Glue job clean)."
    }
    features_user_features = {
      zone      = "features"
      name      = "user_features"
      prefix    = "user_features"
      columns   = concat([{ name = "user_anon_id", type = "string" }], var.feature_columns, local.feature_count_columns)
      partition = "snapshot_date"
      comment   = "Per-user features over the feature window (Glue job features)."
    }
    segments_segment_map = {
      zone = "segments"
      name = "segment_map"
      columns = [
        { name = "user_anon_id", type = "string" },
        { name = "segment_id", type = "int" },
        { name = "segment_name", type = "string" },
        { name = "segment_key", type = "string" },
        { name = "moved_since_previous", type = "boolean" },
        { name = "reasons", type = "string" },
      ]
      prefix    = "segment_map"
      partition = "model_version"
      comment   = "user_anon_id -> segment_id and segment_name, per model version (EMR step cluster)."
    }
  }
}

resource "aws_glue_catalog_table" "this" {
  for_each      = local.tables
  name          = each.value.name
  database_name = aws_glue_catalog_database.zone[each.value.zone].name
  description   = each.value.comment
  table_type    = "EXTERNAL_TABLE"

  parameters = {
    classification     = "parquet"
    EXTERNAL           = "TRUE"
    "parquet.compress" = "SNAPPY"
  }

  partition_keys {
    name = each.value.partition
    type = "string"
  }

  storage_descriptor {
    location      = "s3://${local.buckets[each.value.zone]}/${each.value.prefix}/"
    input_format  = local.parquet_input
    output_format = local.parquet_output

    ser_de_info {
      serialization_library = local.parquet_serde
      parameters            = { "serialization.format" = "1" }
    }

    dynamic "columns" {
      for_each = each.value.columns
      content {
        name = columns.value.name
        type = columns.value.type
      }
    }
  }
}
