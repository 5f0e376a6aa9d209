variable "name_prefix" {
  description = "Prefix of every named resource."
  type        = string
}

variable "lake_prefix" {
  description = "Bucket prefix of the lake zones (SEG_LAKE_PREFIX), passed to every job."
  type        = string
}

variable "ledger_table" {
  description = "The clean step's run ledger (SEG_LEDGER_TABLE): the jobs' --ledger_table and the Spark steps' environment; the etl role's access to it comes from the lake's stage_access."
  type        = string
}

variable "segments_table" {
  description = "The segments table (SEG_SEGMENTS_TABLE in the Spark steps' environment): the cluster step reads the published version's pointer there; the ml role's access comes from the lake's stage_access."
  type        = string
}

variable "settings" {
  description = "Further SEG_* settings of the Spark steps (segmentation.config.Settings names), e.g. SEG_TIMESTAMP_MIN; the module adds the lake, tables, region and MLflow ones."
  type        = map(string)
  default     = {}
  validation {
    condition     = alltrue([for k in keys(var.settings) : can(regex("^SEG_[A-Z0-9_]+$", k))])
    error_message = "settings: expected SEG_* names (segmentation.config.Settings), e.g. SEG_TIMESTAMP_MIN."
  }
}

variable "environment_name" {
  description = "SEG_ENVIRONMENT of the jobs: aws, or local on the emulator."
  type        = string
  default     = "aws"
}

variable "artifacts_bucket" {
  description = "The artifacts zone bucket (name, arn): job scripts, wheels and the EMR venv live here."
  type = object({
    name = string
    arn  = string
  })
}

variable "kms_key_arn" {
  description = "Key for job output, logs and bookmarks (Glue security configuration) and uploaded artifacts."
  type        = string
}

variable "etl_role" {
  description = "The lake's etl stage role (arn, name): runs the Glue jobs job_roles does not name."
  type = object({
    arn  = string
    name = string
  })
}

variable "job_roles" {
  description = "Glue jobs that run as another stage role than etl: job name (a key of glue_scripts) => role (arn, name), e.g. assign => the lake's assign stage role, backtest => its evaluation stage role. Each gets the Glue runtime policy too."
  type = map(object({
    arn  = string
    name = string
  }))
  default = {}

  validation {
    condition     = length(setsubtract(keys(var.job_roles), keys(var.glue_scripts))) == 0
    error_message = "job_roles names a job glue_scripts does not have."
  }
}

variable "job_arguments" {
  description = "Default arguments of single jobs beyond the common ones: job name => {\"--name\" = value} (e.g. assign's --segments_table)."
  type        = map(map(string))
  default     = {}
}

variable "ml_role" {
  description = "The lake's ml stage role (arn, name): the EMR Serverless job role."
  type = object({
    arn  = string
    name = string
  })
}

variable "glue_scripts" {
  description = "Glue entry points built by `make package` (glue_jobs/<job>.py): job name => {path, hash}. A null hash means the file is missing."
  type = map(object({
    path = string
    hash = optional(string)
  }))
}

variable "wheels" {
  description = "Wheels the jobs install from S3 (the core package and its pure dependencies not already in Glue 5.0): file name => {path, hash}."
  type = map(object({
    path = string
    hash = optional(string)
  }))
  default = {}
}

variable "emr_entry_point" {
  description = "The EMR Serverless entry point emr_steps/cluster.py ({path, hash})."
  type = object({
    path = string
    hash = optional(string)
  })
}

variable "emr_venv" {
  description = "Python venv archive for EMR Serverless (`make package-emr-venv`: core package + deps, built on Amazon Linux 2023); null or a null hash leaves it out."
  type = object({
    path = string
    hash = optional(string)
  })
  default = null
}

variable "allow_missing_artifacts" {
  description = "Create the jobs even when a script or wheel was not built (emulator runs); on AWS a missing artifact fails the plan."
  type        = bool
  default     = false
}

variable "glue_version" {
  description = "Glue version of the jobs (5.0: Spark 3.5, Python 3.11)."
  type        = string
  default     = "5.0"
}

variable "worker_type" {
  description = "Glue worker type."
  type        = string
  default     = "G.1X"
}

variable "number_of_workers" {
  description = "Glue workers per job run."
  type        = number
  default     = 2
}

variable "job_timeout_minutes" {
  description = "Timeout of one Glue job run."
  type        = number
  default     = 60
}

variable "emr_release_label" {
  description = "EMR Serverless release (emr-7.x: Spark 3.5)."
  type        = string
  default     = "emr-7.9.0"

  validation {
    condition     = can(regex("^emr-7\\.", var.emr_release_label))
    error_message = "Use an emr-7.x release (Spark 3.5, like the local pyspark)."
  }
}

variable "emr_max_cpu" {
  description = "Most vCPU the EMR Serverless application may use at once."
  type        = string
  default     = "16 vCPU"
}

variable "emr_max_memory" {
  description = "Most memory the EMR Serverless application may use at once."
  type        = string
  default     = "64 GB"
}

variable "emr_idle_timeout_minutes" {
  description = "Minutes the EMR Serverless application stays started after its last job."
  type        = number
  default     = 15
}

variable "vpc" {
  description = "Network the jobs run in; they also wear its security_group_ids (the network module's workload group: HTTPS to the endpoints); null runs them without VPC placement (emulator only)."
  type = object({
    id                 = string
    cidr_block         = string
    subnet_ids         = list(string)
    security_group_ids = optional(list(string), [])
  })
  default = null
}

variable "mlflow_tracking_uri" {
  description = "MLflow tracking server the clustering step logs to (SEG_MLFLOW_TRACKING_URI)."
  type        = string
}

variable "log_retention_days" {
  description = "Days job logs are kept."
  type        = number
  default     = 365
}
