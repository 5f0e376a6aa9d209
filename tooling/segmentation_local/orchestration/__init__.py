"""Orchestration: the pipeline's one ASL definition and a local interpreter that follows it."""
