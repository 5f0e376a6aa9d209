"""Lambda validate_input: the state machine's check of its execution input against the model.

JSONPath ASL cannot list an object's keys, so its Choice states can test the known fields but
not refuse an unknown one (``min_sample`` would run with the default ``min_samples``). This Task
runs :func:`segmentation.pipeline.params.validate_execution_input` on the merged parameters
before any Glue job starts; an ``InvalidInput`` error names the field, and the definition's
Catch sends it down the failure path (notify, then fail).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from segmentation.pipeline.params import InvalidInput, validate_execution_input

# The service name comes from POWERTOOLS_SERVICE_NAME, which Terraform sets.
logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(log_event=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        params = validate_execution_input(event)
    except InvalidInput as exc:
        logger.warning("refused", extra={"reason": str(exc)})
        raise  # the error name Step Functions sees is the class name: InvalidInput
    return {"valid": True, "fields": sorted(params.model_fields_set)}
