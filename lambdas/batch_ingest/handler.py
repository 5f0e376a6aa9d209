"""Lambda ``batch_ingest``: S3 ObjectCreated on the landing bucket -> raw zone + per-file report.

Thin on purpose: the work is :func:`segmentation.ingest.batch.ingest_landing_object`. A file that
cannot be read is moved to ``failed/`` with a report (not retried); an S3 failure raises, so the
asynchronous invocation is retried with the landing object still in place.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from segmentation.anonymise import load_anonymiser
from segmentation.awsclients import client
from segmentation.config import get_settings
from segmentation.ingest.batch import ingest_landing_object, should_ingest

# Service name and metrics namespace come from POWERTOOLS_SERVICE_NAME /
# POWERTOOLS_METRICS_NAMESPACE, which Terraform sets (and the local loader, the same way).
logger = Logger()
metrics = Metrics()
tracer = Tracer()


@logger.inject_lambda_context(clear_state=True, log_event=False)  # events carry raw ids
@metrics.log_metrics
@tracer.capture_lambda_handler
@event_source(data_class=S3Event)
def handler(event: S3Event, context: LambdaContext) -> dict[str, Any]:
    settings = get_settings()
    s3 = client("s3", settings)
    anonymiser = load_anonymiser(settings)
    results = []
    for record in event.records:
        bucket = record.s3.bucket.name
        key = unquote_plus(record.s3.get_object.key)  # S3 events URL-encode keys
        if not should_ingest(key):
            logger.info("skipped: not a landing file", extra={"key": key})
            continue
        report = ingest_landing_object(bucket, key, anonymiser=anonymiser, s3=s3, settings=settings)
        metrics.add_metric("RowsIn", MetricUnit.Count, report.rows_total)
        metrics.add_metric("RowsValid", MetricUnit.Count, report.rows_ok)
        metrics.add_metric("RowsRejected", MetricUnit.Count, report.rows_rejected)
        metrics.add_metric("FilesFailed", MetricUnit.Count, int(report.status == "failed"))
        logger.info(
            "landing file ingested",
            extra={
                "landing": report.landing,
                "status": report.status,
                "rows_total": report.rows_total,
                "rows_ok": report.rows_ok,
                "rows_rejected": report.rows_rejected,
                "chunks": report.chunks,
                "report": report.report,
                "error": report.error,
            },
        )
        results.append(
            {"landing": report.landing, "status": report.status, "report": report.report}
        )
    return {"files": results}
