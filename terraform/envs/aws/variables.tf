variable "region" {
  description = "AWS region of every resource (SEG_AWS_REGION)."
  type        = string
  default     = "eu-west-1"
}

variable "name_prefix" {
  description = "Prefix of every named resource; the state machine is '<name_prefix>-pipeline'."
  type        = string
  default     = "segmentation"
}

variable "lake_prefix" {
  description = "Globally unique bucket prefix: zone buckets are '<lake_prefix>-<zone>' (SEG_LAKE_PREFIX)."
  type        = string
}

variable "environment" {
  description = "Deployment stage tag (dev, prod...)."
  type        = string
  default     = "prod"
}

variable "tags" {
  description = "Extra tags on every resource."
  type        = map(string)
  default     = {}
}

variable "az_count" {
  description = "Availability zones used by the private subnets (2 or more)."
  type        = number
  default     = 2
}

variable "vpc_cidr" {
  description = "CIDR of the VPC."
  type        = string
  default     = "10.40.0.0/16"
}

variable "hmac_secret_name" {
  description = "Secret holding the HMAC key (SEG_HMAC_SECRET_NAME); its value is written by `segmentation keygen`."
  type        = string
  default     = "segmentation/hmac-key"
}

variable "segments_table" {
  description = "DynamoDB table of published segments (SEG_SEGMENTS_TABLE)."
  type        = string
  default     = "segmentation-segments"
}

variable "ledger_table" {
  description = "DynamoDB table of the clean step's run ledger (SEG_LEDGER_TABLE)."
  type        = string
  default     = "segmentation-ledger"
}

variable "campaigns_table" {
  description = "DynamoDB table of the campaigns (SEG_CAMPAIGNS_TABLE)."
  type        = string
  default     = "segmentation-campaigns"
}

variable "campaign_secret_name" {
  description = "Secret of the campaigns' arm key (SEG_CAMPAIGN_SECRET_NAME); its value is written by `segmentation keygen --campaigns`."
  type        = string
  default     = "segmentation/campaign-key"
}

variable "kafka_topic" {
  description = "Topic of raw events (SEG_KAFKA_TOPIC)."
  type        = string
  default     = "raw-events"
}

variable "msk_mode" {
  description = "MSK cluster: serverless (default) or provisioned."
  type        = string
  default     = "serverless"
}

variable "aws_sdk_pandas_layer_arn" {
  description = "ARN of AWS's managed AWSSDKPandas-Python311 layer in your region (pyarrow, pandas, numpy), e.g. arn:aws:lambda:eu-west-1:336392948345:layer:AWSSDKPandas-Python311:<version>; versions per region: https://aws-sdk-pandas.readthedocs.io/en/stable/layers.html"
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:336392948345:layer:AWSSDKPandas-Python311:[0-9]+$", var.aws_sdk_pandas_layer_arn))
    error_message = "Expected the AWSSDKPandas-Python311 layer ARN (account 336392948345) with its version."
  }
}

variable "build_dir" {
  description = "Where `make package` put the artifacts; default <repo>/build."
  type        = string
  default     = null
}

variable "glue_worker_type" {
  description = "Glue worker type of the clean and features jobs."
  type        = string
  default     = "G.1X"
}

variable "glue_workers" {
  description = "Glue workers per job run."
  type        = number
  default     = 2
}

variable "emr_release_label" {
  description = "EMR Serverless release (emr-7.x)."
  type        = string
  default     = "emr-7.9.0"
}

variable "schedule_expression" {
  description = "When the pipeline runs (EventBridge Scheduler)."
  type        = string
  default     = "cron(0 3 ? * MON *)"
}

variable "schedule_input" {
  description = "Execution input of scheduled runs (algorithm and parameters); {} takes the definition's defaults."
  type        = any
  default     = {}
}

variable "assignment_schedule_expression" {
  description = "When the between-run assignment runs (EventBridge Scheduler; daily by default): users active since the published version get a provisional segment of it."
  type        = string
  default     = "cron(0 4 * * ? *)"
}

variable "alarm_emails" {
  description = "Addresses receiving alarms and failed-run notifications."
  type        = list(string)
  default     = []
}

variable "monitor_thresholds" {
  description = "Thresholds of the pipeline's Monitor task and of its alarms (psi_max, share_shift_max, quarantine_rate_max, users_drop_max); unset keys keep the deployment module's defaults (0.25, 0.15, 0.05, 0.5)."
  type        = map(number)
  default     = {}
}

variable "mlflow_client_cidrs" {
  description = "Networks (e.g. a VPN) allowed to open the MLflow UI on its internal load balancer."
  type        = list(string)
  default     = []
}

variable "mlflow_certificate_arn" {
  description = "ACM certificate for an HTTPS MLflow listener; null serves HTTP inside the VPC."
  type        = string
  default     = null
}

variable "protect_data" {
  description = "Deletion protection on the table, database and load balancer; versioned buckets are never force-destroyed when true."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Days every log group keeps its logs."
  type        = number
  default     = 365
}

variable "timestamp_min" {
  description = "Earliest event timestamp the contract accepts, a UTC day (SEG_TIMESTAMP_MIN): older rows are quarantined as clock faults. Lower it for exports that reach back further."
  type        = string
  default     = "1990-01-01"
}
