terraform {
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Remote state: not hard-wired, so `terraform init` works anywhere. For a shared deployment
  # copy backend.tf.example to backend.tf (or pass -backend-config) — see docs/deploy.md.
}
