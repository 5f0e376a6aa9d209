# Serving: the segments table, the publish and segment_api functions, and the REST API in front
# of segment_api (API key + usage plan with throttling, access logs, X-Ray).

data "aws_region" "current" {}

locals {
  function_env = merge(var.environment, { SEG_SEGMENTS_TABLE = var.table_name })
  api_name     = "${var.name_prefix}-segments"
  # The functions need only the network's workload group (HTTPS to the endpoints and gateways).
  subnet_ids   = var.vpc == null ? [] : var.vpc.subnet_ids
  function_sgs = var.vpc == null ? [] : var.vpc.security_group_ids
}

# ---------------------------------------------------------------------------------------------
# Table: pk/sk items (see segmentation.serving.table), TTL retires superseded versions.
# ---------------------------------------------------------------------------------------------
resource "aws_dynamodb_table" "segments" {
  name                        = var.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }
}

resource "aws_iam_role_policy" "table" {
  name = "segments-table"
  role = var.serving_role.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "SegmentsTable"
        Effect   = "Allow"
        Action   = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:DescribeTable"]
        Resource = [aws_dynamodb_table.segments.arn]
      },
      {
        Sid      = "EncryptedTable"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
        Resource = [var.kms_key_arn]
      },
    ]
  })
}

# ---------------------------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------------------------
module "segment_api" {
  source             = "../lambda_function"
  function_name      = "${var.name_prefix}-segment-api"
  description        = "REST API: a user's segment (raw id HMAC'd inside), the segment list, health"
  role_arn           = var.serving_role.arn
  role_name          = var.serving_role.name
  package            = var.segment_api_package
  layer_arns         = var.layer_arns
  environment        = merge(local.function_env, local.console_env, { POWERTOOLS_SERVICE_NAME = "segment_api" })
  kms_key_arn        = var.kms_key_arn
  memory_mb          = var.api_memory_mb
  timeout_seconds    = 10
  log_retention_days = var.log_retention_days
  subnet_ids         = local.subnet_ids
  security_group_ids = local.function_sgs
}

module "publish" {
  source             = "../lambda_function"
  function_name      = "${var.name_prefix}-publish"
  description        = "Step Functions task: a model version's segments -> DynamoDB, then the current-version pointer"
  role_arn           = var.serving_role.arn
  role_name          = var.serving_role.name
  package            = var.publish_package
  layer_arns         = var.layer_arns
  environment        = merge(local.function_env, { POWERTOOLS_SERVICE_NAME = "publish" })
  kms_key_arn        = var.kms_key_arn
  memory_mb          = var.publish_memory_mb
  timeout_seconds    = var.publish_timeout_seconds
  log_retention_days = var.log_retention_days
  subnet_ids         = local.subnet_ids
  security_group_ids = local.function_sgs
}

# ---------------------------------------------------------------------------------------------
# REST API: GET /users/{user_id}/segment, GET /segments, GET /health; every method needs the key.
# ---------------------------------------------------------------------------------------------
resource "aws_api_gateway_rest_api" "this" {
  name        = local.api_name
  description = "Segment lookup API (API key required)"
  endpoint_configuration {
    types = ["REGIONAL"]
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_resource" "users" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = "users"
}

resource "aws_api_gateway_resource" "user" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.users.id
  path_part   = "{user_id}"
}

resource "aws_api_gateway_resource" "user_segment" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.user.id
  path_part   = "segment"
}

resource "aws_api_gateway_resource" "segments" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = "segments"
}

resource "aws_api_gateway_resource" "health" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = "health"
}

locals {
  routes = {
    user_segment = { resource_id = aws_api_gateway_resource.user_segment.id, path = "/users/{user_id}/segment", params = { "method.request.path.user_id" = true, "method.request.querystring.campaign" = false } }
    segments     = { resource_id = aws_api_gateway_resource.segments.id, path = "/segments", params = {} }
    health       = { resource_id = aws_api_gateway_resource.health.id, path = "/health", params = {} }
  }
}

resource "aws_api_gateway_method" "get" {
  #checkov:skip=CKV_AWS_59:Access control is the API key + usage plan (api_key_required on every method); callers are internal services, not end users with identities.
  #checkov:skip=CKV2_AWS_53:The only inputs are the user_id path parameter and the optional campaign id, validated (and the id HMAC'd) by the function, which answers 4xx with the expected format.
  for_each           = local.routes
  rest_api_id        = aws_api_gateway_rest_api.this.id
  resource_id        = each.value.resource_id
  http_method        = "GET"
  authorization      = "NONE"
  api_key_required   = true
  request_parameters = each.value.params
}

resource "aws_api_gateway_integration" "get" {
  for_each                = local.routes
  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = each.value.resource_id
  http_method             = aws_api_gateway_method.get[each.key].http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = module.segment_api.invoke_arn
}

# Every other method reaches the function too, so the API answers as its OpenAPI spec says
# (HEAD /health like GET without a body; 405 with Allow for the rest), here as locally, instead
# of API Gateway's own 403 for an undeclared method.
resource "aws_api_gateway_method" "other" {
  #checkov:skip=CKV_AWS_59:Access control is the API key + usage plan (api_key_required on every method); callers are internal services, not end users with identities.
  #checkov:skip=CKV2_AWS_53:The only input is the user_id path parameter, validated (and HMAC'd) by the function, which answers 4xx with the expected format.
  for_each           = local.routes
  rest_api_id        = aws_api_gateway_rest_api.this.id
  resource_id        = each.value.resource_id
  http_method        = "ANY"
  authorization      = "NONE"
  api_key_required   = true
  request_parameters = each.value.params
}

resource "aws_api_gateway_integration" "other" {
  for_each                = local.routes
  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = each.value.resource_id
  http_method             = aws_api_gateway_method.other[each.key].http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = module.segment_api.invoke_arn
}

resource "aws_lambda_permission" "api" {
  statement_id  = "api-gateway-invoke"
  action        = "lambda:InvokeFunction"
  function_name = module.segment_api.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.this.execution_arn}/*/*/*" # GET and ANY, this API only
}

resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id

  triggers = {
    redeployment = sha1(jsonencode([
      local.routes,
      [for m in aws_api_gateway_method.get : [m.id, m.api_key_required]],
      [for i in aws_api_gateway_integration.get : [i.id, i.uri]],
      [for m in aws_api_gateway_method.other : [m.id, m.api_key_required]],
      [for i in aws_api_gateway_integration.other : [i.id, i.uri]],
      local.console_routes,
      # the authorizer's id, not each method's authorizer_id (the emulator reads an unset one
      # back as "", which would redeploy on every plan)
      [for m in aws_api_gateway_method.console : [m.id, m.authorization]],
      [for a in aws_api_gateway_authorizer.analysts : [a.id, a.provider_arns]],
      [for i in aws_api_gateway_integration.console : [i.id, i.uri]],
      [for m in aws_api_gateway_method.console_preflight : m.id],
      [for i in aws_api_gateway_integration.console_preflight : [i.id, i.uri]],
      [for r in aws_api_gateway_gateway_response.console : r.id],
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${local.api_name}/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_iam_role" "api_gateway_logs" {
  count = var.manage_api_gateway_account ? 1 : 0
  name  = "${var.name_prefix}-apigateway-cloudwatch"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "apigateway.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "api_gateway_logs" {
  count      = var.manage_api_gateway_account ? 1 : 0
  role       = aws_iam_role.api_gateway_logs[0].name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "this" {
  count               = var.manage_api_gateway_account ? 1 : 0
  cloudwatch_role_arn = aws_iam_role.api_gateway_logs[0].arn
  depends_on          = [aws_iam_role_policy_attachment.api_gateway_logs]
}

resource "aws_api_gateway_stage" "this" {
  #checkov:skip=CKV_AWS_120:Responses are per user and already one DynamoDB GetItem; a stage cache would hold user-specific answers.
  #checkov:skip=CKV2_AWS_51:Clients authenticate with API keys; mutual TLS client certificates are not part of this API's contract.
  #checkov:skip=CKV2_AWS_4:The execution logging level is set in aws_api_gateway_method_settings.all (ERROR by default); it is OFF only where the account-wide API Gateway CloudWatch role is not managed (the emulator).
  #checkov:skip=CKV2_AWS_29:WAF is an account-level choice (web ACL association) left to the deployer; the usage plan throttles per key.
  rest_api_id          = aws_api_gateway_rest_api.this.id
  deployment_id        = aws_api_gateway_deployment.this.id
  stage_name           = var.stage_name
  xray_tracing_enabled = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId      = "$context.requestId"
      ip             = "$context.identity.sourceIp"
      requestTime    = "$context.requestTime"
      httpMethod     = "$context.httpMethod"
      resourcePath   = "$context.resourcePath"
      status         = "$context.status"
      responseLength = "$context.responseLength"
      latencyMs      = "$context.responseLatency"
      apiKeyId       = "$context.identity.apiKeyId"
      error          = "$context.error.message"
    })
  }

  depends_on = [aws_api_gateway_account.this]
}

resource "aws_api_gateway_method_settings" "all" {
  #checkov:skip=CKV_AWS_225:Responses are per user and already one DynamoDB GetItem; a cache would hold user-specific answers.
  #checkov:skip=CKV_AWS_308:No cache (see CKV_AWS_225), so nothing to encrypt.
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.this.stage_name
  method_path = "*/*"

  settings {
    metrics_enabled        = true
    logging_level          = var.manage_api_gateway_account ? var.execution_logging_level : "OFF"
    data_trace_enabled     = false # would log request paths, which hold raw user ids
    throttling_rate_limit  = var.throttle_rate_limit
    throttling_burst_limit = var.throttle_burst_limit
  }
}

resource "aws_api_gateway_api_key" "default" {
  name        = "${var.name_prefix}-default"
  description = "Default client key of the segment API (value: aws apigateway get-api-key --include-value)"
  enabled     = true
}

resource "aws_api_gateway_usage_plan" "this" {
  name        = "${var.name_prefix}-segments"
  description = "Throttling and daily quota per API key"

  api_stages {
    api_id = aws_api_gateway_rest_api.this.id
    stage  = aws_api_gateway_stage.this.stage_name
  }

  throttle_settings {
    rate_limit  = var.throttle_rate_limit
    burst_limit = var.throttle_burst_limit
  }

  quota_settings {
    limit  = var.quota_per_day
    period = "DAY"
  }
}

resource "aws_api_gateway_usage_plan_key" "default" {
  key_id        = aws_api_gateway_api_key.default.id
  key_type      = "API_KEY"
  usage_plan_id = aws_api_gateway_usage_plan.this.id
}
