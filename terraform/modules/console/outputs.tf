output "url" {
  description = "The console's address (HTTPS, CloudFront); null without the distribution."
  value       = var.cloudfront ? "https://${aws_cloudfront_distribution.site[0].domain_name}" : null
}

output "origin" {
  description = "The console's origin, the only one the API's CORS allows (SEG_CONSOLE_ORIGIN)."
  value       = var.cloudfront ? "https://${aws_cloudfront_distribution.site[0].domain_name}" : null
}

output "bucket" {
  description = "The bucket holding the site's files."
  value       = aws_s3_bucket.site.bucket
}

output "distribution_id" {
  description = "CloudFront distribution id (for invalidations after a new upload)."
  value       = var.cloudfront ? aws_cloudfront_distribution.site[0].id : null
}

output "user_pool_id" {
  description = "The analysts' Cognito user pool."
  value       = aws_cognito_user_pool.analysts.id
}

output "user_pool_arn" {
  description = "ARN of the pool, for the API's Cognito authorizer."
  value       = aws_cognito_user_pool.analysts.arn
}

output "client_id" {
  description = "The console's app client (the ID token's audience)."
  value       = aws_cognito_user_pool_client.console.id
}
