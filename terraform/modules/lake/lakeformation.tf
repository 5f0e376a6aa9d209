# Lake Formation: administrators, every zone registered, LF-tags classifying the zone databases,
# and the per-stage grants (data location + database + tables) derived from var.stage_access.

data "aws_iam_session_context" "current" {
  arn = data.aws_caller_identity.current.arn
}

resource "aws_lakeformation_data_lake_settings" "this" {
  # The identity applying Terraform must administer the lake to grant anything; no
  # IAMAllowedPrincipals defaults are set, so Lake Formation permissions are authoritative.
  admins = distinct(concat([data.aws_iam_session_context.current.issuer_arn], var.lake_admin_arns))
}

resource "aws_lakeformation_resource" "zone" {
  for_each = aws_s3_bucket.zone
  arn      = each.value.arn
  role_arn = aws_iam_role.lakeformation.arn

  depends_on = [aws_lakeformation_data_lake_settings.this, aws_iam_role_policy.lakeformation]
}

resource "aws_lakeformation_lf_tag" "zone" {
  key        = "zone"
  values     = var.zones
  depends_on = [aws_lakeformation_data_lake_settings.this]
}

resource "aws_lakeformation_lf_tag" "sensitivity" {
  key        = "sensitivity"
  values     = sort(distinct(values(var.zone_sensitivity)))
  depends_on = [aws_lakeformation_data_lake_settings.this]
}

resource "aws_lakeformation_resource_lf_tags" "database" {
  for_each = aws_glue_catalog_database.zone

  database {
    name = each.value.name
  }

  lf_tag {
    key   = aws_lakeformation_lf_tag.zone.key
    value = each.key
  }

  lf_tag {
    key   = aws_lakeformation_lf_tag.sensitivity.key
    value = var.zone_sensitivity[each.key]
  }
}

locals {
  write_grants = { for k, g in local.stage_grants : k => g if g.write }
}

resource "aws_lakeformation_permissions" "location" {
  for_each    = local.write_grants
  principal   = aws_iam_role.stage[each.value.stage].arn
  permissions = ["DATA_LOCATION_ACCESS"]

  data_location {
    arn = aws_lakeformation_resource.zone[each.value.zone].arn
  }
}

resource "aws_lakeformation_permissions" "database" {
  for_each    = local.stage_grants
  principal   = aws_iam_role.stage[each.value.stage].arn
  permissions = each.value.write ? ["ALTER", "CREATE_TABLE", "DESCRIBE"] : ["DESCRIBE"]

  database {
    name = aws_glue_catalog_database.zone[each.value.zone].name
  }

  depends_on = [aws_lakeformation_data_lake_settings.this]
}

resource "aws_lakeformation_permissions" "tables" {
  for_each    = local.stage_grants
  principal   = aws_iam_role.stage[each.value.stage].arn
  permissions = each.value.write ? ["ALTER", "DELETE", "DESCRIBE", "INSERT", "SELECT"] : ["DESCRIBE", "SELECT"]

  table {
    database_name = aws_glue_catalog_database.zone[each.value.zone].name
    wildcard      = true
  }

  depends_on = [aws_lakeformation_data_lake_settings.this]
}

# Partition upkeep (stage_access partitions: the clean step moves curated.events' partitions to
# each committed run's locations) needs ALTER on the table. A stage writing the table's zone holds
# it already through the zone's table grant above (ALTER, DELETE, INSERT), so only a stage that
# merely reads the zone gets a grant on the one table.
locals {
  partition_only_grants = { for k, g in local.partition_grants : k => g if !contains(var.stage_access[g.stage].write, local.tables[g.table].zone) }
}

resource "aws_lakeformation_permissions" "partitions" {
  for_each    = local.partition_only_grants
  principal   = aws_iam_role.stage[each.value.stage].arn
  permissions = ["ALTER", "DESCRIBE"]

  table {
    database_name = aws_glue_catalog_table.this[each.value.table].database_name
    name          = aws_glue_catalog_table.this[each.value.table].name
  }

  depends_on = [aws_lakeformation_data_lake_settings.this]
}
