# The local environment: the same modules as envs/aws, applied against the embedded moto server.
# Left out (see docs/deploy.md): the network's interface endpoints and flow logs, the MLflow
# service on ECS/ALB/RDS (MLflow runs as a local process), and anything moto cannot hold.

provider "aws" {
  region                      = var.region
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  skip_requesting_account_id  = false # else Glue job tags drift
  s3_use_path_style           = true
  max_retries                 = 2 # fail fast on an API the emulator lacks

  endpoints {
    apigateway     = var.aws_endpoint
    cloudwatch     = var.aws_endpoint
    dynamodb       = var.aws_endpoint
    ec2            = var.aws_endpoint
    emrserverless  = var.aws_endpoint
    events         = var.aws_endpoint
    glue           = var.aws_endpoint
    iam            = var.aws_endpoint
    kafka          = var.aws_endpoint
    kms            = var.aws_endpoint
    lakeformation  = var.aws_endpoint
    lambda         = var.aws_endpoint
    logs           = var.aws_endpoint
    s3             = var.aws_endpoint
    scheduler      = var.aws_endpoint
    secretsmanager = var.aws_endpoint
    sfn            = var.aws_endpoint
    sns            = var.aws_endpoint
    sqs            = var.aws_endpoint
    sts            = var.aws_endpoint
  }

  default_tags {
    tags = { Project = "segmentation", Environment = "local", ManagedBy = "terraform" }
  }
}

locals {
  repo  = abspath("${path.root}/../../..")
  build = coalesce(var.build_dir, "${local.repo}/build")

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

  # Same SEG_* names as on AWS; the endpoint lets the local runner execute these functions'
  # handlers against the emulator with the configuration Terraform deployed.
  function_env = {
    SEG_ENVIRONMENT              = "local"
    SEG_AWS_REGION               = var.region
    SEG_AWS_ENDPOINT_URL         = var.aws_endpoint
    SEG_LAKE_PREFIX              = module.lake.lake_prefix
    SEG_HMAC_SECRET_NAME         = module.lake.hmac_secret_name
    SEG_SEGMENTS_TABLE           = var.segments_table
    SEG_MLFLOW_TRACKING_URI      = var.mlflow_tracking_uri
    POWERTOOLS_METRICS_NAMESPACE = "Segmentation"
    POWERTOOLS_LOG_LEVEL         = "INFO"
  }
  # The dependency layer only when it was built (it needs PyPI); moto does not run the functions.
  layers = fileexists(local.layer_zip) ? [aws_lambda_layer_version.dependencies[0].arn] : []
}

module "lake" {
  #checkov:skip=CKV_AWS_145:Emulator only: Spark's S3A refuses SSE-KMS over moto's plain HTTP, so local buckets use S3-managed keys (AES256); envs/aws keeps SSE-KMS.
  source                      = "../../modules/lake"
  name_prefix                 = var.name_prefix
  lake_prefix                 = var.lake_prefix
  hmac_secret_name            = var.hmac_secret_name
  force_destroy               = true
  secret_recovery_window_days = 0
  kms_deletion_window_days    = 7
  enable_lifecycle            = var.enable_lifecycle
  # moto serves plain HTTP, so a deny-unless-TLS policy would (rightly) deny everything, and
  # Spark's S3A connector refuses SSE-KMS requests over HTTP: S3-managed keys here, KMS on AWS.
  tls_only_policy      = false
  bucket_sse_algorithm = "AES256"
}

resource "aws_lambda_layer_version" "dependencies" {
  count                    = fileexists(local.layer_zip) ? 1 : 0
  layer_name               = "${var.name_prefix}-dependencies"
  filename                 = local.layer_zip
  source_code_hash         = filebase64sha256(local.layer_zip)
  compatible_runtimes      = ["python3.11"]
  compatible_architectures = ["x86_64"]
}

# A small VPC so the MSK cluster has subnets (no endpoints or flow logs: nothing runs in it).
resource "aws_vpc" "local" {
  #checkov:skip=CKV2_AWS_11:Emulator-only VPC that just gives the MSK cluster subnets; no traffic flows in moto.
  #checkov:skip=CKV2_AWS_12:Emulator-only VPC (see above); envs/aws uses the network module, whose default security group allows nothing.
  count      = var.msk ? 1 : 0
  cidr_block = "10.40.0.0/16"
}

resource "aws_subnet" "local" {
  count             = var.msk ? 2 : 0
  vpc_id            = aws_vpc.local[0].id
  cidr_block        = cidrsubnet("10.40.0.0/16", 4, count.index)
  availability_zone = "${var.region}${["a", "b"][count.index]}"
}

module "streaming" {
  source               = "../../modules/streaming"
  name_prefix          = var.name_prefix
  msk_mode             = var.msk ? "serverless" : "none"
  vpc                  = var.msk ? { id = aws_vpc.local[0].id, cidr_block = aws_vpc.local[0].cidr_block, subnet_ids = aws_subnet.local[*].id } : null
  topic                = var.kafka_topic
  kms_key_arn          = module.lake.kms_key_arn
  ingest_role          = { arn = module.lake.stage_role_arns["ingest"], name = module.lake.stage_role_names["ingest"] }
  landing_bucket       = { name = module.lake.bucket_names["landing"], arn = module.lake.bucket_arns["landing"] }
  ingest_package       = local.lambda_packages["ingest"]
  batch_ingest_package = local.lambda_packages["batch_ingest"]
  layer_arns           = local.layers
  environment          = local.function_env
}

module "processing" {
  source                  = "../../modules/processing"
  name_prefix             = var.name_prefix
  lake_prefix             = module.lake.lake_prefix
  environment_name        = "local"
  artifacts_bucket        = { name = module.lake.bucket_names["artifacts"], arn = module.lake.bucket_arns["artifacts"] }
  kms_key_arn             = module.lake.kms_key_arn
  etl_role                = { arn = module.lake.stage_role_arns["etl"], name = module.lake.stage_role_names["etl"] }
  ml_role                 = { arn = module.lake.stage_role_arns["ml"], name = module.lake.stage_role_names["ml"] }
  glue_scripts            = local.glue_scripts
  wheels                  = local.wheels
  emr_entry_point         = local.emr_entry_point
  mlflow_tracking_uri     = var.mlflow_tracking_uri
  allow_missing_artifacts = true
}

module "serving" {
  source                     = "../../modules/serving"
  name_prefix                = var.name_prefix
  table_name                 = var.segments_table
  kms_key_arn                = module.lake.kms_key_arn
  serving_role               = { arn = module.lake.stage_role_arns["serving"], name = module.lake.stage_role_names["serving"] }
  segment_api_package        = local.lambda_packages["segment_api"]
  publish_package            = local.lambda_packages["publish"]
  layer_arns                 = local.layers
  environment                = local.function_env
  deletion_protection        = false
  manage_api_gateway_account = false
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
  mlflow_tracking_uri         = var.mlflow_tracking_uri
  kms_key_arn                 = module.lake.kms_key_arn
  schedule_enabled            = false # local runs start from the CLI or the web page
}

module "monitoring" {
  source                     = "../../modules/monitoring"
  name_prefix                = var.name_prefix
  kms_key_arn                = module.lake.kms_key_arn
  state_machine_arn          = module.orchestration.state_machine_arn
  ingest_function_name       = module.streaming.ingest_function_name
  batch_ingest_function_name = module.streaming.batch_ingest_function_name
  stream_mapping_enabled     = var.msk
  failure_queue_name         = module.streaming.failure_queue_name
  api_name                   = module.serving.api_name
  api_stage                  = module.serving.stage_name
}
