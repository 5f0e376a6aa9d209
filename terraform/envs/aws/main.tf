# The whole AWS deployment. Build the artifacts first (`make package`), then plan/apply here.

provider "aws" {
  region = var.region
  default_tags {
    tags = merge({ Project = "segmentation", Environment = var.environment, ManagedBy = "terraform" }, var.tags)
  }
}

data "aws_availability_zones" "available" {
  state = "available"
}

locals {
  repo  = abspath("${path.root}/../../..")
  build = coalesce(var.build_dir, "${local.repo}/build")

  # Artifacts by path + hash (filebase64sha256). A missing file has a null hash; the modules'
  # preconditions then fail the plan with "run `make package` first".
  lambda_packages = {
    for n in ["ingest", "batch_ingest", "publish", "segment_api"] : n => {
      path = "${local.build}/lambda/${n}.zip"
      hash = try(filebase64sha256("${local.build}/lambda/${n}.zip"), null)
    }
  }
  layer_zip = "${local.build}/layer/dependencies.zip"
  wheels = {
    for f in fileset("${local.build}/wheelhouse", "*.whl") : f => {
      path = "${local.build}/wheelhouse/${f}"
      hash = filebase64sha256("${local.build}/wheelhouse/${f}")
    }
  }
  glue_scripts = {
    for j in ["clean", "features"] : j => {
      path = "${local.build}/glue/${j}.py"
      hash = try(filebase64sha256("${local.build}/glue/${j}.py"), null)
    }
  }
  emr_entry_point = {
    path = "${local.build}/emr/cluster.py"
    hash = try(filebase64sha256("${local.build}/emr/cluster.py"), null)
  }
  emr_venv = {
    path = "${local.build}/emr/pyspark_venv.tar.gz"
    hash = try(filebase64sha256("${local.build}/emr/pyspark_venv.tar.gz"), null)
  }

  # The settings every function reads (segmentation.config.Settings, SEG_* names).
  function_env = {
    SEG_ENVIRONMENT              = "aws"
    SEG_AWS_REGION               = var.region
    SEG_LAKE_PREFIX              = module.lake.lake_prefix
    SEG_HMAC_SECRET_NAME         = module.lake.hmac_secret_name
    SEG_SEGMENTS_TABLE           = var.segments_table
    SEG_MLFLOW_TRACKING_URI      = module.tracking.tracking_uri
    POWERTOOLS_METRICS_NAMESPACE = "Segmentation"
    POWERTOOLS_LOG_LEVEL         = "INFO"
  }
  layers = [aws_lambda_layer_version.dependencies.arn, var.aws_sdk_pandas_layer_arn]
}

module "network" {
  source             = "../../modules/network"
  name_prefix        = var.name_prefix
  cidr_block         = var.vpc_cidr
  availability_zones = slice(data.aws_availability_zones.available.names, 0, var.az_count)
  kms_key_arn        = module.lake.kms_key_arn

  flow_log_retention_days = var.log_retention_days
}

module "lake" {
  source           = "../../modules/lake"
  name_prefix      = var.name_prefix
  lake_prefix      = var.lake_prefix
  hmac_secret_name = var.hmac_secret_name
  force_destroy    = !var.protect_data
}

resource "aws_lambda_layer_version" "dependencies" {
  layer_name               = "${var.name_prefix}-dependencies"
  description              = "segmentation core package + pydantic + Powertools (pyarrow/pandas/numpy: AWSSDKPandas layer)"
  filename                 = local.layer_zip
  source_code_hash         = try(filebase64sha256(local.layer_zip), null)
  compatible_runtimes      = ["python3.11"]
  compatible_architectures = ["x86_64"]

  lifecycle {
    precondition {
      condition     = fileexists(local.layer_zip)
      error_message = "Layer ${local.layer_zip} is missing: run `make package` first."
    }
  }
}

module "streaming" {
  source               = "../../modules/streaming"
  name_prefix          = var.name_prefix
  msk_mode             = var.msk_mode
  vpc                  = module.network.vpc
  topic                = var.kafka_topic
  kms_key_arn          = module.lake.kms_key_arn
  ingest_role          = { arn = module.lake.stage_role_arns["ingest"], name = module.lake.stage_role_names["ingest"] }
  landing_bucket       = { name = module.lake.bucket_names["landing"], arn = module.lake.bucket_arns["landing"] }
  ingest_package       = local.lambda_packages["ingest"]
  batch_ingest_package = local.lambda_packages["batch_ingest"]
  layer_arns           = local.layers
  environment          = local.function_env
  log_retention_days   = var.log_retention_days
}

module "processing" {
  source                  = "../../modules/processing"
  name_prefix             = var.name_prefix
  lake_prefix             = module.lake.lake_prefix
  artifacts_bucket        = { name = module.lake.bucket_names["artifacts"], arn = module.lake.bucket_arns["artifacts"] }
  kms_key_arn             = module.lake.kms_key_arn
  etl_role                = { arn = module.lake.stage_role_arns["etl"], name = module.lake.stage_role_names["etl"] }
  ml_role                 = { arn = module.lake.stage_role_arns["ml"], name = module.lake.stage_role_names["ml"] }
  glue_scripts            = local.glue_scripts
  wheels                  = local.wheels
  emr_entry_point         = local.emr_entry_point
  emr_venv                = local.emr_venv
  worker_type             = var.glue_worker_type
  number_of_workers       = var.glue_workers
  emr_release_label       = var.emr_release_label
  vpc                     = module.network.vpc
  mlflow_tracking_uri     = module.tracking.tracking_uri
  log_retention_days      = var.log_retention_days
  allow_missing_artifacts = false
}

module "tracking" {
  source                    = "../../modules/tracking"
  name_prefix               = var.name_prefix
  vpc                       = module.network.vpc
  kms_key_arn               = module.lake.kms_key_arn
  artifacts_bucket          = { name = module.lake.bucket_names["artifacts"], arn = module.lake.bucket_arns["artifacts"] }
  client_security_group_ids = [module.processing.jobs_security_group_id]
  client_cidr_blocks        = var.mlflow_client_cidrs
  certificate_arn           = var.mlflow_certificate_arn
  deletion_protection       = var.protect_data
  log_retention_days        = var.log_retention_days
}

module "serving" {
  source              = "../../modules/serving"
  name_prefix         = var.name_prefix
  table_name          = var.segments_table
  kms_key_arn         = module.lake.kms_key_arn
  serving_role        = { arn = module.lake.stage_role_arns["serving"], name = module.lake.stage_role_names["serving"] }
  segment_api_package = local.lambda_packages["segment_api"]
  publish_package     = local.lambda_packages["publish"]
  layer_arns          = local.layers
  environment         = local.function_env
  vpc                 = module.network.vpc
  deletion_protection = var.protect_data
  log_retention_days  = var.log_retention_days
}

module "orchestration" {
  source                      = "../../modules/orchestration"
  name_prefix                 = var.name_prefix
  definition_path             = "${local.repo}/step_functions/segmentation_pipeline.asl.json"
  lake_prefix                 = module.lake.lake_prefix
  glue_clean_job_name         = module.processing.glue_clean_job_name
  glue_features_job_name      = module.processing.glue_features_job_name
  glue_job_arns               = module.processing.glue_job_arns
  emr_application_id          = module.processing.emr_application_id
  emr_application_arn         = module.processing.emr_application_arn
  emr_job_role_arn            = module.processing.emr_job_role_arn
  emr_cluster_entry_point     = module.processing.emr_cluster_entry_point
  emr_spark_submit_parameters = module.processing.emr_spark_submit_parameters
  publish_function_arn        = module.serving.publish_function_arn
  notify_topic_arn            = module.monitoring.topic_arn
  mlflow_tracking_uri         = module.tracking.tracking_uri
  kms_key_arn                 = module.lake.kms_key_arn
  schedule_expression         = var.schedule_expression
  schedule_input              = var.schedule_input
  log_retention_days          = var.log_retention_days
}

module "monitoring" {
  source                     = "../../modules/monitoring"
  name_prefix                = var.name_prefix
  kms_key_arn                = module.lake.kms_key_arn
  alarm_emails               = var.alarm_emails
  state_machine_arn          = module.orchestration.state_machine_arn
  ingest_function_name       = module.streaming.ingest_function_name
  batch_ingest_function_name = module.streaming.batch_ingest_function_name
  stream_mapping_enabled     = true
  failure_queue_name         = module.streaming.failure_queue_name
  api_name                   = module.serving.api_name
  api_stage                  = module.serving.stage_name
}

# A warning, not an error: the deployment works without the venv, but the EMR clustering step
# cannot import the core package on EMR's own Python 3.9 until it is built and uploaded.
check "emr_venv_built" {
  assert {
    condition     = local.emr_venv.hash != null
    error_message = "build/emr/pyspark_venv.tar.gz is missing: run `make package-emr-venv` (Docker) before the first pipeline run, then apply again."
  }
}
