variable "name_prefix" {
  description = "Prefix of every named resource; the state machine is '<name_prefix>-pipeline'."
  type        = string
}

variable "lake_prefix" {
  description = "Bucket prefix: zone buckets are '<lake_prefix>-<zone>' (SEG_LAKE_PREFIX)."
  type        = string
}

variable "hmac_secret_name" {
  description = "Secret holding the HMAC key (SEG_HMAC_SECRET_NAME)."
  type        = string
}

variable "segments_table" {
  description = "DynamoDB table of published segments (SEG_SEGMENTS_TABLE)."
  type        = string
}

variable "ledger_table" {
  description = "DynamoDB table of the clean step's run ledger (SEG_LEDGER_TABLE)."
  type        = string
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
}

variable "environment_name" {
  description = "SEG_ENVIRONMENT of every function and Spark step: aws or local."
  type        = string

  validation {
    condition     = contains(["aws", "local"], var.environment_name)
    error_message = "environment_name is aws or local."
  }
}

variable "timestamp_min" {
  description = "Earliest event timestamp the contract accepts, a UTC day (SEG_TIMESTAMP_MIN of the ingest functions and the clean step): older rows are quarantined as clock faults. Lower it for exports that reach back further."
  type        = string
  default     = "1990-01-01"
  validation {
    condition     = can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", var.timestamp_min)) && can(formatdate("YYYY", "${var.timestamp_min}T00:00:00Z"))
    error_message = "timestamp_min: expected a date YYYY-MM-DD, e.g. 1990-01-01."
  }
}

variable "emulator" {
  description = "Deploy to the local emulator (moto): S3-managed bucket keys and no TLS-only policy (plain HTTP), no recovery windows, no account-wide API Gateway logging role, and the dependency layer and Spark artifacts only when built."
  type        = bool
  default     = false
}

variable "aws_endpoint" {
  description = "Endpoint of the emulator, given to the functions as SEG_AWS_ENDPOINT_URL; null on AWS."
  type        = string
  default     = null
}

variable "build_dir" {
  description = "Where `make package` put the artifacts; default <repo>/build."
  type        = string
  default     = null
}

variable "vpc" {
  description = "The network, as the network module's `vpc` output (security_group_ids: its workload group): MSK and its ingest functions live in it, and every other workload too when workloads_in_vpc; null: no VPC (msk_mode none, emulator only)."
  type = object({
    id                 = string
    cidr_block         = string
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  default = null
}

variable "workloads_in_vpc" {
  description = "Place the Spark jobs, serving functions and MLflow in var.vpc too (AWS); off where the VPC only gives MSK its subnets (the emulator)."
  type        = bool
  default     = true
}

variable "msk_mode" {
  description = "MSK cluster: serverless, provisioned, or none (batch ingest only, no stream mapping)."
  type        = string
  default     = "serverless"
}

variable "mlflow_tracking_uri" {
  description = "An existing MLflow tracking server (SEG_MLFLOW_TRACKING_URI); null deploys MLflow on ECS/ALB/RDS in var.vpc."
  type        = string
  default     = null

  validation {
    condition     = var.mlflow_tracking_uri != null || var.vpc != null
    error_message = "The MLflow service needs a VPC: pass vpc, or mlflow_tracking_uri of an existing server."
  }
}

variable "mlflow" {
  description = "The deployed MLflow service: networks allowed to open its UI (client_cidrs) and an ACM certificate for HTTPS (certificate_arn, null serves HTTP inside the VPC)."
  type = object({
    client_cidrs    = optional(list(string), [])
    certificate_arn = optional(string)
  })
  default = {}
}

variable "jobs" {
  description = "Glue worker type and count of the clean and features jobs, and the EMR Serverless release of the cluster step."
  type = object({
    glue_worker_type  = optional(string, "G.1X")
    glue_workers      = optional(number, 2)
    emr_release_label = optional(string, "emr-7.9.0")
  })
  default = {}
}

variable "schedule" {
  description = "The pipeline's EventBridge schedule: whether it fires, when, and the execution input of scheduled runs ({} takes the definition's defaults)."
  type = object({
    enabled    = optional(bool, true)
    expression = optional(string, "cron(0 3 ? * MON *)")
    input      = optional(any, {})
  })
  default = {}
}

variable "assignment" {
  description = "The between-run assignment's EventBridge schedule (the Glue job assign: users active since the published version get a provisional segment of it): whether it fires, when (daily by default, 04:00 UTC, after the weekly run's Monday 03:00 start) and in which time zone."
  type = object({
    enabled    = optional(bool, true)
    expression = optional(string, "cron(0 4 * * ? *)")
    timezone   = optional(string, "UTC")
  })
  default = {}
}

variable "extra_layer_arns" {
  description = "Layers every function takes after the dependency layer (on AWS: the managed AWSSDKPandas-Python311 layer with pyarrow, pandas, numpy)."
  type        = list(string)
  default     = []
}

variable "monitor_thresholds" {
  description = "The pipeline's Monitor task, defined once: its function compares each run against these (SEG_MONITOR_*) and the monitoring module's alarms hold the same values. psi_max: a feature's PSI against the previous model version; share_shift_max: the largest change of a segment's share; quarantine_rate_max: the clean step's quarantined share of a run's new rows; users_drop_max: the fall of segmented users since the previous version (a share)."
  type = object({
    psi_max             = optional(number, 0.25)
    share_shift_max     = optional(number, 0.15)
    quarantine_rate_max = optional(number, 0.05)
    users_drop_max      = optional(number, 0.5)
  })
  default = {}

  validation {
    condition     = var.monitor_thresholds.psi_max > 0 && alltrue([for v in [var.monitor_thresholds.share_shift_max, var.monitor_thresholds.quarantine_rate_max, var.monitor_thresholds.users_drop_max] : v > 0 && v <= 1])
    error_message = "monitor_thresholds: psi_max > 0; share_shift_max, quarantine_rate_max and users_drop_max are shares in (0, 1]."
  }
}

variable "alarm_emails" {
  description = "Addresses receiving alarms and failed-run notifications."
  type        = list(string)
  default     = []
}

variable "protect_data" {
  description = "Deletion protection on the tables, database and load balancer; buckets are never force-destroyed when true."
  type        = bool
  default     = true
}

variable "enable_lifecycle" {
  description = "Create the buckets' lifecycle rules (moto takes ~1 min to settle them; off for quick local runs)."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Days every log group keeps its logs."
  type        = number
  default     = 365
}
