mock_provider "aws" {
  source = "../../tests/mocks/aws"
}

variables {
  function_name = "seg-ingest"
  role_arn      = "arn:aws:iam::123456789012:role/seg-ingest"
  role_name     = "seg-ingest"
  package       = { path = "build/lambda/ingest.zip", hash = "c2hhMjU2" }
  kms_key_arn   = "arn:aws:kms:eu-west-1:123456789012:key/k"
  environment   = { SEG_LAKE_PREFIX = "seg" }
}

run "function_defaults" {
  command = apply

  assert {
    condition     = aws_lambda_function.this.runtime == "python3.11" && aws_lambda_function.this.handler == "handler.handler"
    error_message = "Python 3.11 and handler.handler(event, context)"
  }
  assert {
    condition     = aws_lambda_function.this.source_code_hash == "c2hhMjU2" && aws_lambda_function.this.filename == "build/lambda/ingest.zip"
    error_message = "code by path + hash from make package"
  }
  assert {
    condition     = one(aws_lambda_function.this.tracing_config).mode == "Active" && aws_lambda_function.this.kms_key_arn == var.kms_key_arn
    error_message = "X-Ray on, environment encrypted with the lake key"
  }
  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/aws/lambda/seg-ingest" && aws_cloudwatch_log_group.this.kms_key_id == var.kms_key_arn
    error_message = "own encrypted log group"
  }
  assert {
    condition     = length(aws_lambda_function.this.vpc_config) == 0 && !strcontains(aws_iam_role_policy.runtime.policy, "ec2:CreateNetworkInterface")
    error_message = "no VPC, no ENI permissions without subnets"
  }
  assert {
    condition     = one(aws_lambda_function.this.environment).variables["SEG_LAKE_PREFIX"] == "seg"
    error_message = "environment passed through"
  }
}

run "in_vpc_with_dead_letters" {
  command = apply
  variables {
    subnet_ids            = ["subnet-a", "subnet-b"]
    security_group_ids    = ["sg-1"]
    dead_letter_queue_arn = "arn:aws:sqs:eu-west-1:123456789012:dlq"
  }

  assert {
    condition     = one(aws_lambda_function.this.vpc_config).subnet_ids == toset(["subnet-a", "subnet-b"])
    error_message = "runs in the given subnets"
  }
  assert {
    condition     = one(aws_lambda_function.this.dead_letter_config).target_arn == var.dead_letter_queue_arn
    error_message = "DLQ wired"
  }
  assert {
    condition     = contains(flatten([for s in jsondecode(aws_iam_role_policy.runtime.policy).Statement : s.Action if s.Sid == "DeadLetters"]), "sqs:SendMessage")
    error_message = "the role may send to the DLQ"
  }
}

run "missing_package_fails_plan" {
  command = plan
  variables {
    package = { path = "build/lambda/nothing.zip", hash = null }
  }
  expect_failures = [aws_lambda_function.this]
}

run "own_role_holds_only_the_runtime_permissions" {
  command = apply
  variables {
    role_arn    = null
    role_name   = null
    create_role = true
  }

  assert {
    condition     = aws_lambda_function.this.role == aws_iam_role.own[0].arn && aws_iam_role_policy.runtime.role == aws_iam_role.own[0].name && output.role_arn == aws_iam_role.own[0].arn
    error_message = "the function runs as its own role, which carries the runtime policy"
  }
  assert {
    condition     = jsondecode(aws_iam_role.own[0].assume_role_policy).Statement[0].Principal.Service == "lambda.amazonaws.com"
    error_message = "only Lambda assumes it"
  }
  assert {
    condition     = toset([for s in jsondecode(aws_iam_role_policy.runtime.policy).Statement : s.Sid]) == toset(["WriteOwnLogs", "Tracing", "DecryptEnvironment"])
    error_message = "logs, X-Ray and its own encrypted environment, nothing else"
  }
}

run "a_role_or_create_role" {
  command = plan
  variables {
    create_role = true
  }
  expect_failures = [aws_lambda_function.this]
}
