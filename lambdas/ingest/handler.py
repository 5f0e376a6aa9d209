"""Lambda ``ingest``: MSK event source mapping -> hot zone (Parquet) + quarantine.

Thin on purpose: the work is :func:`segmentation.ingest.stream.ingest_kafka_event`. This module
wires Powertools (structured logs without ids, EMF metrics, X-Ray) and lets a write failure raise
so the event source mapping retries the batch; bad records never raise.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from segmentation.anonymise import load_anonymiser
from segmentation.awsclients import cached_client
from segmentation.config import get_settings
from segmentation.ingest.stream import ingest_kafka_event

# Service name and metrics namespace come from POWERTOOLS_SERVICE_NAME /
# POWERTOOLS_METRICS_NAMESPACE, which Terraform sets (and the local loader, the same way).
logger = Logger()
metrics = Metrics()
tracer = Tracer()


@logger.inject_lambda_context(clear_state=True, log_event=False)  # events carry raw ids
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = time.perf_counter()
    settings = get_settings()
    summary = ingest_kafka_event(
        event,
        anonymiser=load_anonymiser(settings),
        s3=cached_client("s3", settings),
        settings=settings,
    )
    elapsed_ms = (time.perf_counter() - started) * 1000
    metrics.add_metric("RecordsIn", MetricUnit.Count, summary.records_in)
    metrics.add_metric("RecordsValid", MetricUnit.Count, summary.valid)
    metrics.add_metric("RecordsQuarantined", MetricUnit.Count, summary.quarantined)
    metrics.add_metric("BatchLatency", MetricUnit.Milliseconds, elapsed_ms)
    if summary.oldest_record_ms is not None:
        lag = max(0.0, time.time() * 1000 - summary.oldest_record_ms)
        metrics.add_metric("RecordLag", MetricUnit.Milliseconds, lag)
    logger.info(
        "batch ingested",
        extra={
            "records_in": summary.records_in,
            "valid": summary.valid,
            "quarantined": summary.quarantined,
            "reasons": summary.reasons,
            "ranges": summary.ranges,
            "objects": len(summary.objects),
            "latency_ms": round(elapsed_ms, 1),
        },
    )
    return {
        "records_in": summary.records_in,
        "valid": summary.valid,
        "quarantined": summary.quarantined,
        "ranges": summary.ranges,
    }
