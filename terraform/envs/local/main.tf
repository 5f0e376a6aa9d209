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
    cognitoidp     = var.aws_endpoint
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

# The same module envs/aws deploys, with the emulator's settings.
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
  environment_name     = "local"
  emulator             = true
  aws_endpoint         = var.aws_endpoint
  build_dir            = var.build_dir
  msk_mode             = var.msk ? "serverless" : "none"
  vpc                  = var.msk ? { id = aws_vpc.local[0].id, cidr_block = aws_vpc.local[0].cidr_block, subnet_ids = aws_subnet.local[*].id, security_group_ids = [] } : null
  workloads_in_vpc     = false
  mlflow_tracking_uri  = var.mlflow_tracking_uri
  schedule             = { enabled = false } # local runs start from the CLI
  protect_data         = false
  enable_lifecycle     = var.enable_lifecycle
  monitor_thresholds   = var.monitor_thresholds
  assignment           = { enabled = false } # `segmentation assign`, and the demo
  timestamp_min        = var.timestamp_min
}
