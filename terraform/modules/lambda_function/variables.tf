variable "function_name" {
  description = "Name of the Lambda function (also its log group /aws/lambda/<name>)."
  type        = string
}

variable "description" {
  description = "What the function does, shown in the console."
  type        = string
  default     = ""
}

variable "role_arn" {
  description = "Execution role (a lake stage role); this module adds the function's own runtime permissions to it. Null with create_role."
  type        = string
  default     = null
}

variable "role_name" {
  description = "Name of the execution role, to attach the runtime policy (logs, tracing, VPC, DLQ). Null with create_role."
  type        = string
  default     = null
}

variable "create_role" {
  description = "Run as a role of the function's own (named after it) with only the runtime permissions, instead of role_arn/role_name."
  type        = bool
  default     = false
}

variable "package" {
  description = "The deployment zip built by `make package`: its path and base64 SHA-256 (filebase64sha256). A null hash means the zip is missing."
  type = object({
    path = string
    hash = optional(string)
  })
}

variable "handler" {
  description = "Entry point inside the zip (lambdas/<name>/handler.py defines handler(event, context))."
  type        = string
  default     = "handler.handler"
}

variable "runtime" {
  description = "Lambda runtime; the dependency layer is built for it (pip --python-version 3.11)."
  type        = string
  default     = "python3.11"
}

variable "memory_mb" {
  description = "Memory (MB); CPU scales with it."
  type        = number
  default     = 512
}

variable "timeout_seconds" {
  description = "Maximum run time of one invocation."
  type        = number
  default     = 60
}

variable "layer_arns" {
  description = "Layers: the project's dependency layer and AWS's managed AWSSDKPandas layer."
  type        = list(string)
  default     = []
}

variable "environment" {
  description = "Environment variables (the SEG_* settings plus Powertools')."
  type        = map(string)
  default     = {}
}

variable "kms_key_arn" {
  description = "Key encrypting the environment variables and the log group."
  type        = string
}

variable "log_retention_days" {
  description = "Days the function's logs are kept."
  type        = number
  default     = 365
}

variable "subnet_ids" {
  description = "Private subnets to run in; empty runs the function outside a VPC."
  type        = list(string)
  default     = []
}

variable "security_group_ids" {
  description = "Security groups of the function when it runs in a VPC."
  type        = list(string)
  default     = []
}

variable "reserved_concurrency" {
  description = "Concurrent executions reserved (and capped) for the function; -1 leaves it unreserved."
  type        = number
  default     = -1
}

variable "dead_letter_queue_arn" {
  description = "SQS queue receiving asynchronous invocations that failed every retry; null for synchronous-only functions."
  type        = string
  default     = null
}

variable "tracing_mode" {
  description = "X-Ray tracing: Active or PassThrough."
  type        = string
  default     = "Active"
}
