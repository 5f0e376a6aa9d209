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

variable "glue_job_arns" {
  description = "ARNs of the Glue jobs the state machine may start (its role is scoped to them)."
  type        = list(string)
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

variable "layer_arns" {
  description = "Layers of validate_input (the dependency layer: the core package and pydantic)."
  type        = list(string)
  default     = []
}

variable "function_environment" {
  description = "Environment of validate_input (Powertools settings); POWERTOOLS_SERVICE_NAME is added here."
  type        = map(string)
  default     = {}
}

variable "extra_function_arns" {
  description = "Other Lambdas the definition invokes (e.g. a monitor step)."
  type        = list(string)
  default     = []
}

variable "notify_topic_arn" {
  description = "SNS topic told about failed executions."
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
