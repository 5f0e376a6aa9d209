mock_provider "aws" {
  source = "../../tests/mocks/aws"
}

variables {
  name_prefix         = "seg"
  table_name          = "seg-segments"
  kms_key_arn         = "arn:aws:kms:eu-west-1:123456789012:key/k"
  serving_role        = { arn = "arn:aws:iam::123456789012:role/seg-serving", name = "seg-serving" }
  segment_api_package = { path = "segment_api.zip", hash = "aA==" }
  publish_package     = { path = "publish.zip", hash = "aA==" }
  environment         = { SEG_LAKE_PREFIX = "seg-prod", SEG_ENVIRONMENT = "aws" }
}

run "segments_table" {
  command = apply

  assert {
    condition     = aws_dynamodb_table.segments.hash_key == "pk" && aws_dynamodb_table.segments.range_key == "sk"
    error_message = "pk/sk keys"
  }
  assert {
    condition     = toset([for a in aws_dynamodb_table.segments.attribute : "${a.name}:${a.type}"]) == toset(["pk:S", "sk:S"])
    error_message = "string keys"
  }
  assert {
    condition     = one(aws_dynamodb_table.segments.ttl).attribute_name == "expires_at" && one(aws_dynamodb_table.segments.ttl).enabled
    error_message = "TTL on expires_at retires superseded versions"
  }
  assert {
    condition     = aws_dynamodb_table.segments.billing_mode == "PAY_PER_REQUEST" && one(aws_dynamodb_table.segments.point_in_time_recovery).enabled
    error_message = "on-demand with PITR"
  }
  assert {
    condition     = one(aws_dynamodb_table.segments.server_side_encryption).enabled && one(aws_dynamodb_table.segments.server_side_encryption).kms_key_arn == var.kms_key_arn
    error_message = "encrypted with the lake key"
  }
  assert {
    condition     = module.publish.function_name == "seg-publish" && module.segment_api.function_name == "seg-segment-api"
    error_message = "function names"
  }
}

run "api_requires_a_key_everywhere" {
  command = apply

  assert {
    condition     = length(aws_api_gateway_method.get) == 3 && alltrue([for m in aws_api_gateway_method.get : m.api_key_required && m.http_method == "GET"])
    error_message = "every method (GET) requires the API key"
  }
  assert {
    condition     = length(aws_api_gateway_method.other) == 3 && alltrue([for m in aws_api_gateway_method.other : m.api_key_required && m.http_method == "ANY"])
    error_message = "the other methods (ANY) reach the function and require the API key too"
  }
  assert {
    condition     = toset([for r in local.routes : r.path]) == toset(["/users/{user_id}/segment", "/segments", "/health"])
    error_message = "the three routes"
  }
  assert {
    condition     = aws_api_gateway_resource.user.path_part == "{user_id}" && aws_api_gateway_resource.user_segment.path_part == "segment"
    error_message = "GET /users/{user_id}/segment"
  }
  assert {
    condition     = alltrue([for i in aws_api_gateway_integration.get : i.type == "AWS_PROXY" && i.uri == module.segment_api.invoke_arn])
    error_message = "proxied to segment_api"
  }
  assert {
    condition     = aws_api_gateway_usage_plan_key.default.key_id == aws_api_gateway_api_key.default.id && aws_api_gateway_usage_plan_key.default.usage_plan_id == aws_api_gateway_usage_plan.this.id
    error_message = "the key belongs to the usage plan"
  }
  assert {
    condition     = one(aws_api_gateway_usage_plan.this.throttle_settings).rate_limit == 50 && one(aws_api_gateway_usage_plan.this.throttle_settings).burst_limit == 100
    error_message = "throttled per key"
  }
  assert {
    condition     = one(aws_api_gateway_usage_plan.this.api_stages).stage == "v1"
    error_message = "plan covers the stage"
  }
}

run "access_logs_without_raw_ids" {
  command = apply

  assert {
    condition     = one(aws_api_gateway_stage.this.access_log_settings).destination_arn == aws_cloudwatch_log_group.access.arn
    error_message = "access logs on"
  }
  assert {
    condition     = !strcontains(one(aws_api_gateway_stage.this.access_log_settings).format, "$context.path") && !strcontains(one(aws_api_gateway_stage.this.access_log_settings).format, "requestOverride")
    error_message = "access logs keep the resource template, not the path with the raw user id"
  }
  assert {
    condition     = !one(aws_api_gateway_method_settings.all.settings).data_trace_enabled
    error_message = "no request/response bodies in logs"
  }
  assert {
    condition     = aws_lambda_permission.api.principal == "apigateway.amazonaws.com" && startswith(aws_lambda_permission.api.source_arn, "arn:aws:execute-api:eu-west-1:123456789012:abc123/")
    error_message = "only this API invokes segment_api"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.table.policy).Statement[0].Resource == [aws_dynamodb_table.segments.arn]
    error_message = "serving role scoped to the table"
  }
}

run "functions_in_the_vpc" {
  command = apply
  variables {
    vpc = { subnet_ids = ["subnet-a", "subnet-b"], security_group_ids = ["sg-workloads"] }
  }

  assert {
    condition     = alltrue([for f in [module.publish, module.segment_api] : f.vpc_config.security_group_ids == toset(["sg-workloads"]) && f.vpc_config.subnet_ids == toset(["subnet-a", "subnet-b"])])
    error_message = "functions in the private subnets with the network's workload group only"
  }
}

run "functions_in_a_vpc_need_a_group" {
  command = plan
  variables {
    vpc = { subnet_ids = ["subnet-a"], security_group_ids = [] }
  }
  expect_failures = [var.vpc]
}
