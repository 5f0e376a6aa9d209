output "table_name" {
  description = "The ledger table (SEG_LEDGER_TABLE)."
  value       = aws_dynamodb_table.ledger.name
}

output "table_arn" {
  description = "ARN of the ledger table, for the lake's stage_access (`ledger = true`)."
  value       = aws_dynamodb_table.ledger.arn
}
