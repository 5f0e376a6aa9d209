# Console: the analysts' Cognito user pool and the console's app client, and the web page as a
# private S3 bucket behind CloudFront (origin access control, HTTPS only), with config.json
# telling the page where its API and Cognito are.

data "aws_region" "current" {}

locals {
  bucket_name = "${var.name_prefix}-console"
  # Content types of the files web/ holds (S3 serves what it is told).
  content_types = {
    html = "text/html; charset=utf-8"
    js   = "text/javascript; charset=utf-8"
    css  = "text/css; charset=utf-8"
    json = "application/json"
    png  = "image/png"
    svg  = "image/svg+xml"
    ico  = "image/x-icon"
  }
  site_files       = { for f in fileset(var.site_dir, "**") : f => "${var.site_dir}/${f}" }
  cognito_endpoint = "https://cognito-idp.${data.aws_region.current.name}.amazonaws.com/"
}

# ---------------------------------------------------------------------------------------------
# Analysts: a pool only administrators add users to (segmentation analyst add EMAIL), signed in
# by the console with USER_PASSWORD_AUTH (the page has its own form; no hosted UI).
# ---------------------------------------------------------------------------------------------
resource "aws_cognito_user_pool" "analysts" {
  name                     = var.pool_name
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  deletion_protection      = var.deletion_protection ? "ACTIVE" : "INACTIVE"
  mfa_configuration        = "OPTIONAL"

  admin_create_user_config {
    allow_admin_create_user_only = true
  }

  password_policy {
    minimum_length                   = 12
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = true
    temporary_password_validity_days = 3
  }

  software_token_mfa_configuration {
    enabled = true
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }
}

resource "aws_cognito_user_pool_client" "console" {
  name                          = var.client_name
  user_pool_id                  = aws_cognito_user_pool.analysts.id
  generate_secret               = false # a browser cannot keep one
  explicit_auth_flows           = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true
  id_token_validity             = var.token_validity_hours
  access_token_validity         = var.token_validity_hours
  refresh_token_validity        = 1

  token_validity_units {
    id_token      = "hours"
    access_token  = "hours"
    refresh_token = "days"
  }
}

# ---------------------------------------------------------------------------------------------
# The site's bucket: private, reachable only through the distribution (origin access control).
# ---------------------------------------------------------------------------------------------
resource "aws_s3_bucket" "site" {
  #checkov:skip=CKV_AWS_144:The site is rebuilt from the repository's web/ by Terraform; a replica adds nothing a re-apply does not.
  #checkov:skip=CKV_AWS_18:CloudFront's access logs (access_log_bucket) record every request the site gets; the bucket itself is reached by CloudFront only.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to the site's objects changing; they change only with terraform apply.
  #checkov:skip=CKV2_AWS_61:Old versions expire after 30 days by the lifecycle rule below (off only on the emulator, enable_lifecycle).
  #checkov:skip=CKV_AWS_145:Public static files (the page's HTML/JS/CSS, no data): SSE-S3 suffices, and OAC reading SSE-KMS objects would need the key shared with CloudFront.
  bucket        = local.bucket_name
  force_destroy = true # only the build's files live here
}

resource "aws_s3_bucket_public_access_block" "site" {
  bucket                  = aws_s3_bucket.site.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "site" {
  bucket = aws_s3_bucket.site.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "site" {
  bucket = aws_s3_bucket.site.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "site" {
  bucket = aws_s3_bucket.site.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "site" {
  count  = var.enable_lifecycle ? 1 : 0
  bucket = aws_s3_bucket.site.id
  rule {
    id     = "old-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_policy" "site" {
  count  = var.cloudfront ? 1 : 0
  bucket = aws_s3_bucket.site.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "CloudFrontReadsTheSite"
        Effect    = "Allow"
        Principal = { Service = "cloudfront.amazonaws.com" }
        Action    = "s3:GetObject"
        Resource  = "${aws_s3_bucket.site.arn}/*"
        Condition = { StringEquals = { "AWS:SourceArn" = aws_cloudfront_distribution.site[0].arn } }
      },
      {
        Sid       = "TlsOnly"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.site.arn, "${aws_s3_bucket.site.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
  depends_on = [aws_s3_bucket_public_access_block.site]
}

resource "aws_s3_object" "site" {
  for_each     = local.site_files
  bucket       = aws_s3_bucket.site.id
  key          = each.key
  source       = each.value
  etag         = filemd5(each.value)
  content_type = lookup(local.content_types, reverse(split(".", each.key))[0], "application/octet-stream")
  # index.html and config.json change with each deployment; the modules they load are small.
  cache_control = "no-cache"
}

resource "aws_s3_object" "params_schema" {
  bucket        = aws_s3_bucket.site.id
  key           = "params.schema.json"
  source        = var.params_schema_path
  etag          = filemd5(var.params_schema_path)
  content_type  = "application/json"
  cache_control = "no-cache"
}

resource "aws_s3_object" "config" {
  bucket = aws_s3_bucket.site.id
  key    = "config.json"
  content = jsonencode({
    api_url = trimsuffix(var.api_url, "/")
    cognito = {
      endpoint  = local.cognito_endpoint
      region    = data.aws_region.current.name
      client_id = aws_cognito_user_pool_client.console.id
    }
  })
  content_type  = "application/json"
  cache_control = "no-store"
}

# ---------------------------------------------------------------------------------------------
# CloudFront: HTTPS only, the bucket through origin access control, security headers.
# ---------------------------------------------------------------------------------------------
resource "aws_cloudfront_origin_access_control" "site" {
  count                             = var.cloudfront ? 1 : 0
  name                              = "${var.name_prefix}-console"
  description                       = "The console's bucket, read by its distribution only"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_cloudfront_response_headers_policy" "site" {
  count = var.cloudfront ? 1 : 0
  name  = "${var.name_prefix}-console-security"

  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = 31536000
      include_subdomains         = true
      preload                    = true
      override                   = true
    }
    content_type_options {
      override = true
    }
    frame_options {
      frame_option = "DENY"
      override     = true
    }
    referrer_policy {
      referrer_policy = "no-referrer"
      override        = true
    }
    content_security_policy {
      # the page's own files, its API and Cognito: nothing else is loaded or called
      content_security_policy = "default-src 'self'; connect-src 'self' https:; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
      override                = true
    }
  }
}

resource "aws_cloudfront_distribution" "site" {
  #checkov:skip=CKV_AWS_68:A WAF web ACL is optional (web_acl_arn): the site is static files, and the API it calls has its own throttling and authorizer.
  #checkov:skip=CKV2_AWS_47:As CKV_AWS_68: WAF (and its Log4j rule) attach through web_acl_arn when wanted.
  #checkov:skip=CKV_AWS_86:Access logs need a log bucket the account chooses (access_log_bucket); off by default.
  #checkov:skip=CKV_AWS_310:One origin (the bucket); there is nothing to fail over to.
  #checkov:skip=CKV_AWS_374:Analysts may work from anywhere; access is controlled by Cognito, not geography.
  #checkov:skip=CKV_AWS_174:The default *.cloudfront.net certificate; CloudFront negotiates TLS 1.2+ with current browsers, and a custom domain (with minimum_protocol_version) is the deployer's choice.
  #checkov:skip=CKV2_AWS_32:The response headers policy is attached (default_cache_behavior.response_headers_policy_id); checkov does not follow the count-indexed reference.
  #checkov:skip=CKV2_AWS_42:As CKV_AWS_174: a custom certificate comes with a custom domain.
  count               = var.cloudfront ? 1 : 0
  enabled             = true
  comment             = "${var.name_prefix} web console"
  default_root_object = "index.html"
  price_class         = var.price_class
  web_acl_id          = var.web_acl_arn
  http_version        = "http2and3"

  origin {
    origin_id                = "site"
    domain_name              = aws_s3_bucket.site.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.site[0].id
  }

  default_cache_behavior {
    target_origin_id           = "site"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = "658327ea-f89d-4fab-a63d-7e88639e58f6" # Managed-CachingOptimized
    response_headers_policy_id = aws_cloudfront_response_headers_policy.site[0].id
  }

  dynamic "logging_config" {
    for_each = var.access_log_bucket == null ? [] : [var.access_log_bucket]
    content {
      bucket          = logging_config.value
      prefix          = "console/"
      include_cookies = false
    }
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = true
  }
}
