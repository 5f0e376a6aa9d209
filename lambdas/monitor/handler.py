"""Lambda monitor: the state machine's Monitor task, after clustering and before publish.

Thin: finds the run's model version, reads what the steps wrote (the model document with its
comparison to the previous version, the clean step's quality report) and hands them to
:func:`segmentation.monitoring.monitor`, which sends the metrics, alerts on a crossed threshold
and decides whether publish flips the pointer (the drift gate).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from segmentation.monitoring import run_monitor

# The service name comes from POWERTOOLS_SERVICE_NAME, which Terraform sets.
logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(log_event=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = run_monitor(event)
    logger.info("monitored", extra={"crossed": result["crossed"], "flip": result["flip"]})
    return result
