"""Lambda segment_api: API Gateway (REST proxy) -> the segment API routes.

Thin: routing, validation and lookups live in :mod:`segmentation.serving.api`. The event is not
logged (it holds the raw user id in its path), nor traced as a response (``capture_response``
off: a lookup's answer names the user's segment, and X-Ray is no place for it).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from segmentation.serving.api import resolve

# The service name comes from POWERTOOLS_SERVICE_NAME, which Terraform sets.
logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(event, context)
