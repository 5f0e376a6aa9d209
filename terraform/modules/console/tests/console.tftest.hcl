mock_provider "aws" {
  source = "../../tests/mocks/aws"
}

variables {
  name_prefix        = "seg"
  site_dir           = "../../../web"
  params_schema_path = "../../../docs/params.schema.json"
  api_url            = "https://abc.execute-api.eu-west-1.amazonaws.com/v1/"
}

run "analysts_pool_and_console_client" {
  command = apply

  assert {
    condition     = aws_cognito_user_pool.analysts.name == "segmentation-analysts" && one(aws_cognito_user_pool.analysts.admin_create_user_config).allow_admin_create_user_only
    error_message = "the pool `segmentation analyst add` finds by name; only administrators add analysts"
  }
  assert {
    condition     = one(aws_cognito_user_pool.analysts.password_policy).minimum_length >= 12 && aws_cognito_user_pool.analysts.deletion_protection == "ACTIVE"
    error_message = "a strong password policy; the pool is not deleted with the stack"
  }
  assert {
    condition     = toset(aws_cognito_user_pool_client.console.explicit_auth_flows) == toset(["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]) && !aws_cognito_user_pool_client.console.generate_secret
    error_message = "the console signs in with USER_PASSWORD_AUTH and keeps no client secret"
  }
  assert {
    condition     = aws_cognito_user_pool_client.console.prevent_user_existence_errors == "ENABLED"
    error_message = "sign-in does not tell which e-mails exist"
  }
}

run "private_bucket_behind_cloudfront_https_only" {
  command = apply

  assert {
    condition     = aws_s3_bucket_public_access_block.site.block_public_policy && aws_s3_bucket_public_access_block.site.restrict_public_buckets && aws_s3_bucket_public_access_block.site.block_public_acls
    error_message = "the bucket is private"
  }
  assert {
    condition     = aws_cloudfront_origin_access_control.site[0].origin_access_control_origin_type == "s3" && aws_cloudfront_origin_access_control.site[0].signing_behavior == "always"
    error_message = "CloudFront reads the bucket through origin access control"
  }
  assert {
    condition     = one(aws_cloudfront_distribution.site[0].origin).origin_access_control_id == aws_cloudfront_origin_access_control.site[0].id
    error_message = "the distribution's origin uses the OAC"
  }
  assert {
    condition     = one(aws_cloudfront_distribution.site[0].default_cache_behavior).viewer_protocol_policy == "redirect-to-https" && toset(one(aws_cloudfront_distribution.site[0].default_cache_behavior).allowed_methods) == toset(["GET", "HEAD"])
    error_message = "HTTPS only, read only"
  }
  assert {
    condition     = aws_cloudfront_distribution.site[0].default_root_object == "index.html"
    error_message = "the page at /"
  }
  assert {
    condition     = jsondecode(aws_s3_bucket_policy.site[0].policy).Statement[0].Principal.Service == "cloudfront.amazonaws.com" && jsondecode(aws_s3_bucket_policy.site[0].policy).Statement[0].Condition.StringEquals["AWS:SourceArn"] == aws_cloudfront_distribution.site[0].arn
    error_message = "only this distribution may read the bucket"
  }
  assert {
    condition     = jsondecode(aws_s3_bucket_policy.site[0].policy).Statement[1].Effect == "Deny" && jsondecode(aws_s3_bucket_policy.site[0].policy).Statement[1].Condition.Bool["aws:SecureTransport"] == "false"
    error_message = "TLS only to the bucket too"
  }
  assert {
    condition     = strcontains(one(one(aws_cloudfront_response_headers_policy.site[0].security_headers_config).content_security_policy).content_security_policy, "script-src 'self'")
    error_message = "scripts from the site only (no CDN)"
  }
}

run "site_files_config_and_schema" {
  command = apply

  assert {
    condition     = contains(keys(aws_s3_object.site), "index.html") && contains(keys(aws_s3_object.site), "js/main.js") && contains(keys(aws_s3_object.site), "css/console.css")
    error_message = "web/ is uploaded as it is"
  }
  assert {
    condition     = aws_s3_object.site["index.html"].content_type == "text/html; charset=utf-8" && aws_s3_object.site["js/main.js"].content_type == "text/javascript; charset=utf-8"
    error_message = "the page and its ES modules are served with their types (browsers refuse modules otherwise)"
  }
  assert {
    condition     = aws_s3_object.params_schema.key == "params.schema.json"
    error_message = "the form's schema beside the page"
  }
  assert {
    condition     = jsondecode(aws_s3_object.config.content).api_url == "https://abc.execute-api.eu-west-1.amazonaws.com/v1" && jsondecode(aws_s3_object.config.content).cognito.endpoint == "https://cognito-idp.eu-west-1.amazonaws.com/"
    error_message = "config.json: the API (no trailing slash) and the region's Cognito endpoint"
  }
  assert {
    condition     = jsondecode(aws_s3_object.config.content).cognito.client_id == aws_cognito_user_pool_client.console.id
    error_message = "config.json: the console's client"
  }
}

run "without_cloudfront_where_the_endpoint_has_none" {
  command = apply

  variables {
    cloudfront       = false
    enable_lifecycle = false
  }

  assert {
    condition     = length(aws_cloudfront_distribution.site) == 0 && length(aws_s3_bucket_policy.site) == 0 && output.url == null
    error_message = "bucket and pool only"
  }
  assert {
    condition     = length(aws_s3_bucket_lifecycle_configuration.site) == 0 && aws_s3_object.config.key == "config.json"
    error_message = "no lifecycle rule on the emulator; config.json all the same"
  }
}
