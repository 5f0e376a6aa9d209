variable "table_name" {
  description = "DynamoDB table of the clean step's run ledger (SEG_LEDGER_TABLE)."
  type        = string
}

variable "kms_key_arn" {
  description = "Key the table is encrypted with (the lake's key)."
  type        = string
}

variable "deletion_protection" {
  description = "Protect the table from deletion (off for dev and local environments)."
  type        = bool
  default     = true
}
