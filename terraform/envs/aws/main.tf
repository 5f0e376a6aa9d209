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

# Everything but the network: the same module envs/local applies to the emulator.
module "deployment" {
  source               = "../../modules/deployment"
  name_prefix          = var.name_prefix
  lake_prefix          = var.lake_prefix
  hmac_secret_name     = var.hmac_secret_name
  segments_table       = var.segments_table
  ledger_table         = var.ledger_table
  campaigns_table      = var.campaigns_table
  campaign_secret_name = var.campaign_secret_name
  kafka_topic          = var.kafka_topic
  environment_name     = "aws"
  build_dir            = var.build_dir
  vpc                  = module.network.vpc
  msk_mode             = var.msk_mode
  mlflow               = { client_cidrs = var.mlflow_client_cidrs, certificate_arn = var.mlflow_certificate_arn }
  jobs                 = { glue_worker_type = var.glue_worker_type, glue_workers = var.glue_workers, emr_release_label = var.emr_release_label }
  schedule             = { expression = var.schedule_expression, input = var.schedule_input }
  extra_layer_arns     = [var.aws_sdk_pandas_layer_arn]
  alarm_emails         = var.alarm_emails
  assignment           = { expression = var.assignment_schedule_expression }
  # The Monitor task's thresholds, one set for its function and its alarms.
  monitor_thresholds = var.monitor_thresholds
  protect_data       = var.protect_data
  timestamp_min      = var.timestamp_min

  log_retention_days = var.log_retention_days
}

module "network" {
  source             = "../../modules/network"
  name_prefix        = var.name_prefix
  cidr_block         = var.vpc_cidr
  availability_zones = slice(data.aws_availability_zones.available.names, 0, var.az_count)
  kms_key_arn        = module.deployment.lake.kms_key_arn

  flow_log_retention_days = var.log_retention_days
}
