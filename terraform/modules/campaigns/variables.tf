variable "table_name" {
  description = "DynamoDB table of the campaigns (SEG_CAMPAIGNS_TABLE)."
  type        = string
}

variable "secret_name" {
  description = "Secret of the campaigns' arm key (SEG_CAMPAIGN_SECRET_NAME); its value is written by `segmentation keygen --campaigns`."
  type        = string
}

variable "kms_key_arn" {
  description = "Key the table and the secret are encrypted with (the lake's key)."
  type        = string
}

variable "reader_role_names" {
  description = "Roles that define, read and freeze campaigns and read the arm key (the serving stage: segment_api and publish)."
  type        = list(string)
  default     = []
}

variable "deletion_protection" {
  description = "Protect the table from deletion (off for dev and local environments)."
  type        = bool
  default     = true
}

variable "secret_recovery_window_days" {
  description = "Days a deleted arm key can be restored (0: at once, for the emulator)."
  type        = number
  default     = 30

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "secret_recovery_window_days is 0 or 7..30 (Secrets Manager's bounds)."
  }
}
