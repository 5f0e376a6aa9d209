mock_provider "aws" {
  source = "../../tests/mocks/aws"
}

variables {
  name_prefix        = "seg"
  availability_zones = ["eu-west-1a", "eu-west-1b"]
  kms_key_arn        = "arn:aws:kms:eu-west-1:123456789012:key/k"
}

run "private_subnets_over_two_azs" {
  command = apply

  assert {
    condition     = toset([for s in aws_subnet.private : s.availability_zone]) == toset(["eu-west-1a", "eu-west-1b"])
    error_message = "one private subnet per AZ"
  }
  assert {
    condition     = alltrue([for s in aws_subnet.private : !s.map_public_ip_on_launch])
    error_message = "no public IPs"
  }
  assert {
    condition     = length(distinct([for s in aws_subnet.private : s.cidr_block])) == 2
    error_message = "non-overlapping subnets"
  }
}

run "endpoints_replace_nat" {
  command = apply

  assert {
    condition     = aws_vpc_endpoint.gateway["s3"].vpc_endpoint_type == "Gateway" && aws_vpc_endpoint.gateway["s3"].service_name == "com.amazonaws.eu-west-1.s3"
    error_message = "S3 gateway endpoint"
  }
  assert {
    condition     = alltrue([for svc in ["sts", "secretsmanager", "glue", "logs"] : contains(keys(aws_vpc_endpoint.interface), svc)])
    error_message = "STS, Secrets Manager, Glue and Logs interface endpoints"
  }
  assert {
    condition     = alltrue([for e in aws_vpc_endpoint.interface : e.private_dns_enabled && e.vpc_endpoint_type == "Interface"])
    error_message = "interface endpoints with private DNS, so SDK default endpoints resolve to them"
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.endpoints_https.from_port == 443 && aws_vpc_security_group_ingress_rule.endpoints_https.cidr_ipv4 == "10.40.0.0/16"
    error_message = "endpoints reachable on 443 from the VPC only"
  }
  assert {
    condition     = length(aws_default_security_group.this.ingress) == 0 && length(aws_default_security_group.this.egress) == 0
    error_message = "the default security group allows nothing"
  }
  assert {
    condition     = aws_flow_log.this.traffic_type == "ALL"
    error_message = "flow logs on"
  }
}

run "workloads_reach_only_the_endpoints" {
  command = apply

  assert {
    condition     = toset(keys(aws_vpc_security_group_egress_rule.workloads_https)) == toset(["endpoints", "s3", "dynamodb"]) && alltrue([for r in aws_vpc_security_group_egress_rule.workloads_https : r.ip_protocol == "tcp" && r.from_port == 443 && r.to_port == 443])
    error_message = "workloads go out on 443 only: to the interface endpoints and the two gateways"
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.workloads_https["endpoints"].cidr_ipv4 == "10.40.0.0/16" && aws_vpc_security_group_egress_rule.workloads_https["endpoints"].prefix_list_id == null
    error_message = "the interface endpoints inside the VPC"
  }
  assert {
    condition     = alltrue([for k in ["s3", "dynamodb"] : aws_vpc_security_group_egress_rule.workloads_https[k].prefix_list_id == aws_vpc_endpoint.gateway[k].prefix_list_id && aws_vpc_security_group_egress_rule.workloads_https[k].cidr_ipv4 == null])
    error_message = "each gateway's prefix list"
  }
  assert {
    condition     = output.vpc.security_group_ids == [aws_security_group.workloads.id] && output.workload_security_group_id == aws_security_group.workloads.id
    error_message = "the vpc object the workload modules take carries the group"
  }
}

run "needs_two_azs" {
  command = plan
  variables {
    availability_zones = ["eu-west-1a"]
  }
  expect_failures = [var.availability_zones]
}
