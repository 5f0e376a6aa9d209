variable "name_prefix" {
  description = "Prefix of every named resource (IAM roles, KMS alias, secret)."
  type        = string
}

variable "lake_prefix" {
  description = "Bucket name prefix; each zone is the bucket '<lake_prefix>-<zone>' (SEG_LAKE_PREFIX)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,40}[a-z0-9]$", var.lake_prefix))
    error_message = "lake_prefix must be 3-42 lower-case letters, digits or hyphens (S3 bucket rules)."
  }
}

variable "zones" {
  description = "Lake zones, one bucket and one Glue database each; must match segmentation.config.ZONES."
  type        = list(string)
  default     = ["landing", "raw", "hot", "curated", "features", "segments", "quarantine", "artifacts"]
}

variable "zone_sensitivity" {
  description = "LF-tag 'sensitivity' of each zone: restricted zones may hold raw user ids."
  type        = map(string)
  default = {
    landing    = "restricted"
    quarantine = "restricted"
    raw        = "pseudonymised"
    hot        = "pseudonymised"
    curated    = "pseudonymised"
    features   = "pseudonymised"
    segments   = "pseudonymised"
    artifacts  = "internal"
  }
}

variable "stage_access" {
  description = <<-EOT
    What each pipeline stage may touch: zones it reads and zones it writes; `ledger`: items of the
    clean step's run ledger (ledger_table_arn); `ledger_read`: reads its head only (the committed
    version); `published`: reads the segments table's current-version pointer (its META items,
    segments_table_arn: the cluster step matches its segments to the published version's);
    `provisional`: writes the segments table's provisional assignments (its USER# and
    PROVISIONAL# items: the between-run assignment); `partitions`: catalog tables (keys of the
    module's tables, e.g. curated_events) whose partitions the stage itself keeps in step with the
    ledger.
    Drives the stage's IAM policy and its Lake Formation grants, so the two can never disagree.
  EOT
  type = map(object({
    read        = list(string)
    write       = list(string)
    ledger      = optional(bool, false)
    ledger_read = optional(bool, false)
    published   = optional(bool, false)
    provisional = optional(bool, false)
    partitions  = optional(list(string), [])
  }))
  default = {
    ingest = { read = ["landing"], write = ["raw", "hot", "quarantine"] }
    etl    = { read = ["raw", "hot", "artifacts"], write = ["curated", "features", "quarantine"], ledger = true, partitions = ["curated_events"] }
    ml     = { read = ["features", "artifacts"], write = ["segments"], published = true }
    # The daily between-run assignment (Glue job assign): the new raw/hot events and curated
    # (cleaned as clean would, nothing committed), the features reports, the published version;
    # it writes its record to the segments zone and provisional items to the segments table.
    assign  = { read = ["raw", "hot", "curated", "features", "artifacts"], write = ["segments"], ledger_read = true, published = true, provisional = true }
    serving = { read = ["segments"], write = [] }
    # The pipeline's Monitor task: a run's model document and profiles (segments) and the clean
    # step's quality report (curated); a role of its own, so the API's role never reads curated.
    monitor = { read = ["curated", "segments"], write = [] }
    analyst = { read = ["curated", "features", "segments"], write = [] }
    # The backtest (Glue job): a model version's features and segment map, the curated events
    # after its snapshot (through the ledger's head), its report beside the version's profiles.
    evaluation = { read = ["curated", "features", "segments", "artifacts"], write = ["segments"], ledger_read = true }
  }

  validation {
    condition     = alltrue([for a in var.stage_access : length(setsubtract(a.partitions, keys(local.tables))) == 0])
    error_message = "stage_access partitions name a table the module does not define (curated_events, features_user_features, segments_segment_map)."
  }
}

variable "ledger_table_arn" {
  description = "The clean step's run ledger (module ledger's table_arn); required when a stage in stage_access has `ledger` or `ledger_read`."
  type        = string
  default     = null

  validation {
    condition     = var.ledger_table_arn != null || !anytrue([for a in var.stage_access : a.ledger || a.ledger_read])
    error_message = "A stage in stage_access has ledger or ledger_read = true: pass ledger_table_arn (module ledger)."
  }
}

variable "segments_table_arn" {
  description = "The segments table (module serving's table_arn); required when a stage in stage_access has `published = true`."
  type        = string
  default     = null

  validation {
    condition     = var.segments_table_arn != null || !anytrue([for a in var.stage_access : a.published || a.provisional])
    error_message = "A stage in stage_access has published or provisional = true: pass segments_table_arn (module serving)."
  }
}

variable "stage_trust" {
  description = "Who may assume each stage role: AWS service principals, or AWS principal ARNs (humans)."
  type = map(object({
    services   = optional(list(string), [])
    principals = optional(list(string), [])
  }))
  default = {
    ingest     = { services = ["lambda.amazonaws.com"] }
    etl        = { services = ["glue.amazonaws.com"] }
    ml         = { services = ["emr-serverless.amazonaws.com"] }
    assign     = { services = ["glue.amazonaws.com"] }
    serving    = { services = ["lambda.amazonaws.com"] }
    monitor    = { services = ["lambda.amazonaws.com"] }
    analyst    = {}
    evaluation = { services = ["glue.amazonaws.com"] }
  }
}

variable "lake_admin_arns" {
  description = "Extra Lake Formation administrators; the identity running Terraform is always one."
  type        = list(string)
  default     = []
}

variable "hot_retention_days" {
  description = "Days streamed objects stay in the hot zone; the compaction into curated runs well inside this window."
  type        = number
  default     = 14
}

variable "raw_infrequent_access_days" {
  description = "Days after which raw-zone objects move to STANDARD_IA (raw is re-read only on reprocessing)."
  type        = number
  default     = 30
}

variable "landing_retention_days" {
  description = "Days uploaded historical files stay in landing once batch_ingest copied them to raw."
  type        = number
  default     = 30
}

variable "quarantine_retention_days" {
  description = "Days quarantined records (which may hold raw ids) are kept for investigation."
  type        = number
  default     = 90
}

variable "noncurrent_version_days" {
  description = "Days a superseded object version is kept (undo window for overwrites and deletes)."
  type        = number
  default     = 30
}

variable "enable_lifecycle" {
  description = "Create the lifecycle rules (off only to speed up emulators, where they take ~1 min to settle)."
  type        = bool
  default     = true
}

variable "bucket_sse_algorithm" {
  description = "Default encryption of the zone buckets: aws:kms (the lake key; use on AWS) or AES256 (S3-managed keys). AES256 exists for an http-only emulator: Spark's S3A connector refuses SSE-KMS requests over plain HTTP, so the local environment cannot use the KMS key."
  type        = string
  default     = "aws:kms"
  validation {
    condition     = contains(["aws:kms", "AES256"], var.bucket_sse_algorithm)
    error_message = "bucket_sse_algorithm must be \"aws:kms\" or \"AES256\"."
  }
}

variable "tls_only_policy" {
  description = "Attach the bucket policy denying non-TLS requests (off on an http-only emulator)."
  type        = bool
  default     = true
}

variable "force_destroy" {
  description = "Allow destroying non-empty buckets (dev and local environments only)."
  type        = bool
  default     = false
}

variable "kms_deletion_window_days" {
  description = "Waiting period before the lake KMS key is deleted after destroy."
  type        = number
  default     = 30
}

variable "hmac_secret_name" {
  description = "Name of the Secrets Manager secret holding the HMAC key (SEG_HMAC_SECRET_NAME). Only the secret is created; `segmentation keygen` writes its value, so the key never enters Terraform state."
  type        = string
}

variable "secret_recovery_window_days" {
  description = "Days a deleted secret stays recoverable (0 deletes at once; dev and local only)."
  type        = number
  default     = 30
}

variable "manage_catalog_encryption" {
  description = "Set the account-wide Glue Data Catalog encryption (a singleton per account and region)."
  type        = bool
  default     = true
}

variable "feature_columns" {
  description = "Columns of features.user_features besides user_anon_id: segmentation.pipeline.features.FEATURES, all written as double."
  type = list(object({
    name = string
    type = string
  }))
  default = [
    { name = "recency_days", type = "double" },
    { name = "frequency", type = "double" },
    { name = "monetary", type = "double" },
    { name = "avg_session_minutes", type = "double" },
    { name = "completion_rate", type = "double" },
    { name = "unique_genres", type = "double" },
    { name = "searches_per_session", type = "double" },
    { name = "banner_ctr", type = "double" },
    { name = "morning_share", type = "double" },
    { name = "evening_share", type = "double" },
    { name = "weekend_share", type = "double" },
    { name = "active_days", type = "double" },
  ]
}

variable "secret_reader_stages" {
  description = "Stages allowed to read the HMAC key: those that pseudonymise raw ids (ingest) or look them up (serving)."
  type        = list(string)
  default     = ["ingest", "serving"]
}
