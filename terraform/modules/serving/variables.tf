variable "name_prefix" {
  description = "Prefix of every named resource."
  type        = string
}

variable "table_name" {
  description = "DynamoDB table of published segments (SEG_SEGMENTS_TABLE)."
  type        = string
}

variable "kms_key_arn" {
  description = "Key of the table, logs and function environments."
  type        = string
}

variable "serving_role" {
  description = "The lake's serving stage role (arn, name): runs segment_api and publish."
  type = object({
    arn  = string
    name = string
  })
}

variable "segment_api_package" {
  description = "Zip of lambdas/segment_api (path, filebase64sha256)."
  type = object({
    path = string
    hash = optional(string)
  })
}

variable "publish_package" {
  description = "Zip of lambdas/publish (path, filebase64sha256)."
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
  description = "SEG_* environment shared by the functions; SEG_SEGMENTS_TABLE is added here."
  type        = map(string)
  default     = {}
}

variable "vpc" {
  description = "Network the functions run in (the network module's `vpc`: its subnets and the workload security group); null runs them outside a VPC (emulator only)."
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

variable "deletion_protection" {
  description = "Protect the table from deletion (off for dev and local environments)."
  type        = bool
  default     = true
}

variable "stage_name" {
  description = "API Gateway stage name (part of the URL)."
  type        = string
  default     = "v1"
}

variable "throttle_rate_limit" {
  description = "Steady-state requests per second allowed per API key."
  type        = number
  default     = 50
}

variable "throttle_burst_limit" {
  description = "Burst of requests allowed per API key."
  type        = number
  default     = 100
}

variable "quota_per_day" {
  description = "Requests per day allowed per API key."
  type        = number
  default     = 100000
}

variable "manage_api_gateway_account" {
  description = "Set the account-wide API Gateway CloudWatch role, which execution logging needs (a singleton per account and region)."
  type        = bool
  default     = true
}

variable "execution_logging_level" {
  description = "API Gateway execution logging: OFF, ERROR or INFO (needs the account CloudWatch role)."
  type        = string
  default     = "ERROR"
}

variable "api_memory_mb" {
  description = "Memory of segment_api."
  type        = number
  default     = 512
}

variable "publish_memory_mb" {
  description = "Memory of publish (reads a model version's segment map)."
  type        = number
  default     = 2048
}

variable "publish_timeout_seconds" {
  description = "Timeout of publish."
  type        = number
  default     = 900
}

variable "log_retention_days" {
  description = "Days function and access logs are kept."
  type        = number
  default     = 365
}

variable "console" {
  description = "The web console's wiring: the analysts' pool (the Cognito authorizer of its routes), its origin (CORS), the landing and segments buckets (uploads, model documents) and the pipeline state machine (runs). Null: the segment routes only."
  type = object({
    user_pool_arn       = string
    origin              = optional(string)
    landing_bucket_arn  = string
    segments_bucket_arn = string
    state_machine_arn   = optional(string)
  })
  default = null
}
