# The one mocked AWS of every module's `terraform test` (mock_provider "aws" { source = ... }):
# computed attributes the modules read back, with stable, realistic values. A test that needs
# another value overrides it inline (override_resource / a mock_resource inside its block).

mock_data "aws_caller_identity" {
  defaults = { account_id = "123456789012", arn = "arn:aws:iam::123456789012:user/deployer" }
}
mock_data "aws_region" {
  defaults = { name = "eu-west-1" }
}
mock_data "aws_partition" {
  defaults = { partition = "aws" }
}
mock_data "aws_iam_session_context" {
  defaults = { issuer_arn = "arn:aws:iam::123456789012:user/deployer" }
}
mock_data "aws_subnet" {
  defaults = { availability_zone = "eu-west-1a" }
}
mock_data "aws_availability_zones" {
  defaults = { names = ["eu-west-1a", "eu-west-1b", "eu-west-1c"] }
}

mock_resource "aws_s3_bucket" {
  defaults = { arn = "arn:aws:s3:::seg-mock-bucket" }
}
mock_resource "aws_kms_key" {
  defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/mock" }
}
mock_resource "aws_iam_role" {
  defaults = { arn = "arn:aws:iam::123456789012:role/mock" }
}
mock_resource "aws_cloudwatch_log_group" {
  defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:mock" }
}
mock_resource "aws_vpc" {
  defaults = { id = "vpc-1" }
}
mock_resource "aws_lambda_function" {
  defaults = {
    arn        = "arn:aws:lambda:eu-west-1:123456789012:function:seg-fn"
    invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:seg-fn/invocations"
  }
}
mock_resource "aws_lambda_layer_version" {
  defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:layer:seg-dependencies:1" }
}
mock_resource "aws_sqs_queue" {
  defaults = { arn = "arn:aws:sqs:eu-west-1:123456789012:seg-ingest-failures" }
}
mock_resource "aws_sns_topic" {
  defaults = { arn = "arn:aws:sns:eu-west-1:123456789012:seg-alerts" }
}
mock_resource "aws_dynamodb_table" {
  defaults = { arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/seg-segments" }
}
mock_resource "aws_api_gateway_rest_api" {
  defaults = { execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:abc123" }
}
mock_resource "aws_sfn_state_machine" {
  defaults = { arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:seg-pipeline" }
}
mock_resource "aws_msk_serverless_cluster" {
  defaults = { arn = "arn:aws:kafka:eu-west-1:123456789012:cluster/seg-events/uuid-1", bootstrap_brokers_sasl_iam = "boot-1.kafka-serverless.eu-west-1.amazonaws.com:9098" }
}
mock_resource "aws_msk_cluster" {
  defaults = { arn = "arn:aws:kafka:eu-west-1:123456789012:cluster/seg-events/uuid-2", bootstrap_brokers_sasl_iam = "b-1.seg-events.kafka.eu-west-1.amazonaws.com:9098" }
}

# MLflow on ECS/ALB/RDS (tracking)
mock_resource "aws_db_instance" {
  defaults = {
    address            = "seg-mlflow.abc.eu-west-1.rds.amazonaws.com"
    port               = 5432
    db_name            = "mlflow"
    master_user_secret = [{ secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1", kms_key_id = "k", secret_status = "active" }]
  }
}
mock_resource "aws_lb" {
  defaults = { arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/seg-mlflow/1", dns_name = "internal-seg-mlflow-1.eu-west-1.elb.amazonaws.com" }
}
mock_resource "aws_lb_target_group" {
  defaults = { arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/seg-mlflow/1" }
}
mock_resource "aws_ecr_repository" {
  defaults = { arn = "arn:aws:ecr:eu-west-1:123456789012:repository/seg-mlflow", repository_url = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/seg-mlflow" }
}
mock_resource "aws_ecs_task_definition" {
  defaults = { arn = "arn:aws:ecs:eu-west-1:123456789012:task-definition/seg-mlflow:1" }
}
mock_resource "aws_cognito_user_pool" {
  defaults = {
    arn = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_mock"
    id  = "eu-west-1_mock"
  }
}
mock_resource "aws_cloudfront_distribution" {
  defaults = {
    arn         = "arn:aws:cloudfront::123456789012:distribution/EMOCK"
    domain_name = "d111111abcdef8.cloudfront.net"
  }
}
