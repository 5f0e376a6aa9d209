variable "aws_endpoint" {
  description = "Endpoint of the local AWS (the project's moto server: `python -m segmentation_local.motoserver`)."
  type        = string
  default     = "http://127.0.0.1:5000"
}

variable "region" {
  description = "Region the emulator answers for (SEG_AWS_REGION)."
  type        = string
  default     = "us-east-1"
}

variable "name_prefix" {
  description = "Prefix of every named resource; the state machine is '<name_prefix>-pipeline'."
  type        = string
  default     = "segmentation"
}

variable "lake_prefix" {
  description = "Bucket prefix (SEG_LAKE_PREFIX); the default is Settings' default, so the local stack needs no configuration."
  type        = string
  default     = "segmentation-local"
}

variable "hmac_secret_name" {
  description = "Secret of the HMAC key (SEG_HMAC_SECRET_NAME)."
  type        = string
  default     = "segmentation/hmac-key"
}

variable "segments_table" {
  description = "Segments table (SEG_SEGMENTS_TABLE)."
  type        = string
  default     = "segmentation-segments"
}

variable "ledger_table" {
  description = "Run ledger of the clean step (SEG_LEDGER_TABLE)."
  type        = string
  default     = "segmentation-ledger"
}

variable "campaigns_table" {
  description = "DynamoDB table of the campaigns (SEG_CAMPAIGNS_TABLE)."
  type        = string
  default     = "segmentation-campaigns"
}

variable "campaign_secret_name" {
  description = "Secret of the campaigns' arm key (SEG_CAMPAIGN_SECRET_NAME); its value is written by `segmentation keygen --campaigns`."
  type        = string
  default     = "segmentation/campaign-key"
}

variable "kafka_topic" {
  description = "Topic of raw events (SEG_KAFKA_TOPIC)."
  type        = string
  default     = "raw-events"
}

variable "mlflow_tracking_uri" {
  description = "The local MLflow server (SEG_MLFLOW_TRACKING_URI)."
  type        = string
  default     = "http://127.0.0.1:5001"
}

variable "enable_lifecycle" {
  description = "Create the buckets' lifecycle rules (moto takes ~1 min to settle them; off for quick local runs)."
  type        = bool
  default     = true
}

variable "msk" {
  description = "Create the MSK serverless cluster and its event source mapping in the emulator (needs the project's moto patches); the local stream itself runs on the embedded broker."
  type        = bool
  default     = true
}

variable "build_dir" {
  description = "Where `make package` put the artifacts; default <repo>/build."
  type        = string
  default     = null
}

variable "monitor_thresholds" {
  description = "Thresholds of the pipeline's Monitor task and of its alarms (psi_max, share_shift_max, quarantine_rate_max, users_drop_max); unset keys keep the deployment module's defaults, which are Settings' (SEG_MONITOR_*)."
  type        = map(number)
  default     = {}
}

variable "timestamp_min" {
  description = "Earliest event timestamp the contract accepts, a UTC day (SEG_TIMESTAMP_MIN): older rows are quarantined as clock faults. Lower it for exports that reach back further."
  type        = string
  default     = "1990-01-01"
}
