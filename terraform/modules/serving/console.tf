# The web console's routes on the same REST API and function (segmentation.serving.console):
# /uploads, /uploads/{upload_id}, /runs, /runs/{run_id}, /models/{model_version}, /campaigns,
# /campaigns/{campaign_id}, /campaigns/{campaign_id}/uplift behind a Cognito authorizer (the
# analysts' pool), /contract public; CORS preflights (OPTIONS) reach the function
# unauthorised, and API Gateway's own 401/403 carry the console's origin so the page can read
# them. The function's role may presign landing uploads, read their reports and the model
# documents, and start / list / describe the pipeline's executions. Nothing here without
# var.console (the segment routes keep their API key either way).

locals {
  console_on = var.console != null
  # resource key -> (parent key or "" for the root, path part)
  console_top = local.console_on ? {
    uploads   = "uploads"
    runs      = "runs"
    models    = "models"
    contract  = "contract"
    lookups   = "lookups"
    served    = "served"
    campaigns = "campaigns"
  } : {}
  console_child = local.console_on ? {
    upload   = { parent = "uploads", part = "{upload_id}" }
    run      = { parent = "runs", part = "{run_id}" }
    model    = { parent = "models", part = "{model_version}" }
    lookup   = { parent = "lookups", part = "{user_id}" }
    campaign = { parent = "campaigns", part = "{campaign_id}" }
  } : {}
  # a third level: /campaigns/{campaign_id}/uplift
  console_grandchild = local.console_on ? {
    campaign_uplift = { parent = "campaign", part = "uplift" }
  } : {}
  console_routes = local.console_on ? {
    uploads  = { resource_id = aws_api_gateway_resource.console_top["uploads"].id, path = "/uploads", authorized = true, params = {} }
    upload   = { resource_id = aws_api_gateway_resource.console_child["upload"].id, path = "/uploads/{upload_id}", authorized = true, params = { "method.request.path.upload_id" = true } }
    runs     = { resource_id = aws_api_gateway_resource.console_top["runs"].id, path = "/runs", authorized = true, params = {} }
    run      = { resource_id = aws_api_gateway_resource.console_child["run"].id, path = "/runs/{run_id}", authorized = true, params = { "method.request.path.run_id" = true } }
    model    = { resource_id = aws_api_gateway_resource.console_child["model"].id, path = "/models/{model_version}", authorized = true, params = { "method.request.path.model_version" = true } }
    contract = { resource_id = aws_api_gateway_resource.console_top["contract"].id, path = "/contract", authorized = false, params = {} }
    # the lookup box and the served version: the API-key routes' answers, for a signed-in analyst
    lookup = { resource_id = aws_api_gateway_resource.console_child["lookup"].id, path = "/lookups/{user_id}", authorized = true, params = { "method.request.path.user_id" = true, "method.request.querystring.campaign" = false } }
    served = { resource_id = aws_api_gateway_resource.console_top["served"].id, path = "/served", authorized = true, params = {} }
    # campaigns with a holdout (segmentation.serving.campaigns)
    campaigns       = { resource_id = aws_api_gateway_resource.console_top["campaigns"].id, path = "/campaigns", authorized = true, params = {} }
    campaign        = { resource_id = aws_api_gateway_resource.console_child["campaign"].id, path = "/campaigns/{campaign_id}", authorized = true, params = { "method.request.path.campaign_id" = true } }
    campaign_uplift = { resource_id = aws_api_gateway_resource.console_grandchild["campaign_uplift"].id, path = "/campaigns/{campaign_id}/uplift", authorized = true, params = { "method.request.path.campaign_id" = true } }
  } : {}
  console_env = local.console_on ? merge(
    var.console.origin == null ? {} : { SEG_CONSOLE_ORIGIN = var.console.origin },
    var.console.state_machine_arn == null ? {} : { SEG_STATE_MACHINE_ARN = var.console.state_machine_arn },
  ) : {}
  executions_arn = local.console_on && try(var.console.state_machine_arn, null) != null ? "${replace(var.console.state_machine_arn, ":stateMachine:", ":execution:")}:*" : null
}

resource "aws_api_gateway_resource" "console_top" {
  for_each    = local.console_top
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = each.value
}

resource "aws_api_gateway_resource" "console_child" {
  for_each    = local.console_child
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.console_top[each.value.parent].id
  path_part   = each.value.part
}

resource "aws_api_gateway_resource" "console_grandchild" {
  for_each    = local.console_grandchild
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.console_child[each.value.parent].id
  path_part   = each.value.part
}

resource "aws_api_gateway_authorizer" "analysts" {
  count           = local.console_on ? 1 : 0
  name            = "${var.name_prefix}-analysts"
  rest_api_id     = aws_api_gateway_rest_api.this.id
  type            = "COGNITO_USER_POOLS"
  provider_arns   = [var.console.user_pool_arn]
  identity_source = "method.request.header.Authorization"
}

resource "aws_api_gateway_method" "console" {
  #checkov:skip=CKV_AWS_59:/contract is the public event contract (documentation); every other console route has the Cognito authorizer.
  #checkov:skip=CKV2_AWS_53:The function validates every input with the pipeline's and the contract's own models and answers 400 with what was expected.
  for_each           = local.console_routes
  rest_api_id        = aws_api_gateway_rest_api.this.id
  resource_id        = each.value.resource_id
  http_method        = "ANY"
  authorization      = each.value.authorized ? "COGNITO_USER_POOLS" : "NONE"
  authorizer_id      = each.value.authorized ? aws_api_gateway_authorizer.analysts[0].id : null
  api_key_required   = false # an analyst's token, not the lookup clients' key
  request_parameters = each.value.params
}

resource "aws_api_gateway_integration" "console" {
  for_each                = local.console_routes
  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = each.value.resource_id
  http_method             = aws_api_gateway_method.console[each.key].http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = module.segment_api.invoke_arn
}

# A browser's CORS preflight carries no token: it reaches the function (Powertools answers it
# for the console's origin only) without the authorizer.
resource "aws_api_gateway_method" "console_preflight" {
  #checkov:skip=CKV_AWS_59:CORS preflights never carry credentials; the function answers them for the console's origin only, with no data.
  #checkov:skip=CKV2_AWS_53:A preflight has no body or parameters to validate.
  for_each      = local.console_routes
  rest_api_id   = aws_api_gateway_rest_api.this.id
  resource_id   = each.value.resource_id
  http_method   = "OPTIONS"
  authorization = "NONE"
}

resource "aws_api_gateway_integration" "console_preflight" {
  for_each                = local.console_routes
  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = each.value.resource_id
  http_method             = aws_api_gateway_method.console_preflight[each.key].http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = module.segment_api.invoke_arn
}

resource "aws_api_gateway_gateway_response" "console" {
  # the keys are static (the origin is CloudFront's domain, known only after apply)
  for_each      = local.console_on ? toset(["UNAUTHORIZED", "ACCESS_DENIED"]) : toset([])
  rest_api_id   = aws_api_gateway_rest_api.this.id
  response_type = each.value
  response_parameters = var.console.origin == null ? {} : {
    "gatewayresponse.header.Access-Control-Allow-Origin" = "'${var.console.origin}'"
  }
}

resource "aws_iam_role_policy" "console" {
  count = local.console_on ? 1 : 0
  name  = "console-routes"
  role  = var.serving_role.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid      = "PresignConsoleUploads"
          Effect   = "Allow"
          Action   = ["s3:PutObject"]
          Resource = ["${var.console.landing_bucket_arn}/incoming/console/*"]
        },
        {
          Sid    = "ReadUploadReports"
          Effect = "Allow"
          Action = ["s3:GetObject"]
          Resource = [
            "${var.console.landing_bucket_arn}/processed/incoming/console/*",
            "${var.console.landing_bucket_arn}/failed/incoming/console/*",
          ]
        },
        {
          Sid       = "ListUploads"
          Effect    = "Allow"
          Action    = ["s3:ListBucket"]
          Resource  = [var.console.landing_bucket_arn]
          Condition = { StringLike = { "s3:prefix" = ["incoming/console/*", "processed/incoming/console/*", "failed/incoming/console/*"] } }
        },
        {
          Sid      = "ReadModelDocuments"
          Effect   = "Allow"
          Action   = ["s3:GetObject"]
          Resource = ["${var.console.segments_bucket_arn}/profiles/*"]
        },
        {
          Sid      = "ReadUpliftReports"
          Effect   = "Allow"
          Action   = ["s3:GetObject"]
          Resource = ["${var.console.segments_bucket_arn}/uplift/*"]
        },
      ],
      local.executions_arn == null ? [] : [
        {
          Sid      = "StartAndListRuns"
          Effect   = "Allow"
          Action   = ["states:StartExecution", "states:ListExecutions"]
          Resource = [var.console.state_machine_arn]
        },
        {
          Sid      = "DescribeRuns"
          Effect   = "Allow"
          Action   = ["states:DescribeExecution", "states:GetExecutionHistory"]
          Resource = [local.executions_arn]
        },
      ],
    )
  })
}
