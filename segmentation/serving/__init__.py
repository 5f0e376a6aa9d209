"""Serving: publish segments to DynamoDB and answer segment lookups (the API)."""
