"""The two doors events come in by, driven from this machine the way a producer and an uploader
use them: a file streamed through Kafka and drained by the poller into the ingest Lambda, and a
file uploaded to landing and handed to the batch ingest Lambda as its S3 notification would be.

The demo, the benches and the tests go through these functions, so all of them ingest as a
deployment does, and a change to how a door is driven is made once.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any


def split_events(dataset: Path, stream_days: int, window_end: Any, work: Path) -> dict[str, Any]:
    """The generator's events split by time: the last ``stream_days`` before ``window_end`` to
    stream (``stream.parquet``), the rest as the history CSV a user would upload."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    events = pq.read_table(dataset / "events.parquet").to_pandas()
    ts = pd.to_datetime(events["timestamp"], utc=True, errors="coerce", format="ISO8601")
    cutoff = pd.Timestamp(window_end - timedelta(days=stream_days))
    recent = (ts >= cutoff) & (ts < pd.Timestamp(window_end))
    stream_path = work / "stream.parquet"
    history_path = work / "history.csv"
    pq.write_table(pa.Table.from_pandas(events[recent], preserve_index=False), stream_path)
    events[~recent].to_csv(history_path, index=False)
    return {
        "stream_file": stream_path,
        "history_file": history_path,
        "streamed": int(recent.sum()),
        "history_rows": int((~recent).sum()),
    }


def stream_file(settings: Any, path: Path, progress: bool = False) -> tuple[Any, Any]:
    """Produce every event of ``path`` to the topic, then poll until the ingest Lambda has had
    them all (the poller stops at the count produced, or after 10 idle seconds); returns the
    producer's and the poller's figures."""
    from segmentation.ingest.producer import produce_file
    from segmentation_local.lambdas import load_handler
    from segmentation_local.poller import Poller, PollerConfig

    produced = produce_file(
        Path(path), settings.kafka_bootstrap, settings.kafka_topic, progress=progress
    )
    poll = Poller(
        PollerConfig(
            settings.kafka_bootstrap,
            settings.kafka_topic,
            settings.kafka_consumer_group,
            batch_size=settings.ingest_batch_size,
            idle_timeout=10,
            max_records=produced.sent,
        ),
        load_handler("ingest"),
        function_name="ingest",
    ).run()
    return produced, poll


def land_file(settings: Any, path: Path, key: str) -> dict[str, Any]:
    """Upload ``path`` to the landing zone at ``key``, run the batch ingest Lambda on its
    notification, and return the report it wrote beside the file (the one the Lambda names: a
    file that could not be parsed has it under ``failed/``, not ``processed/``)."""
    from segmentation.awsclients import client
    from segmentation.ingest.lakewrite import split_s3_uri
    from segmentation_local.lambda_context import LocalContext
    from segmentation_local.lambdas import load_handler

    s3 = client("s3", settings)
    landing = settings.bucket("landing")
    s3.upload_file(str(path), landing, key)
    event = {"Records": [{"s3": {"bucket": {"name": landing}, "object": {"key": key}}}]}
    (answer,) = load_handler("batch_ingest")(event, LocalContext("batch_ingest"))["files"]
    bucket, report_key = split_s3_uri(answer["report"])
    return json.loads(s3.get_object(Bucket=bucket, Key=report_key)["Body"].read())
