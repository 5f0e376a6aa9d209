"""Nothing identifying passes the ingest: no raw user id in any object written or any log line."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from ingest_helpers import make_events, object_text, read_objects, write_csv

from segmentation.awsclients import client
from segmentation_local.lambda_context import LocalContext
from segmentation_local.poller import Poller, PollerConfig

pytestmark = [pytest.mark.broker, pytest.mark.moto]


def test_no_raw_user_id_in_the_lake_or_the_logs(
    broker: str,
    topic: str,
    lake: Any,
    tmp_path: Path,
    ingest_module: Any,
    batch_module: Any,
    captured_logs: io.StringIO,
) -> None:
    events = make_events(400, seed=11, users=40)
    raw_ids = {e["user_id"] for e in events}
    # Records that are refused in ways that tend to echo the id back: a bad id, the id in another
    # field, the id in an error message, unparseable JSON that contains it, a non-object record.
    uid = events[0]["user_id"]
    tricky = [
        {**events[1], "user_id": events[1]["user_id"] + " extra"},
        {**events[2], "country": events[2]["user_id"]},
        {**events[3], "session_id": "x" * 200 + events[3]["user_id"]},
        {**events[4], "timestamp": "not a time", "content_id": events[4]["user_id"]},
        {**events[5], "user_id": events[5]["user_id"] * 30},  # too long
    ]
    raw_values = [json.dumps(e).encode() for e in events[6:] + tricky]
    raw_values += [
        b'{"user_id": "' + uid.encode() + b'", "timestamp": ',  # truncated JSON
        json.dumps([uid, "2026-08-01T00:00:00Z", "play"]).encode(),  # not an object
        json.dumps(uid).encode(),
    ]
    producer = Producer({"bootstrap.servers": broker})
    for value in raw_values:
        producer.produce(topic, key=uid.encode(), value=value)
    assert producer.flush(10) == 0
    stats = Poller(
        PollerConfig(
            broker,
            topic,
            f"g-{topic}",
            batch_size=100,
            batch_window=0.1,
            idle_timeout=4,
            max_records=len(raw_values),
        ),
        ingest_module.handler,
    ).run()
    assert stats.records == len(raw_values)

    # Batch ingest with rejected rows, including a row of the wrong width that holds the id.
    csv_path = write_csv(tmp_path / "hist.csv", events[:50])
    text = csv_path.read_text() + f"{uid},2026-08-01T00:00:00Z,play\n{uid}  x,bad,play,,,,,,,\n"
    s3 = client("s3", lake)
    landing = lake.bucket("landing")
    s3.put_object(Bucket=landing, Key="hist.csv", Body=text.encode())
    batch_module.handler(
        {"Records": [{"s3": {"bucket": {"name": landing}, "object": {"key": "hist.csv"}}}]},
        LocalContext("batch_ingest"),
    )

    written = {}
    for zone in ("hot", "raw", "quarantine"):
        objects = read_objects(lake, zone)
        assert objects, f"nothing written to {zone}: the scan would prove nothing"
        written.update({f"{zone}/{k}": object_text(k, v) for k, v in objects.items()})
    report_key = "processed/hist.csv.report.json"
    written["report"] = s3.get_object(Bucket=landing, Key=report_key)["Body"].read().decode()
    logs = captured_logs.getvalue()
    assert "batch ingested" in logs and "landing file ingested" in logs

    for raw in sorted(raw_ids):
        for name, text in written.items():
            assert raw not in text, f"raw user id found in {name}"
        assert raw not in logs, "raw user id found in the logs"
