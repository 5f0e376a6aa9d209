# The whole system wired once: the lake, streaming ingest, batch processing, MLflow (unless a
# tracking server is given), serving, the pipeline state machine and its monitoring, fed with the
# artifacts of `make package`. envs/aws and envs/local are this module with their own provider,
# network and the few settings that differ (emulator, protect_data, ...).

data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  repo  = abspath("${path.module}/../../..")
  build = coalesce(var.build_dir, "${local.repo}/build")

  # Artifacts by path + hash (filebase64sha256). A missing file has a null hash; the modules'
  # preconditions then fail the plan with "run `make package` first" (the emulator lets the
  # Spark artifacts be missing: the local runner runs the steps itself).
  lambda_packages = {
    for n in ["ingest", "batch_ingest", "publish", "segment_api", "validate_input", "monitor"] : n => {
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
    for j in ["clean", "features", "assign", "backtest"] : j => {
      path = "${local.build}/glue/${j}.py"
      hash = try(filebase64sha256("${local.build}/glue/${j}.py"), null)
    }
  }
  emr_entry_point = {
    path = "${local.build}/emr/cluster.py"
    hash = try(filebase64sha256("${local.build}/emr/cluster.py"), null)
  }
  # The emulator never gets the venv (hundreds of MB; the local runner uses the project's Python).
  emr_venv = var.emulator ? null : {
    path = "${local.build}/emr/pyspark_venv.tar.gz"
    hash = try(filebase64sha256("${local.build}/emr/pyspark_venv.tar.gz"), null)
  }

  # The workloads' network: the VPC when they are placed in it (AWS); MSK alone may use it locally.
  workload_vpc        = var.workloads_in_vpc ? var.vpc : null
  mlflow_tracking_uri = coalesce(var.mlflow_tracking_uri, one(module.tracking[*].tracking_uri))

  # The settings every function reads (segmentation.config.Settings, SEG_* names); on the
  # emulator its endpoint too, so the local runner executes the handlers with this configuration.
  function_env = merge(
    {
      SEG_ENVIRONMENT              = var.environment_name
      SEG_AWS_REGION               = data.aws_region.current.name
      SEG_LAKE_PREFIX              = module.lake.lake_prefix
      SEG_HMAC_SECRET_NAME         = module.lake.hmac_secret_name
      SEG_SEGMENTS_TABLE           = var.segments_table
      SEG_LEDGER_TABLE             = var.ledger_table
      SEG_CAMPAIGNS_TABLE          = var.campaigns_table
      SEG_CAMPAIGN_SECRET_NAME     = var.campaign_secret_name
      SEG_MLFLOW_TRACKING_URI      = local.mlflow_tracking_uri
      SEG_TIMESTAMP_MIN            = var.timestamp_min
      POWERTOOLS_METRICS_NAMESPACE = "Segmentation"
      POWERTOOLS_LOG_LEVEL         = "INFO"
    },
    var.aws_endpoint == null ? {} : { SEG_AWS_ENDPOINT_URL = var.aws_endpoint },
  )
  # The dependency layer is required on AWS; the emulator takes it only when it was built (it
  # needs PyPI), as moto does not run the functions.
  build_layer = !var.emulator || fileexists(local.layer_zip)
  layers      = concat(aws_lambda_layer_version.dependencies[*].arn, var.extra_layer_arns)
}

module "lake" {
  #checkov:skip=CKV_AWS_145:SSE-KMS everywhere but on the emulator (var.emulator), where Spark's S3A refuses SSE-KMS over moto's plain HTTP.
  source           = "../lake"
  name_prefix      = var.name_prefix
  lake_prefix      = var.lake_prefix
  hmac_secret_name = var.hmac_secret_name
  force_destroy    = !var.protect_data
  enable_lifecycle = var.enable_lifecycle
  # moto serves plain HTTP, so a deny-unless-TLS policy would (rightly) deny everything, and
  # Spark's S3A connector refuses SSE-KMS requests over HTTP: S3-managed keys there, KMS on AWS.
  tls_only_policy             = !var.emulator
  bucket_sse_algorithm        = var.emulator ? "AES256" : "aws:kms"
  secret_recovery_window_days = var.emulator ? 0 : 30
  kms_deletion_window_days    = var.emulator ? 7 : 30
  # The etl stage (Glue jobs clean and features) reads and writes the ledger, the evaluation
  # stage (the backtest job) reads its head (stage_access).
  ledger_table_arn = module.ledger.table_arn
  # The ml stage (the cluster step) reads the published version's pointer (stage_access).
  segments_table_arn = module.serving.table_arn
}

# The clean step's run ledger: which raw/hot objects curated holds, its committed version, a lock.
module "ledger" {
  source              = "../ledger"
  table_name          = var.ledger_table
  kms_key_arn         = module.lake.kms_key_arn
  deletion_protection = var.protect_data
}

# Campaigns with a holdout: their table and the arm key's secret, used by the serving stage
# (segment_api defines campaigns and answers arms; publish freezes started ones).
module "campaigns" {
  source                      = "../campaigns"
  table_name                  = var.campaigns_table
  secret_name                 = var.campaign_secret_name
  kms_key_arn                 = module.lake.kms_key_arn
  reader_role_names           = [module.lake.stage_role_names["serving"]]
  deletion_protection         = var.protect_data
  secret_recovery_window_days = var.emulator ? 0 : 30
}

resource "aws_lambda_layer_version" "dependencies" {
  count                    = local.build_layer ? 1 : 0
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
  source               = "../streaming"
  name_prefix          = var.name_prefix
  msk_mode             = var.msk_mode
  vpc                  = var.vpc
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
  source           = "../processing"
  name_prefix      = var.name_prefix
  lake_prefix      = module.lake.lake_prefix
  ledger_table     = module.ledger.table_name
  segments_table   = var.segments_table
  environment_name = var.environment_name
  settings         = { SEG_TIMESTAMP_MIN = var.timestamp_min }
  artifacts_bucket = { name = module.lake.bucket_names["artifacts"], arn = module.lake.bucket_arns["artifacts"] }
  kms_key_arn      = module.lake.kms_key_arn
  etl_role         = { arn = module.lake.stage_role_arns["etl"], name = module.lake.stage_role_names["etl"] }
  # The between-run assignment runs as its own stage role (stage_access: provisional items); the
  # backtest reads the ledger's head and writes its reports to segments: the evaluation stage, so
  # the etl role is not widened to segments.
  job_roles = {
    assign   = { arn = module.lake.stage_role_arns["assign"], name = module.lake.stage_role_names["assign"] }
    backtest = { arn = module.lake.stage_role_arns["evaluation"], name = module.lake.stage_role_names["evaluation"] }
  }
  job_arguments           = { assign = { "--segments_table" = var.segments_table } }
  ml_role                 = { arn = module.lake.stage_role_arns["ml"], name = module.lake.stage_role_names["ml"] }
  glue_scripts            = local.glue_scripts
  wheels                  = local.wheels
  emr_entry_point         = local.emr_entry_point
  emr_venv                = local.emr_venv
  worker_type             = var.jobs.glue_worker_type
  number_of_workers       = var.jobs.glue_workers
  emr_release_label       = var.jobs.emr_release_label
  vpc                     = local.workload_vpc
  mlflow_tracking_uri     = local.mlflow_tracking_uri
  log_retention_days      = var.log_retention_days
  allow_missing_artifacts = var.emulator
}

# MLflow on ECS/ALB/RDS, unless a tracking server is given (the emulator's local MLflow).
module "tracking" {
  #checkov:skip=CKV_AWS_293:Deletion protection follows protect_data (true by default and in envs/aws); checkov reads envs/local's false, where this module has count 0 (MLflow runs as a local process).
  #checkov:skip=CKV_AWS_150:See CKV_AWS_293: the load balancer's deletion protection follows protect_data too.
  count                     = var.mlflow_tracking_uri == null ? 1 : 0
  source                    = "../tracking"
  name_prefix               = var.name_prefix
  vpc                       = var.vpc
  kms_key_arn               = module.lake.kms_key_arn
  artifacts_bucket          = { name = module.lake.bucket_names["artifacts"], arn = module.lake.bucket_arns["artifacts"] }
  client_security_group_ids = [module.processing.jobs_security_group_id]
  client_cidr_blocks        = var.mlflow.client_cidrs
  certificate_arn           = var.mlflow.certificate_arn
  deletion_protection       = var.protect_data
  log_retention_days        = var.log_retention_days
}

module "serving" {
  source                     = "../serving"
  name_prefix                = var.name_prefix
  table_name                 = var.segments_table
  kms_key_arn                = module.lake.kms_key_arn
  serving_role               = { arn = module.lake.stage_role_arns["serving"], name = module.lake.stage_role_names["serving"] }
  segment_api_package        = local.lambda_packages["segment_api"]
  publish_package            = local.lambda_packages["publish"]
  layer_arns                 = local.layers
  environment                = local.function_env
  vpc                        = local.workload_vpc
  deletion_protection        = var.protect_data
  manage_api_gateway_account = !var.emulator
  log_retention_days         = var.log_retention_days
  # The web console's routes: Cognito authorizer, CORS for its origin, uploads, runs, models.
  console = {
    user_pool_arn       = module.console.user_pool_arn
    origin              = module.console.origin
    landing_bucket_arn  = module.lake.bucket_arns["landing"]
    segments_bucket_arn = module.lake.bucket_arns["segments"]
    state_machine_arn   = module.orchestration.state_machine_arn
  }
}

# The web console: the analysts' pool, the page in S3 behind CloudFront (not on the emulator,
# which has no CloudFront: `segmentation serve` serves the page there).
module "console" {
  source              = "../console"
  name_prefix         = var.name_prefix
  site_dir            = "${local.repo}/web"
  params_schema_path  = "${local.repo}/docs/params.schema.json"
  api_url             = module.serving.api_url
  cloudfront          = !var.emulator
  deletion_protection = var.protect_data
  enable_lifecycle    = var.enable_lifecycle
}

module "orchestration" {
  source                 = "../orchestration"
  name_prefix            = var.name_prefix
  definition_path        = "${local.repo}/step_functions/segmentation_pipeline.asl.json"
  lake_prefix            = module.lake.lake_prefix
  glue_clean_job_name    = module.processing.glue_clean_job_name
  glue_features_job_name = module.processing.glue_features_job_name
  glue_backtest_job_name = module.processing.glue_job_names["backtest"]
  # The jobs the state machine starts (the daily assign job is the schedule's, not the run's).
  glue_job_arns               = [for j in ["clean", "features", "backtest"] : module.processing.glue_job_arn[j]]
  emr_application_id          = module.processing.emr_application_id
  emr_application_arn         = module.processing.emr_application_arn
  emr_job_role_arn            = module.processing.emr_job_role_arn
  emr_cluster_entry_point     = module.processing.emr_cluster_entry_point
  emr_spark_submit_parameters = module.processing.emr_spark_submit_parameters
  publish_function_arn        = module.serving.publish_function_arn
  validate_input_package      = local.lambda_packages["validate_input"]
  monitor_package             = local.lambda_packages["monitor"]
  monitor_role                = { arn = module.lake.stage_role_arns["monitor"], name = module.lake.stage_role_names["monitor"] }
  monitor_thresholds          = var.monitor_thresholds
  vpc                         = local.workload_vpc
  layer_arns                  = local.layers
  function_environment        = local.function_env
  notify_topic_arn            = module.monitoring.topic_arn
  mlflow_tracking_uri         = local.mlflow_tracking_uri
  kms_key_arn                 = module.lake.kms_key_arn
  schedule_enabled            = var.schedule.enabled
  schedule_expression         = var.schedule.expression
  schedule_input              = var.schedule.input
  log_retention_days          = var.log_retention_days
}

# The daily between-run assignment: the Glue job assign, started by EventBridge Scheduler's
# universal target (no state machine: one job, no retries of its own; a failed day is redone by
# the next, which recomputes every provisional assignment since the weekly run).
module "assignment_schedule" {
  source              = "../schedule"
  name                = "${var.name_prefix}-assign-daily"
  description         = "Start the Glue job ${module.processing.glue_job_names["assign"]} (provisional assignment between weekly runs)"
  schedule_expression = var.assignment.expression
  timezone            = var.assignment.timezone
  enabled             = var.assignment.enabled
  target_arn          = "arn:${data.aws_partition.current.partition}:scheduler:::aws-sdk:glue:startJobRun"
  input               = jsonencode({ JobName = module.processing.glue_job_names["assign"] })
  target_actions      = ["glue:StartJobRun"]
  target_resources    = [module.processing.glue_job_arn["assign"]]
  policy_name         = "start-assign-job"
}

module "monitoring" {
  source                     = "../monitoring"
  name_prefix                = var.name_prefix
  kms_key_arn                = module.lake.kms_key_arn
  alarm_emails               = var.alarm_emails
  state_machine_arn          = module.orchestration.state_machine_arn
  ingest_function_name       = module.streaming.ingest_function_name
  batch_ingest_function_name = module.streaming.batch_ingest_function_name
  stream_mapping_enabled     = var.msk_mode != "none"
  failure_queue_name         = module.streaming.failure_queue_name
  api_name                   = module.serving.api_name
  api_stage                  = module.serving.stage_name
  # The Monitor task's metrics: the same dimension and thresholds its function is given.
  pipeline_name      = module.orchestration.pipeline_name
  monitor_thresholds = var.monitor_thresholds
}

# A warning, not an error: the deployment works without the venv, but the EMR clustering step
# cannot import the core package on EMR's own Python 3.9 until it is built and uploaded.
check "emr_venv_built" {
  assert {
    condition     = local.emr_venv == null || try(local.emr_venv.hash != null, false)
    error_message = "build/emr/pyspark_venv.tar.gz is missing: run `make package-emr-venv` (Docker) before the first pipeline run, then apply again."
  }
}
