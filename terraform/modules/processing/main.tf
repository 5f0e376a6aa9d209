# Batch processing: Glue 5.0 jobs (clean, features, assign, backtest), an EMR Serverless application for the
# clustering step, and the artifacts they run (scripts, wheels, venv) uploaded to the artifacts zone.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  in_vpc = var.vpc != null
  # The network's workload group (HTTPS to the endpoints, MLflow over HTTPS) plus the jobs' own.
  job_sgs   = local.in_vpc ? concat(var.vpc.security_group_ids, [aws_security_group.jobs[0].id]) : []
  bucket    = var.artifacts_bucket.name
  s3        = "s3://${var.artifacts_bucket.name}"
  partition = data.aws_partition.current.partition
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name

  scripts = { for k, v in var.glue_scripts : k => v if v.hash != null }
  wheels  = { for k, v in var.wheels : k => v if v.hash != null }
  venv    = var.emr_venv == null ? null : (var.emr_venv.hash == null ? null : var.emr_venv)

  script_keys = { for k in keys(var.glue_scripts) : k => "glue/${k}.py" }
  # Roles the Glue jobs run as: etl, and the job_roles of the jobs defined here.
  glue_roles = merge({ etl = var.etl_role.name }, {
    for j, r in var.job_roles : j => r.name if contains(keys(var.glue_scripts), j) && r.name != var.etl_role.name
  })
  wheel_uris      = [for k in sort(keys(var.wheels)) : "${local.s3}/wheels/${k}"]
  entry_point_key = "emr/${basename(var.emr_entry_point.path)}"
  venv_key        = "emr/pyspark_venv.tar.gz"

  # The settings every Spark step reads (segmentation.config.Settings): EMR gets them as driver
  # and executor environment, Glue (which has no environment of its own) as --SEG_* job
  # arguments that segmentation.pipeline.entry moves into the environment before it starts.
  spark_env = merge(var.settings, {
    SEG_ENVIRONMENT         = var.environment_name
    SEG_LAKE_PREFIX         = var.lake_prefix
    SEG_LEDGER_TABLE        = var.ledger_table
    SEG_SEGMENTS_TABLE      = var.segments_table
    SEG_AWS_REGION          = local.region
    SEG_MLFLOW_TRACKING_URI = var.mlflow_tracking_uri
  })

  # The venv (if built) replaces EMR's Python 3.9 with the project's 3.11 and its dependencies.
  emr_spark_submit_parameters = join(" ", concat(
    local.venv == null ? [] : [
      "--conf spark.archives=${local.s3}/${local.venv_key}#environment",
      "--conf spark.emr-serverless.driverEnv.PYSPARK_DRIVER_PYTHON=./environment/bin/python",
      "--conf spark.emr-serverless.driverEnv.PYSPARK_PYTHON=./environment/bin/python",
      "--conf spark.executorEnv.PYSPARK_PYTHON=./environment/bin/python",
    ],
    [for k, v in local.spark_env : "--conf spark.emr-serverless.driverEnv.${k}=${v}"],
    [for k, v in local.spark_env : "--conf spark.executorEnv.${k}=${v}"],
    ["--conf spark.hadoop.hive.metastore.client.factory.class=com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory"],
  ))
}

# ---------------------------------------------------------------------------------------------
# Artifacts in the artifacts zone
# ---------------------------------------------------------------------------------------------
resource "aws_s3_object" "glue_script" {
  for_each    = local.scripts
  bucket      = local.bucket
  key         = local.script_keys[each.key]
  source      = each.value.path
  source_hash = each.value.hash
  kms_key_id  = var.kms_key_arn
}

resource "aws_s3_object" "wheel" {
  for_each    = local.wheels
  bucket      = local.bucket
  key         = "wheels/${each.key}"
  source      = each.value.path
  source_hash = each.value.hash
  kms_key_id  = var.kms_key_arn
}

resource "aws_s3_object" "emr_entry_point" {
  count       = var.emr_entry_point.hash == null ? 0 : 1
  bucket      = local.bucket
  key         = local.entry_point_key
  source      = var.emr_entry_point.path
  source_hash = var.emr_entry_point.hash
  kms_key_id  = var.kms_key_arn
}

resource "aws_s3_object" "emr_venv" {
  count       = local.venv == null ? 0 : 1
  bucket      = local.bucket
  key         = local.venv_key
  source      = local.venv.path
  source_hash = local.venv.hash
  kms_key_id  = var.kms_key_arn
}

# ---------------------------------------------------------------------------------------------
# Glue
# ---------------------------------------------------------------------------------------------
resource "aws_glue_security_configuration" "this" {
  name = "${var.name_prefix}-jobs"
  encryption_configuration {
    cloudwatch_encryption {
      cloudwatch_encryption_mode = "SSE-KMS"
      kms_key_arn                = var.kms_key_arn
    }
    job_bookmarks_encryption {
      job_bookmarks_encryption_mode = "CSE-KMS"
      kms_key_arn                   = var.kms_key_arn
    }
    s3_encryption {
      s3_encryption_mode = "SSE-KMS"
      kms_key_arn        = var.kms_key_arn
    }
  }
}

resource "aws_security_group" "jobs" {
  #checkov:skip=CKV2_AWS_5:Attached to the Glue NETWORK connection and the EMR Serverless application network_configuration in this module.
  count       = local.in_vpc ? 1 : 0
  name        = "${var.name_prefix}-spark-jobs"
  description = "Glue and EMR Serverless workers: each other, VPC endpoints, the MLflow load balancer"
  vpc_id      = var.vpc.id
}

# Glue requires workers to reach each other on every port.
resource "aws_vpc_security_group_ingress_rule" "jobs_self" {
  count                        = local.in_vpc ? 1 : 0
  security_group_id            = aws_security_group.jobs[0].id
  description                  = "Spark workers of the same job"
  ip_protocol                  = "-1"
  referenced_security_group_id = aws_security_group.jobs[0].id
}

resource "aws_vpc_security_group_egress_rule" "jobs_self" {
  count                        = local.in_vpc ? 1 : 0
  security_group_id            = aws_security_group.jobs[0].id
  description                  = "Spark workers of the same job"
  ip_protocol                  = "-1"
  referenced_security_group_id = aws_security_group.jobs[0].id
}

resource "aws_vpc_security_group_egress_rule" "jobs_mlflow_http" {
  count             = local.in_vpc ? 1 : 0
  security_group_id = aws_security_group.jobs[0].id
  description       = "MLflow behind the internal load balancer (HTTP listener)"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = var.vpc.cidr_block
}

data "aws_subnet" "first" {
  count = local.in_vpc ? 1 : 0
  id    = var.vpc.subnet_ids[0]
}

resource "aws_glue_connection" "network" {
  count           = local.in_vpc ? 1 : 0
  name            = "${var.name_prefix}-network"
  connection_type = "NETWORK"
  physical_connection_requirements {
    availability_zone      = data.aws_subnet.first[0].availability_zone
    subnet_id              = var.vpc.subnet_ids[0]
    security_group_id_list = local.job_sgs
  }
}

resource "aws_glue_job" "this" {
  for_each               = var.glue_scripts
  name                   = "${var.name_prefix}-${each.key}"
  description            = "Glue entry point glue_jobs/${each.key}.py (thin: parses args, calls the core package)"
  role_arn               = try(var.job_roles[each.key].arn, var.etl_role.arn)
  glue_version           = var.glue_version
  worker_type            = var.worker_type
  number_of_workers      = var.number_of_workers
  timeout                = var.job_timeout_minutes
  max_retries            = 0 # Step Functions owns retries, with backoff
  execution_class        = "STANDARD"
  security_configuration = aws_glue_security_configuration.this.name
  connections            = local.in_vpc ? [aws_glue_connection.network[0].name] : []

  command {
    name            = "glueetl"
    script_location = "${local.s3}/${local.script_keys[each.key]}"
    python_version  = "3"
  }

  execution_property {
    max_concurrent_runs = 1
  }

  default_arguments = merge(
    {
      "--job-language"                     = "python"
      "--lake_prefix"                      = var.lake_prefix
      "--ledger_table"                     = var.ledger_table
      "--enable-metrics"                   = "true"
      "--enable-continuous-cloudwatch-log" = "true"
      "--enable-job-insights"              = "true"
      "--enable-glue-datacatalog"          = "true"
      "--job-bookmark-option"              = "job-bookmark-disable"
      "--TempDir"                          = "${local.s3}/tmp/glue/"
    },
    { for k, v in local.spark_env : "--${k}" => v },
    length(var.wheels) == 0 ? {} : {
      # Installed from S3 with --no-deps: no NAT, so pip must not reach PyPI; the wheel set is
      # complete (numpy, pandas, pyarrow, boto3 ship with Glue 5.0).
      "--additional-python-modules"       = join(",", local.wheel_uris)
      "--python-modules-installer-option" = "--no-deps"
    },
    lookup(var.job_arguments, each.key, {}),
  )

  lifecycle {
    precondition {
      condition     = var.allow_missing_artifacts || (contains(keys(local.scripts), each.key) && length(local.wheels) == length(var.wheels) && length(var.wheels) > 0)
      error_message = "Glue job ${each.key}: script or wheels not built (missing: ${join(", ", concat([for k, v in var.glue_scripts : v.path if v.hash == null], [for k, v in var.wheels : v.path if v.hash == null]))}); run `make package` first."
    }
  }
}

# What Glue itself needs beyond the lake access the stage roles already have: the etl role's and
# each other role a job runs as (job_roles).
resource "aws_iam_role_policy" "glue_runtime" {
  for_each = local.glue_roles
  name     = "glue-runtime"
  role     = each.value
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid      = "JobLogs"
          Effect   = "Allow"
          Action   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"]
          Resource = ["arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws-glue/*"]
        },
        {
          Sid       = "JobMetrics"
          Effect    = "Allow"
          Action    = ["cloudwatch:PutMetricData"]
          Resource  = "*"
          Condition = { StringEquals = { "cloudwatch:namespace" = "Glue" } }
        },
        {
          Sid      = "SecurityConfiguration"
          Effect   = "Allow"
          Action   = ["glue:GetSecurityConfiguration", "glue:GetConnection", "glue:GetJob"]
          Resource = "*"
        },
        {
          Sid      = "TempDirAndLogsEncryption"
          Effect   = "Allow"
          Action   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
          Resource = [var.kms_key_arn]
        },
        {
          Sid      = "TempDir"
          Effect   = "Allow"
          Action   = ["s3:PutObject", "s3:DeleteObject"]
          Resource = ["${var.artifacts_bucket.arn}/tmp/glue/*"]
        },
      ],
      local.in_vpc ? [{
        # Glue places its workers' interfaces itself; these actions cannot be scoped by resource.
        Sid      = "VpcNetworkInterfaces"
        Effect   = "Allow"
        Action   = ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcEndpoints", "ec2:DescribeRouteTables", "ec2:CreateTags"]
        Resource = "*"
      }] : [],
    )
  })
}

moved {
  from = aws_iam_role_policy.glue_runtime
  to   = aws_iam_role_policy.glue_runtime["etl"]
}

# ---------------------------------------------------------------------------------------------
# EMR Serverless
# ---------------------------------------------------------------------------------------------
resource "aws_emrserverless_application" "this" {
  name          = "${var.name_prefix}-cluster"
  release_label = var.emr_release_label
  type          = "spark"
  architecture  = "X86_64"

  maximum_capacity {
    cpu    = var.emr_max_cpu
    memory = var.emr_max_memory
  }

  auto_start_configuration {
    enabled = true
  }

  auto_stop_configuration {
    enabled              = true
    idle_timeout_minutes = var.emr_idle_timeout_minutes
  }

  dynamic "network_configuration" {
    for_each = local.in_vpc ? [1] : []
    content {
      subnet_ids         = var.vpc.subnet_ids
      security_group_ids = local.job_sgs
    }
  }

  lifecycle {
    precondition {
      condition     = var.allow_missing_artifacts || var.emr_entry_point.hash != null
      error_message = "EMR entry point ${var.emr_entry_point.path} not built; run `make package` first."
    }
  }
}

resource "aws_iam_role_policy" "emr_runtime" {
  name = "emr-serverless-runtime"
  role = var.ml_role.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "JobLogsAndVenvEncryption"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = [var.kms_key_arn]
      },
    ]
  })
}
