# The private network: a VPC with private subnets over 2+ AZs and no internet route. AWS APIs are
# reached through VPC endpoints (S3/DynamoDB gateways, interface endpoints for the rest), so Glue,
# EMR Serverless, Lambda and ECS tasks need no NAT gateway for them.

data "aws_region" "current" {}

resource "aws_vpc" "this" {
  cidr_block           = var.cidr_block
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = "${var.name_prefix}-vpc" }
}

# Nothing may use the default security group.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
}

resource "aws_subnet" "private" {
  count                   = length(var.availability_zones)
  vpc_id                  = aws_vpc.this.id
  availability_zone       = var.availability_zones[count.index]
  cidr_block              = cidrsubnet(var.cidr_block, var.subnet_newbits, count.index)
  map_public_ip_on_launch = false
  tags                    = { Name = "${var.name_prefix}-private-${var.availability_zones[count.index]}", Tier = "private" }
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name_prefix}-private" }
}

resource "aws_route_table_association" "private" {
  count          = length(aws_subnet.private)
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

resource "aws_vpc_endpoint" "gateway" {
  for_each          = toset(var.gateway_endpoints)
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.${each.value}"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private.id]
  tags              = { Name = "${var.name_prefix}-${each.value}" }
}

resource "aws_security_group" "endpoints" {
  name        = "${var.name_prefix}-vpc-endpoints"
  description = "Interface endpoints: HTTPS from inside the VPC only"
  vpc_id      = aws_vpc.this.id
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_https" {
  security_group_id = aws_security_group.endpoints.id
  description       = "HTTPS from the VPC"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = aws_vpc.this.cidr_block
}

# The one security group every workload (functions, Spark jobs, MLflow tasks) wears to reach AWS
# APIs: HTTPS to the interface endpoints (inside the VPC) and to the gateway prefix lists. The
# workload modules add only what is their own (MSK, Spark workers, the database).
resource "aws_security_group" "workloads" {
  #checkov:skip=CKV2_AWS_5:Attached by the workload modules (streaming, processing, serving, tracking) through vpc.security_group_ids.
  name        = "${var.name_prefix}-workloads"
  description = "Workloads: out to the VPC endpoints and the S3/DynamoDB gateways (443) only"
  vpc_id      = aws_vpc.this.id
}

locals {
  # Where workloads may go, all on 443: the interface endpoints inside the VPC, and each gateway
  # endpoint's prefix list.
  workload_destinations = merge(
    { endpoints = { description = "AWS APIs through interface endpoints (and internal load balancers)", cidr_ipv4 = aws_vpc.this.cidr_block, prefix_list_id = null } },
    { for k, e in aws_vpc_endpoint.gateway : k => { description = "${upper(k)} through its gateway endpoint", cidr_ipv4 = null, prefix_list_id = e.prefix_list_id } },
  )
}

resource "aws_vpc_security_group_egress_rule" "workloads_https" {
  for_each          = local.workload_destinations
  security_group_id = aws_security_group.workloads.id
  description       = each.value.description
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value.cidr_ipv4
  prefix_list_id    = each.value.prefix_list_id
}

resource "aws_vpc_endpoint" "interface" {
  for_each            = toset(var.interface_endpoints)
  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${data.aws_region.current.name}.${each.value}"
  vpc_endpoint_type   = "Interface"
  private_dns_enabled = true
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoints.id]
  tags                = { Name = "${var.name_prefix}-${each.value}" }
}

# Flow logs: who talked to whom, for incident response.
resource "aws_cloudwatch_log_group" "flow" {
  name              = "/aws/vpc/${var.name_prefix}-flow"
  retention_in_days = var.flow_log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_iam_role" "flow" {
  name = "${var.name_prefix}-vpc-flow-logs"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "vpc-flow-logs.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "flow" {
  name = "write-flow-logs"
  role = aws_iam_role.flow.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
      Resource = ["${aws_cloudwatch_log_group.flow.arn}:*"]
    }]
  })
}

resource "aws_flow_log" "this" {
  vpc_id          = aws_vpc.this.id
  traffic_type    = "ALL"
  log_destination = aws_cloudwatch_log_group.flow.arn
  iam_role_arn    = aws_iam_role.flow.arn
}
