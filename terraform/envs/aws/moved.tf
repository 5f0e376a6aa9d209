# State written before the modules were composed in modules/deployment: `terraform apply` moves
# it instead of replacing every resource. Keep until every deployment has applied once.
moved {
  from = module.lake
  to   = module.deployment.module.lake
}
moved {
  from = aws_lambda_layer_version.dependencies
  to   = module.deployment.aws_lambda_layer_version.dependencies[0]
}
moved {
  from = module.streaming
  to   = module.deployment.module.streaming
}
moved {
  from = module.processing
  to   = module.deployment.module.processing
}
moved {
  from = module.tracking
  to   = module.deployment.module.tracking[0]
}
moved {
  from = module.serving
  to   = module.deployment.module.serving
}
moved {
  from = module.orchestration
  to   = module.deployment.module.orchestration
}
moved {
  from = module.monitoring
  to   = module.deployment.module.monitoring
}
