"""Every case of the bad-input corpus (``tests/bad_input_corpus.py``) through the real Lambda
handlers, with one accounting assertion for all.

For each landing file and each Kafka batch: rows in = ok + rejected, and the lake holds exactly
the ok rows; a file that cannot be read has all its rows rejected, none in the lake, and sits in
``failed/`` with a report that locates the fault; every refusal names its column; no raw id
reaches a lake object outside the landing input, a quarantine entry, a report, a handler result
or a log line; and the next good file (or batch) still ingests. One moto lake serves the module:
each case has its own landing key, Kafka offsets and raw id, so only the objects a case adds are
read back.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote_plus

import pytest
from bad_input_corpus import (
    INVALID_BASE64,
    FileCase,
    KafkaCase,
    csv_lines,
    event,
    file_cases,
    kafka_cases,
    raw_id,
)
from conftest import LAKE_ZONES
from ingest_helpers import object_text

from segmentation.ingest.kafka import build_event
from segmentation_local.lambda_context import LocalContext

pytestmark = pytest.mark.moto

FILES = file_cases()
BATCHES = kafka_cases()


@pytest.fixture(scope="module")
def corpus_lake(moto_server: str) -> Iterator[Any]:
    """The lake buckets and HMAC key on the session's moto server, shared by the module."""
    import requests

    from segmentation.anonymise import store_key
    from segmentation.awsclients import client
    from segmentation.config import get_settings

    requests.post(f"{moto_server}/moto-api/reset", timeout=10)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ENDPOINT_URL", moto_server)
        mp.setenv("SEG_AWS_ENDPOINT_URL", moto_server)
        mp.setenv("POWERTOOLS_METRICS_DISABLED", "true")
        get_settings.cache_clear()
        settings = get_settings()
        s3 = client("s3", settings)
        for zone in LAKE_ZONES:
            s3.create_bucket(Bucket=settings.bucket(zone))
        assert store_key(settings) == "created"
        yield settings
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _sdk_debug_lines_off() -> Iterator[None]:
    """``captured_logs`` lowers the root logger to DEBUG, where botocore and urllib3 format every
    request (it made this module three times slower). Their lines are the SDK's, carrying the
    objects this test reads back and scans itself; the project's loggers stay at DEBUG."""
    names = ("botocore", "boto3", "urllib3", "s3transfer")
    levels = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.INFO)
    yield
    for n, level in levels.items():
        logging.getLogger(n).setLevel(level)


class Lake:
    """The zones' objects, read back only where a case added them (keys are unique per case:
    landing key, Kafka partition and offsets), so the module's growing lake is listed, not
    re-read."""

    def __init__(self, settings: Any) -> None:
        from segmentation.awsclients import client

        self.settings, self.s3 = settings, client("s3", settings)
        self.seen = self._keys()
        self.in_case = False

    def start(self) -> None:
        """A case begins: what a case that failed midway left behind is not this one's."""
        if self.in_case:
            self.seen = self._keys()
        self.in_case = True

    def end(self) -> None:
        self.in_case = False

    def _keys(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for zone in LAKE_ZONES:
            bucket = self.settings.bucket(zone)
            pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            out[zone] = {o["Key"] for page in pages for o in page.get("Contents", [])}
        return out

    def read(self, zone: str, key: str) -> bytes:
        body = self.s3.get_object(Bucket=self.settings.bucket(zone), Key=key)["Body"]
        return body.read()

    def added(self) -> dict[str, dict[str, bytes]]:
        """Objects written since the last call, zone by zone; the landing input itself
        (processed/, failed/) is the producer's file, not an output: only reports are read."""
        after = self._keys()
        out: dict[str, dict[str, bytes]] = {}
        for zone in LAKE_ZONES:
            new = sorted(after[zone] - self.seen[zone])
            if zone == "landing":
                new = [k for k in new if k.endswith(".report.json")]
            out[zone] = {k: self.read(zone, k) for k in new}
        self.seen = after
        return out


@pytest.fixture(scope="module")
def lake(corpus_lake: Any) -> Lake:
    return Lake(corpus_lake)


def _rows(objects: dict[str, bytes]) -> int:
    import io

    import pyarrow.parquet as pq

    return sum(
        pq.read_metadata(io.BytesIO(b)).num_rows
        for k, b in objects.items()
        if k.endswith(".parquet")
    )


def _entries(objects: dict[str, bytes]) -> list[dict[str, Any]]:
    return [json.loads(line) for body in objects.values() for line in body.decode().splitlines()]


def _assert_no_raw_id(uid: str, added: dict[str, dict[str, bytes]], *texts: str) -> None:
    for zone, objects in added.items():
        for key, body in objects.items():
            assert uid not in object_text(key, body), f"raw id in {zone}/{key}"
    for text in texts:
        assert uid not in text, f"raw id in output: {text[:300]}"


def _ingest_file(batch_module: Any, settings: Any, key: str, body: bytes) -> dict[str, Any]:
    from segmentation.awsclients import client

    s3, landing = client("s3", settings), settings.bucket("landing")
    s3.put_object(Bucket=landing, Key=key, Body=body)
    event = {"Records": [{"s3": {"bucket": {"name": landing}, "object": {"key": quote_plus(key)}}}]}
    result = batch_module.handler(event, LocalContext("batch_ingest"))
    (one,) = result["files"]
    return {
        "result": result,
        "report": json.loads(
            s3.get_object(Bucket=landing, Key=one["report"].split("/", 3)[3])["Body"].read()
        ),
    }


@pytest.mark.parametrize("case", FILES, ids=[c.name for c in FILES])
def test_a_landing_file_is_accounted_for_and_leaks_nothing(
    case: FileCase,
    corpus_lake: Any,
    lake: Lake,
    batch_module: Any,
    captured_logs: Any,
    capfd: pytest.CaptureFixture[str],
) -> None:
    lake.start()
    out = _ingest_file(batch_module, corpus_lake, case.key, case.body)
    report = out["report"]
    added = lake.added()
    entries = _entries(added["quarantine"])

    assert report["rows_total"] == report["rows_ok"] + report["rows_rejected"], report
    assert _rows(added["raw"]) == report["rows_ok"] and not added["hot"]
    if case.fails:
        assert report["status"] == "failed", report
        assert report["rows_ok"] == 0 and not added["raw"] and not entries
        assert report["rows_total"] <= max(case.rows_in or 0, 10**6)
        assert all(w in report["error"] for w in case.where), (case.where, report["error"])
        moved = lake.seen["landing"]
        assert f"failed/{case.key}" in moved and case.key not in moved
    else:
        assert report["status"] == "processed", report["error"]
        assert report["rows_total"] == case.rows, report
        assert report["rows_rejected"] == case.rejected == len(entries), report["errors"]
        assert f"processed/{case.key}" in lake.seen["landing"]
        assert {e["column"] for e in report["errors"]} == case.columns, report["errors"]
        assert {e["line"] for e in entries} == {e["line"] for e in report["errors"]}
    logs = captured_logs.getvalue()
    std = capfd.readouterr()
    _assert_no_raw_id(case.raw_id, added, json.dumps(out["result"]), logs, std.out, std.err)

    good_key = f"incoming/corpus/good-after-{case.name}.csv"
    good = "\n".join(csv_lines(raw_id(f"good-{case.name}"), 5)).encode()
    after = _ingest_file(batch_module, corpus_lake, good_key, good)["report"]
    assert after["status"] == "processed" and after["rows_ok"] == 5
    assert _rows(lake.added()["raw"]) == 5
    lake.end()


def _kafka_event(case: KafkaCase, offset: int) -> dict[str, Any]:
    messages = [
        (
            "raw-events",
            0,
            offset + i,
            1_785_000_000_000,
            key,
            None if value is INVALID_BASE64 else value,
        )
        for i, (key, value) in enumerate(case.records)
    ]
    event = build_event(messages, bootstrap="corpus:9092")
    for i, (_key, value) in enumerate(case.records):
        if value is INVALID_BASE64:
            event["records"]["raw-events-0"][i]["value"] = (
                "not base64!" + base64.b64encode(case.raw_id.encode()).decode()
            )
    return event


@pytest.mark.parametrize("index", range(len(BATCHES)), ids=[c.name for c in BATCHES])
def test_a_kafka_batch_is_accounted_for_and_leaks_nothing(
    index: int,
    lake: Lake,
    ingest_module: Any,
    captured_logs: Any,
    capfd: pytest.CaptureFixture[str],
) -> None:
    case = BATCHES[index]
    lake.start()
    summary = ingest_module.handler(_kafka_event(case, 1000 * index), LocalContext("ingest"))
    added = lake.added()
    entries = _entries(added["quarantine"])

    assert summary["records_in"] == len(case.records) == summary["valid"] + summary["quarantined"]
    assert summary["valid"] == case.valid and _rows(added["hot"]) == case.valid
    assert len(entries) == summary["quarantined"] and not added["raw"]
    reasons: dict[str, int] = {}
    for e in entries:
        reasons[e["reason"]] = reasons.get(e["reason"], 0) + 1
    assert reasons == case.reasons, [(e["reason"], e["detail"], e["errors"]) for e in entries]
    named = {err["column"] for e in entries for err in e["errors"]}
    assert named == case.columns, [e["errors"] for e in entries]
    logs = captured_logs.getvalue()
    std = capfd.readouterr()
    _assert_no_raw_id(case.raw_id, added, json.dumps(summary), logs, std.out, std.err)

    uid = raw_id(f"good-{case.name}")
    good = build_event(
        [
            (
                "raw-events",
                1,
                1000 * index + i,
                None,
                uid.encode(),
                json.dumps(event(uid, i)).encode(),
            )
            for i in range(3)
        ],
        bootstrap="corpus:9092",
    )
    assert ingest_module.handler(good, LocalContext("ingest"))["valid"] == 3
    assert _rows(lake.added()["hot"]) == 3
    lake.end()
