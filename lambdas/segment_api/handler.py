"""Lambda segment_api: API Gateway (REST proxy) -> the segment API routes.

Thin: routing, validation and lookups live in :mod:`segmentation.serving.api`. The event is not
logged (it holds the raw user id in its path).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from segmentation.serving.api import resolve

logger = Logger(service="segmentation-api")


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return resolve(event, context)
