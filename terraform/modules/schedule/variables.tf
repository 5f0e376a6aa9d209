variable "name" {
  description = "Name of the schedule (and, by default, of its role: '<name>-scheduler')."
  type        = string
}

variable "role_name" {
  description = "Name of the schedule's role; null: '<name>-scheduler'."
  type        = string
  default     = null
}

variable "description" {
  description = "What the schedule starts (the schedule's and its role's description)."
  type        = string
}

variable "schedule_expression" {
  description = "When it fires: cron(...) or rate(...)."
  type        = string

  validation {
    condition     = can(regex("^(cron|rate|at)\\(.+\\)$", var.schedule_expression))
    error_message = "schedule_expression is cron(...), rate(...) or at(...)."
  }
}

variable "timezone" {
  description = "Time zone of the schedule expression."
  type        = string
  default     = "UTC"
}

variable "enabled" {
  description = "Whether the schedule fires."
  type        = bool
  default     = true
}

variable "target_arn" {
  description = "What it starts: a state machine's ARN, or a universal target (arn:aws:scheduler:::aws-sdk:<service>:<action>)."
  type        = string
}

variable "input" {
  description = "The target's input (JSON text): an execution input, or the API call's parameters for a universal target."
  type        = string
  default     = "{}"
}

variable "target_actions" {
  description = "The only actions the schedule's role may take (e.g. states:StartExecution, glue:StartJobRun)."
  type        = list(string)
}

variable "target_resources" {
  description = "The only resources those actions apply to."
  type        = list(string)
}

variable "policy_name" {
  description = "Name of the role's inline policy."
  type        = string
  default     = "start-target"
}

variable "maximum_retry_attempts" {
  description = "Retries of a failed start."
  type        = number
  default     = 2
}

variable "maximum_event_age_seconds" {
  description = "How long a start may be retried."
  type        = number
  default     = 3600
}
