"""Lambda publish: the Step Functions task that loads a model version into DynamoDB.

Thin by design: the event is ``{"model_version": ..., "lake_prefix": ..., "run_id": ...}``;
the work is :func:`segmentation.serving.publish.lambda_entry`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from segmentation.serving.publish import lambda_entry

# The service name comes from POWERTOOLS_SERVICE_NAME, which Terraform sets.
logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = lambda_entry(event, context)
    logger.info("published", extra={k: result[k] for k in ("model_version", "users", "segments")})
    return result
