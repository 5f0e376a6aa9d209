output "tracking_uri" {
  description = "MLflow tracking URI inside the VPC (SEG_MLFLOW_TRACKING_URI of the Spark jobs)."
  value       = "${local.scheme}://${aws_lb.mlflow.dns_name}"
}

output "repository_url" {
  description = "ECR repository of the mlflow_server image (docker push <url>:<image_tag>)."
  value       = aws_ecr_repository.mlflow.repository_url
}

output "cluster_name" {
  description = "ECS cluster of the tracking service."
  value       = aws_ecs_cluster.this.name
}

output "service_name" {
  description = "ECS service running MLflow."
  value       = aws_ecs_service.mlflow.name
}

output "db_secret_arn" {
  description = "Secrets Manager secret (managed by RDS) with the database credentials."
  value       = local.secret
}

output "load_balancer_security_group_id" {
  description = "Security group of the internal load balancer."
  value       = aws_security_group.alb.id
}
