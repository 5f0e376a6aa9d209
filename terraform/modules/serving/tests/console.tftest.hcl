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
  console = {
    user_pool_arn       = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc"
    origin              = "https://d111111abcdef8.cloudfront.net"
    landing_bucket_arn  = "arn:aws:s3:::seg-prod-landing"
    segments_bucket_arn = "arn:aws:s3:::seg-prod-segments"
    state_machine_arn   = "arn:aws:states:eu-west-1:123456789012:stateMachine:seg-pipeline"
  }
}

run "console_routes_behind_the_cognito_authorizer" {
  command = apply

  assert {
    condition     = aws_api_gateway_authorizer.analysts[0].type == "COGNITO_USER_POOLS" && aws_api_gateway_authorizer.analysts[0].provider_arns == toset([var.console.user_pool_arn]) && aws_api_gateway_authorizer.analysts[0].identity_source == "method.request.header.Authorization"
    error_message = "a Cognito authorizer on the analysts' pool, reading the Authorization header"
  }
  assert {
    condition     = toset([for r in local.console_routes : r.path if r.authorized]) == toset(["/uploads", "/uploads/{upload_id}", "/runs", "/runs/{run_id}", "/models/{model_version}", "/lookups/{user_id}", "/served", "/campaigns", "/campaigns/{campaign_id}", "/campaigns/{campaign_id}/uplift"])
    error_message = "the authorized console routes (the local adapter's AUTHORIZED set)"
  }
  assert {
    condition     = alltrue([for k, m in aws_api_gateway_method.console : local.console_routes[k].authorized ? (m.authorization == "COGNITO_USER_POOLS" && m.authorizer_id == aws_api_gateway_authorizer.analysts[0].id) : m.authorization == "NONE"])
    error_message = "every console route but /contract needs a signed-in analyst"
  }
  assert {
    condition     = alltrue([for m in aws_api_gateway_method.console : m.http_method == "ANY" && !m.api_key_required])
    error_message = "console routes take the analyst's token, not the API key"
  }
  assert {
    condition     = alltrue([for m in aws_api_gateway_method.get : m.api_key_required]) && alltrue([for m in aws_api_gateway_method.other : m.api_key_required])
    error_message = "the lookup API keeps its API key"
  }
  assert {
    condition     = alltrue([for m in aws_api_gateway_method.console_preflight : m.http_method == "OPTIONS" && m.authorization == "NONE"]) && length(aws_api_gateway_method.console_preflight) == 11
    error_message = "CORS preflights reach the function without a token"
  }
  assert {
    condition     = alltrue([for i in aws_api_gateway_integration.console : i.type == "AWS_PROXY" && i.uri == module.segment_api.invoke_arn])
    error_message = "the console routes are the segment_api function's"
  }
  assert {
    condition     = aws_api_gateway_resource.console_child["upload"].path_part == "{upload_id}" && aws_api_gateway_resource.console_child["run"].path_part == "{run_id}" && aws_api_gateway_resource.console_child["model"].path_part == "{model_version}"
    error_message = "path parameters as the OpenAPI spec names them"
  }
}

run "campaign_routes" {
  command = apply

  assert {
    condition     = aws_api_gateway_resource.console_top["campaigns"].path_part == "campaigns" && aws_api_gateway_resource.console_child["campaign"].path_part == "{campaign_id}" && aws_api_gateway_resource.console_child["campaign"].parent_id == aws_api_gateway_resource.console_top["campaigns"].id
    error_message = "/campaigns and /campaigns/{campaign_id}, the path parameter as the OpenAPI spec names it"
  }
  assert {
    condition     = aws_api_gateway_resource.console_grandchild["campaign_uplift"].path_part == "uplift" && aws_api_gateway_resource.console_grandchild["campaign_uplift"].parent_id == aws_api_gateway_resource.console_child["campaign"].id
    error_message = "/campaigns/{campaign_id}/uplift below the campaign"
  }
  assert {
    condition     = alltrue([for k in ["campaigns", "campaign", "campaign_uplift"] : aws_api_gateway_method.console[k].authorization == "COGNITO_USER_POOLS" && aws_api_gateway_method.console[k].authorizer_id == aws_api_gateway_authorizer.analysts[0].id && aws_api_gateway_method.console[k].http_method == "ANY"])
    error_message = "defining and reading campaigns needs a signed-in analyst (every method: POST and GET)"
  }
  assert {
    condition     = aws_api_gateway_method.console["campaign"].request_parameters["method.request.path.campaign_id"] && aws_api_gateway_method.console["campaign_uplift"].request_parameters["method.request.path.campaign_id"]
    error_message = "the campaign id is a path parameter"
  }
  assert {
    condition     = aws_api_gateway_method.get["user_segment"].request_parameters["method.request.querystring.campaign"] == false && aws_api_gateway_method.console["lookup"].request_parameters["method.request.querystring.campaign"] == false
    error_message = "both lookups declare the optional ?campaign= (the arm)"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.console[0].policy).Statement : s.Resource if s.Sid == "ReadUpliftReports"][0] == ["arn:aws:s3:::seg-prod-segments/uplift/*"]
    error_message = "the uplift reports are read from the segments zone's uplift/ only"
  }
}

run "cors_and_permissions" {
  command = apply

  assert {
    condition     = local.console_env.SEG_CONSOLE_ORIGIN == var.console.origin && local.console_env.SEG_STATE_MACHINE_ARN == var.console.state_machine_arn
    error_message = "the function allows the console's origin only and starts this state machine"
  }
  assert {
    condition     = alltrue([for r in aws_api_gateway_gateway_response.console : r.response_parameters["gatewayresponse.header.Access-Control-Allow-Origin"] == "'https://d111111abcdef8.cloudfront.net'"]) && length(aws_api_gateway_gateway_response.console) == 2
    error_message = "the authorizer's 401/403 carry the console's origin, so the page can read them"
  }
  assert {
    condition     = contains(jsondecode(aws_iam_role_policy.console[0].policy).Statement[0].Resource, "arn:aws:s3:::seg-prod-landing/incoming/console/*") && jsondecode(aws_iam_role_policy.console[0].policy).Statement[0].Action == ["s3:PutObject"]
    error_message = "uploads are presigned into the console's landing prefix only"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.console[0].policy).Statement : s.Resource if s.Sid == "DescribeRuns"][0] == ["arn:aws:states:eu-west-1:123456789012:execution:seg-pipeline:*"]
    error_message = "describe/history on this state machine's executions only"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.console[0].policy).Statement : s.Resource if s.Sid == "StartAndListRuns"][0] == [var.console.state_machine_arn]
    error_message = "start/list on the pipeline only"
  }
}

run "no_console_no_console_routes" {
  command = apply

  variables {
    console = null
  }

  assert {
    condition     = length(aws_api_gateway_authorizer.analysts) == 0 && length(aws_api_gateway_method.console) == 0 && length(aws_iam_role_policy.console) == 0
    error_message = "without the console, the segment routes only"
  }
}
