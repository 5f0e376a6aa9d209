variable "name_prefix" {
  description = "Prefix of every named resource."
  type        = string
}

variable "site_dir" {
  description = "Folder of the console's static files (the repository's web/), uploaded as they are."
  type        = string
}

variable "params_schema_path" {
  description = "The exported parameter schema the run form is built from (docs/params.schema.json)."
  type        = string
}

variable "api_url" {
  description = "Base URL of the REST API the console calls (the serving module's stage URL); written to config.json."
  type        = string
}

variable "pool_name" {
  description = "Name of the analysts' Cognito user pool (`segmentation analyst add` looks it up by this name)."
  type        = string
  default     = "segmentation-analysts"
}

variable "client_name" {
  description = "Name of the console's app client in the pool."
  type        = string
  default     = "segmentation-console"
}

variable "token_validity_hours" {
  description = "Hours an analyst's ID and access tokens stay valid."
  type        = number
  default     = 8
}

variable "price_class" {
  description = "CloudFront price class of the console's distribution."
  type        = string
  default     = "PriceClass_100"
}

variable "access_log_bucket" {
  description = "Bucket domain name (e.g. logs.s3.amazonaws.com) for CloudFront's standard access logs; null: no access logs."
  type        = string
  default     = null
}

variable "web_acl_arn" {
  description = "ARN of a WAFv2 web ACL (scope CLOUDFRONT) to attach to the distribution; null: none."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "Refuse to delete the user pool (its analysts) with the stack."
  type        = bool
  default     = true
}

variable "cloudfront" {
  description = "Create the CloudFront distribution (false where the endpoint has none, e.g. moto: the bucket and the pool only)."
  type        = bool
  default     = true
}

variable "enable_lifecycle" {
  description = "Expire the site bucket's old object versions after 30 days (the emulator takes a minute to settle lifecycle rules; envs/local turns them off)."
  type        = bool
  default     = true
}
