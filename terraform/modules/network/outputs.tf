output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "cidr_block" {
  description = "CIDR of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "private_subnet_ids" {
  description = "Private subnets, one per availability zone."
  value       = aws_subnet.private[*].id
}

output "route_table_id" {
  description = "Route table of the private subnets (gateway endpoints attached)."
  value       = aws_route_table.private.id
}

output "gateway_prefix_list_ids" {
  description = "Prefix lists of the gateway endpoints, for security-group egress to S3/DynamoDB."
  value       = [for e in aws_vpc_endpoint.gateway : e.prefix_list_id]
}

output "endpoint_security_group_id" {
  description = "Security group of the interface endpoints."
  value       = aws_security_group.endpoints.id
}

output "workload_security_group_id" {
  description = "Security group every workload wears to reach the endpoints and gateways (443)."
  value       = aws_security_group.workloads.id
}

output "interface_endpoint_services" {
  description = "Services with an interface endpoint."
  value       = sort(keys(aws_vpc_endpoint.interface))
}

output "vpc" {
  description = "The object the other modules take as their `vpc` input."
  value = {
    id              = aws_vpc.this.id
    cidr_block      = aws_vpc.this.cidr_block
    subnet_ids      = aws_subnet.private[*].id
    prefix_list_ids = [for e in aws_vpc_endpoint.gateway : e.prefix_list_id]
    # Workloads wear these: HTTPS to the endpoints and gateways (their own rules come on top).
    security_group_ids = [aws_security_group.workloads.id]
  }
}
