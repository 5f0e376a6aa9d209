variable "name_prefix" {
  description = "Prefix of every named resource."
  type        = string
}

variable "kms_key_arn" {
  description = "Key of the alert topic (its key policy lets CloudWatch publish)."
  type        = string
}

variable "alarm_emails" {
  description = "Addresses subscribed to the alert topic (each must confirm by mail)."
  type        = list(string)
  default     = []
}

variable "state_machine_arn" {
  description = "The pipeline state machine."
  type        = string
}

variable "ingest_function_name" {
  description = "The streaming ingest function."
  type        = string
}

variable "batch_ingest_function_name" {
  description = "The batch ingest function."
  type        = string
}

variable "stream_mapping_enabled" {
  description = "Whether the MSK event source mapping exists (its OffsetLag is alarmed)."
  type        = bool
  default     = true
}

variable "failure_queue_name" {
  description = "SQS queue of failed ingest batches; any message there alarms. Null skips the alarm."
  type        = string
  default     = null
}

variable "api_name" {
  description = "REST API name (ApiName dimension)."
  type        = string
}

variable "api_stage" {
  description = "REST API stage (Stage dimension)."
  type        = string
}

variable "pipeline_name" {
  description = "The `pipeline` dimension of the Monitor task's metrics (the state machine's name, its SEG_PIPELINE_NAME)."
  type        = string
}

variable "monitor_thresholds" {
  description = "The Monitor's thresholds, the same its function gets as SEG_MONITOR_*: alarm when a feature's PSI is above psi_max, a segment's share moved by more than share_shift_max, the clean step quarantined more than quarantine_rate_max of a run's new rows, or segmented users fell by more than users_drop_max (a share)."
  type = object({
    psi_max             = number
    share_shift_max     = number
    quarantine_rate_max = number
    users_drop_max      = number
  })
}

variable "monitor_period_seconds" {
  description = "Period of the Monitor alarms and widgets: a run sends one datapoint, which keeps its alarm in ALARM for this long."
  type        = number
  default     = 3600
}

variable "metrics_namespace" {
  description = "Namespace of the functions' Powertools (EMF) metrics and of the Monitor task's metrics."
  type        = string
  default     = "Segmentation"
}

variable "ingest_service" {
  description = "Powertools service name of the ingest function (the 'service' metric dimension)."
  type        = string
  default     = "ingest"
}

variable "quarantine_rate_percent" {
  description = "Alarm when more than this share of ingested records is quarantined over 15 minutes."
  type        = number
  default     = 5
}

variable "offset_lag_threshold" {
  description = "Alarm when the ingest consumer falls this many records behind the topic (15 minutes)."
  type        = number
  default     = 100000
}

variable "api_5xx_threshold" {
  description = "Alarm when the API answers this many 5xx within 5 minutes."
  type        = number
  default     = 5
}

variable "period_seconds" {
  description = "Period of the alarm metrics."
  type        = number
  default     = 300
}
