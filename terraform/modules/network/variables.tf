variable "name_prefix" {
  description = "Prefix of every named resource."
  type        = string
}

variable "cidr_block" {
  description = "CIDR of the VPC."
  type        = string
  default     = "10.40.0.0/16"
}

variable "availability_zones" {
  description = "Availability zones of the private subnets (two or more, for MSK, RDS and the ALB)."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2
    error_message = "Give at least two availability zones."
  }
}

variable "subnet_newbits" {
  description = "Bits added to the VPC prefix for each private subnet (4 on a /16 gives /20s)."
  type        = number
  default     = 4
}

variable "interface_endpoints" {
  description = "AWS services reached through interface endpoints, so nothing needs a NAT gateway for AWS APIs."
  type        = list(string)
  default     = ["sts", "secretsmanager", "glue", "logs", "monitoring", "sns", "kms", "lambda", "states", "ecr.api", "ecr.dkr", "emr-serverless", "xray"]
}

variable "gateway_endpoints" {
  description = "AWS services reached through (free) gateway endpoints."
  type        = list(string)
  default     = ["s3", "dynamodb"]
}

variable "kms_key_arn" {
  description = "Key encrypting the flow-log group."
  type        = string
}

variable "flow_log_retention_days" {
  description = "Days VPC flow logs are kept."
  type        = number
  default     = 365
}
