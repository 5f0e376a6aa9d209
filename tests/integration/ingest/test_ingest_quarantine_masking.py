"""No raw user id in the Kafka quarantine, whatever shape the bad record has: a ``user_id``
that is a list, an object or missing, with the raw id also in other fields, the record key (which
producers set to the user id) carrying it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ingest_helpers import read_objects

from segmentation.awsclients import client
from segmentation.ingest.kafka import build_event
from segmentation_local.lambda_context import LocalContext

pytestmark = pytest.mark.moto

RAW = "u-secret-0042"
SHAPES = [
    {"user_id": [RAW], "content_id": RAW, "session_id": f"s-{RAW}"},
    {"user_id": {"id": RAW}, "content_id": f"{RAW}/x", "event_type": "play"},
    {"content_id": RAW, "session_id": RAW, "timestamp": "2026-08-01T00:00:00Z"},  # no user_id
    {"user_id": None, "event_id": RAW, "device": f"tv {RAW}"},
    {"user_id": RAW, "event_type": f"{RAW} teleport", "timestamp": "bad"},
]


@pytest.mark.parametrize("record", SHAPES, ids=range(len(SHAPES)))
def test_the_quarantine_masks_every_raw_id_the_record_carries(
    lake: Any, ingest_module: Any, record: dict[str, Any]
) -> None:
    event = build_event(
        [("raw-events", 0, 7, None, RAW.encode(), json.dumps(record).encode())], bootstrap="b"
    )
    summary = ingest_module.handler(event, LocalContext("ingest"))
    assert summary["quarantined"] == 1
    s3 = client("s3", lake)
    (key,) = read_objects(lake, "quarantine")
    text = s3.get_object(Bucket=lake.bucket("quarantine"), Key=key)["Body"].read().decode()
    assert RAW not in text, text
    entry = json.loads(text)
    assert entry["key_anon"] and entry["offset"] == 7


def test_a_non_json_value_keeps_no_text_of_it(lake: Any, ingest_module: Any) -> None:
    event = build_event(
        [("raw-events", 0, 1, None, RAW.encode(), f"user={RAW} not json".encode())], bootstrap="b"
    )
    assert ingest_module.handler(event, LocalContext("ingest"))["quarantined"] == 1
    (key,) = read_objects(lake, "quarantine")
    body = client("s3", lake).get_object(Bucket=lake.bucket("quarantine"), Key=key)["Body"]
    assert RAW not in body.read().decode()


def test_a_field_given_twice_is_refused_and_both_ids_are_masked(
    lake: Any, ingest_module: Any
) -> None:
    """``{"user_id": A, ..., "user_id": B}``: a parser keeps B silently and the event would be
    B's; it is quarantined instead, and neither id (A sits in another field too) is kept."""
    other = "u-other-0077"
    head = '"timestamp": "2026-08-01T00:00:00Z", "event_type": "play"'
    value = f'{{"user_id": "{RAW}", {head}, "session_id": "{RAW}", "user_id": "{other}"}}'
    fine = f'{{"user_id": "u-1", {head}, "content_id": "\\"user_id\\""}}'.encode()
    event = build_event(
        [("raw-events", 0, 3, None, None, value.encode()), ("raw-events", 0, 4, None, None, fine)],
        bootstrap="b",
    )
    summary = ingest_module.handler(event, LocalContext("ingest"))
    assert summary["quarantined"] == 1 and summary["valid"] == 1  # a name inside a value is fine
    (key,) = [k for k in read_objects(lake, "quarantine")]
    text = client("s3", lake).get_object(Bucket=lake.bucket("quarantine"), Key=key)["Body"].read()
    entry = json.loads(text)
    assert entry["reason"] == "duplicate_key" and "user_id" in entry["detail"]
    assert RAW not in text.decode() and other not in text.decode()
