variable "name_prefix" {
  description = "Prefix of every named resource."
  type        = string
}

variable "vpc" {
  description = "Network: the service, database and internal load balancer live in its private subnets; the tasks wear its security_group_ids (the network module's workload group: HTTPS to the endpoints and gateways)."
  type = object({
    id                 = string
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
}

variable "kms_key_arn" {
  description = "Key of the repository, database, logs and artifacts."
  type        = string
}

variable "artifacts_bucket" {
  description = "Bucket (name, arn) holding MLflow artifacts under artifacts_prefix (the lake's artifacts zone)."
  type = object({
    name = string
    arn  = string
  })
}

variable "artifacts_prefix" {
  description = "Key prefix of MLflow artifacts inside the bucket."
  type        = string
  default     = "mlflow"
}

variable "client_security_group_ids" {
  description = "Security groups allowed to reach the load balancer (the Spark jobs)."
  type        = list(string)
  default     = []
}

variable "client_cidr_blocks" {
  description = "Networks allowed to reach the load balancer (e.g. a VPN range for the MLflow UI)."
  type        = list(string)
  default     = []
}

variable "image_tag" {
  description = "Tag of the mlflow_server image in the repository (pushed before the service can start)."
  type        = string
  default     = "3.17.2"
}

variable "task_cpu" {
  description = "Fargate task CPU units."
  type        = number
  default     = 1024
}

variable "task_memory" {
  description = "Fargate task memory (MiB)."
  type        = number
  default     = 2048
}

variable "desired_count" {
  description = "Running MLflow tasks."
  type        = number
  default     = 1
}

variable "db_instance_class" {
  description = "RDS instance class of the backend store."
  type        = string
  default     = "db.t4g.micro"
}

variable "db_engine_version" {
  description = "PostgreSQL major version."
  type        = string
  default     = "16"
}

variable "db_allocated_storage" {
  description = "Initial storage (GB); grows automatically up to 5x."
  type        = number
  default     = 20
}

variable "db_multi_az" {
  description = "Standby in a second AZ (recommended for production)."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Protect the database and load balancer from deletion."
  type        = bool
  default     = true
}

variable "certificate_arn" {
  description = "ACM certificate for an HTTPS listener; null serves plain HTTP inside the VPC."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Days server logs are kept."
  type        = number
  default     = 365
}
