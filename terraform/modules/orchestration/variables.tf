variable "name_prefix" {
  description = "Prefix of every named resource; the state machine is '<name_prefix>-pipeline'."
  type        = string
}

variable "definition_path" {
  description = "The ASL template (step_functions/segmentation_pipeline.asl.json), rendered with templatefile()."
  type        = string
}

variable "lake_prefix" {
  description = "Bucket prefix of the lake zones, passed to every step."
  type        = string
}

variable "glue_clean_job_name" {
  description = "Glue job of the clean step."
  type        = string
}

variable "glue_features_job_name" {
  description = "Glue job of the features step."
  type        = string
}

variable "glue_backtest_job_name" {
  description = "Glue job of the backtest step (BacktestSegments: runs when the execution input's backtest_horizon_days > 0)."
  type        = string
}

variable "glue_job_arns" {
  description = "ARNs of the Glue jobs the state machine may start (its role is scoped to them): must cover the clean, features and backtest jobs."
  type        = list(string)

  validation {
    condition = alltrue([for job in [var.glue_clean_job_name, var.glue_features_job_name, var.glue_backtest_job_name] :
    anytrue([for arn in var.glue_job_arns : endswith(arn, ":job/${job}")])])
    error_message = "glue_job_arns must hold the ARN of every job the definition starts (glue_clean_job_name, glue_features_job_name, glue_backtest_job_name)."
  }
}

variable "emr_application_id" {
  description = "EMR Serverless application of the cluster step."
  type        = string
}

variable "emr_application_arn" {
  description = "ARN of that application (its role is scoped to it)."
  type        = string
}

variable "emr_job_role_arn" {
  description = "Job role passed to EMR Serverless (the lake's ml role)."
  type        = string
}

variable "emr_cluster_entry_point" {
  description = "S3 URI of emr_steps/cluster.py."
  type        = string
}

variable "emr_spark_submit_parameters" {
  description = "sparkSubmitParameters of the cluster step."
  type        = string
}

variable "publish_function_arn" {
  description = "The publish Lambda (segments -> DynamoDB)."
  type        = string
}

variable "validate_input_package" {
  description = "Zip of lambdas/validate_input (path, filebase64sha256), the definition's input check."
  type = object({
    path = string
    hash = optional(string)
  })
}

variable "monitor_package" {
  description = "Zip of lambdas/monitor (path, filebase64sha256), the definition's Monitor task."
  type = object({
    path = string
    hash = optional(string)
  })
}

variable "monitor_role" {
  description = "Execution role of the monitor function: the lake's `monitor` stage role (reads curated and segments); this module adds PutMetricData (namespace Segmentation) and sns:Publish on notify_topic_arn."
  type = object({
    arn  = string
    name = string
  })
}

variable "monitor_thresholds" {
  description = "The Monitor's thresholds (SEG_MONITOR_*), the same the monitoring module's alarms use: PSI of a feature, a segment's share shift, the clean step's quarantine rate, the drop of segmented users (a share)."
  type = object({
    psi_max             = number
    share_shift_max     = number
    quarantine_rate_max = number
    users_drop_max      = number
  })
}

variable "monitor_memory_mb" {
  description = "Memory of the monitor function (reads a model document and a quality report)."
  type        = number
  default     = 1024
}

variable "monitor_timeout_seconds" {
  description = "Timeout of the monitor function (below the MonitorRun state's TimeoutSeconds, 300)."
  type        = number
  default     = 120
}

variable "vpc" {
  description = "Network the monitor function runs in (the network module's `vpc`: subnets and the workload security group); null runs it outside a VPC (emulator). validate_input reads no data and always runs outside."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  default = null

  validation {
    condition     = var.vpc == null || try(length(var.vpc.security_group_ids) > 0, false)
    error_message = "Functions in a VPC need a security group: pass the network module's vpc (security_group_ids)."
  }
}

variable "layer_arns" {
  description = "Layers of validate_input and monitor (the dependency layer: the core package, pydantic, Powertools; on AWS then AWSSDKPandas for pyarrow)."
  type        = list(string)
  default     = []
}

variable "function_environment" {
  description = "Environment of validate_input and monitor (the SEG_* settings, Powertools'); POWERTOOLS_SERVICE_NAME is added here, and for monitor SEG_ALERT_TOPIC_ARN, SEG_PIPELINE_NAME and the SEG_MONITOR_* thresholds."
  type        = map(string)
  default     = {}
}

variable "extra_function_arns" {
  description = "Other Lambdas the definition invokes, beyond publish, validate_input and monitor."
  type        = list(string)
  default     = []
}

variable "notify_topic_arn" {
  description = "SNS topic told about failed executions, and the one the Monitor alerts (SEG_ALERT_TOPIC_ARN)."
  type        = string
}

variable "mlflow_tracking_uri" {
  description = "MLflow tracking URI the cluster step logs to."
  type        = string
}

variable "kms_key_arn" {
  description = "Key of the log group and of the notification topic."
  type        = string
}

variable "schedule_expression" {
  description = "When EventBridge Scheduler starts a run (weekly by default: Mondays 03:00)."
  type        = string
  default     = "cron(0 3 ? * MON *)"
}

variable "schedule_timezone" {
  description = "Time zone of the schedule expression."
  type        = string
  default     = "UTC"
}

variable "schedule_enabled" {
  description = "Whether the schedule fires (disable to run only from the console/CLI/web page)."
  type        = bool
  default     = true
}

variable "schedule_input" {
  description = "Execution input of scheduled runs: the algorithm and its parameters; unset fields take the definition's defaults."
  type        = any
  default     = {}
}

variable "log_level" {
  description = "Execution history logged to CloudWatch: ALL, ERROR, FATAL or OFF."
  type        = string
  default     = "ALL"
}

variable "log_retention_days" {
  description = "Days execution logs are kept."
  type        = number
  default     = 365
}
