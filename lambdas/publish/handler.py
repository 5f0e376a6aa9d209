"""Lambda publish: the Step Functions task that loads a model version into DynamoDB.

Thin by design: the event is ``{"model_version": ..., "lake_prefix": ..., "run_id": ...}``;
the work is :func:`segmentation.serving.publish.lambda_entry`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from segmentation.serving.publish import lambda_entry

logger = Logger(service="segmentation-publish")


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = lambda_entry(event, context)
    logger.info("published", extra={k: result[k] for k in ("model_version", "users", "segments")})
    return result
