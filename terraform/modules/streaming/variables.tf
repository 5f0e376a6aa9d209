variable "name_prefix" {
  description = "Prefix of every named resource."
  type        = string
}

variable "msk_mode" {
  description = "MSK cluster to create: 'serverless' (default, pay per use), 'provisioned' (brokers you size), or 'none' (no cluster and no event source mapping; batch ingest only)."
  type        = string
  default     = "serverless"

  validation {
    condition     = contains(["serverless", "provisioned", "none"], var.msk_mode)
    error_message = "msk_mode must be serverless, provisioned or none."
  }
}

variable "vpc" {
  description = "Network the cluster and functions live in (subnets over 2+ AZs; the functions also wear its security_group_ids, e.g. the network module's workload group); null runs the functions outside a VPC (emulator only; MSK needs a VPC)."
  type = object({
    id                 = string
    cidr_block         = string
    subnet_ids         = list(string)
    security_group_ids = optional(list(string), [])
  })
  default = null
}

variable "topic" {
  description = "Kafka topic of raw events (SEG_KAFKA_TOPIC)."
  type        = string
  default     = "raw-events"
}

variable "kafka_version" {
  description = "Kafka version of a provisioned cluster."
  type        = string
  default     = "3.6.0"
}

variable "broker_instance_type" {
  description = "Broker instance type of a provisioned cluster."
  type        = string
  default     = "kafka.t3.small"
}

variable "broker_count" {
  description = "Brokers of a provisioned cluster (a multiple of the subnet count)."
  type        = number
  default     = 2
}

variable "broker_volume_gb" {
  description = "EBS storage per broker (GB) of a provisioned cluster."
  type        = number
  default     = 100
}

variable "kms_key_arn" {
  description = "Key for data at rest (cluster, queues, logs, function environments)."
  type        = string
}

variable "ingest_role" {
  description = "The lake's ingest stage role (arn, name): runs both ingest functions."
  type = object({
    arn  = string
    name = string
  })
}

variable "landing_bucket" {
  description = "The landing zone bucket (name, arn) whose new objects trigger batch_ingest."
  type = object({
    name = string
    arn  = string
  })
}

variable "landing_suffixes" {
  description = "Object suffixes in landing that batch_ingest loads."
  type        = list(string)
  default     = [".csv", ".parquet"]
}

variable "ingest_package" {
  description = "Zip of lambdas/ingest (path, filebase64sha256)."
  type = object({
    path = string
    hash = optional(string)
  })
}

variable "batch_ingest_package" {
  description = "Zip of lambdas/batch_ingest (path, filebase64sha256)."
  type = object({
    path = string
    hash = optional(string)
  })
}

variable "layer_arns" {
  description = "Layers of both functions (dependency layer, AWSSDKPandas)."
  type        = list(string)
  default     = []
}

variable "environment" {
  description = "SEG_* environment shared by the functions (lake prefix, secret name, region...)."
  type        = map(string)
  default     = {}
}

variable "batch_size" {
  description = "Most records the event source mapping hands one ingest invocation."
  type        = number
  default     = 500
}

variable "batching_window_seconds" {
  description = "Seconds the mapping waits to fill a batch (fewer, larger Parquet files in hot)."
  type        = number
  default     = 10
}

variable "starting_position" {
  description = "Where a new consumer group starts reading: LATEST or TRIM_HORIZON."
  type        = string
  default     = "TRIM_HORIZON"

  validation {
    condition     = contains(["LATEST", "TRIM_HORIZON"], var.starting_position)
    error_message = "starting_position must be LATEST or TRIM_HORIZON."
  }
}

variable "consumer_group_id" {
  description = "Kafka consumer group of the mapping; null uses '<name_prefix>-ingest'."
  type        = string
  default     = null
}

variable "ingest_memory_mb" {
  description = "Memory of the ingest function."
  type        = number
  default     = 1024
}

variable "ingest_timeout_seconds" {
  description = "Timeout of the ingest function (one batch)."
  type        = number
  default     = 120
}

variable "batch_ingest_memory_mb" {
  description = "Memory of batch_ingest (one landing file in memory)."
  type        = number
  default     = 3008
}

variable "batch_ingest_timeout_seconds" {
  description = "Timeout of batch_ingest (one landing file)."
  type        = number
  default     = 900
}

variable "log_retention_days" {
  description = "Days function and broker logs are kept."
  type        = number
  default     = 365
}

variable "message_retention_seconds" {
  description = "How long failed batches wait in the dead-letter queue."
  type        = number
  default     = 1209600
}
