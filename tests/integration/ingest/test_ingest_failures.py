"""A write failure fails the invocation (so it is retried) and loses nothing; bad records do not."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from ingest_helpers import make_events, read_events, read_objects

from segmentation.awsclients import client
from segmentation.ingest.kafka import build_event
from segmentation_local.lambda_context import LocalContext

pytestmark = pytest.mark.moto


def test_s3_failure_fails_the_kafka_batch_and_the_retry_lands_it(
    lake: Any, ingest_module: Any
) -> None:
    events = make_events(50, seed=31)
    event = build_event(
        [("raw-events", 0, i, None, None, json.dumps(e).encode()) for i, e in enumerate(events)],
        bootstrap="b",
    )
    s3 = client("s3", lake)
    s3.delete_bucket(Bucket=lake.bucket("hot"))
    with pytest.raises(ClientError, match="NoSuchBucket"):
        ingest_module.handler(event, LocalContext("ingest"))
    s3.create_bucket(Bucket=lake.bucket("hot"))
    assert ingest_module.handler(event, LocalContext("ingest"))["valid"] == 50
    assert len(read_events(lake, "hot")) == 50


def test_s3_failure_leaves_the_landing_object_in_place(lake: Any, batch_module: Any) -> None:
    s3 = client("s3", lake)
    landing = lake.bucket("landing")
    s3.put_object(
        Bucket=landing,
        Key="incoming/a.csv",
        Body=b"user_id,timestamp,event_type,amount\nusr-1,2026-08-01T00:00:00Z,play,\n",
    )
    s3.delete_bucket(Bucket=lake.bucket("raw"))
    event = {
        "Records": [{"s3": {"bucket": {"name": landing}, "object": {"key": "incoming/a.csv"}}}]
    }
    with pytest.raises(ClientError, match="NoSuchBucket"):
        batch_module.handler(event, LocalContext("batch_ingest"))
    assert set(read_objects(lake, "landing")) == {"incoming/a.csv"}  # not moved, not lost
    s3.create_bucket(Bucket=lake.bucket("raw"))
    assert batch_module.handler(event, LocalContext("b"))["files"][0]["status"] == "processed"
    assert len(read_events(lake, "raw")) == 1
