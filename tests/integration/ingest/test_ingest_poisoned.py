"""A poisoned landing file never blocks the next one, and its rows are all accounted for.

The cases that used to raise out of the handler (a field over csv's 131,072-character limit, a
corrupt gzip body), that lost rows from the counts (an unbalanced quote swallowed every later
line), or that silently picked a value (a column named twice)."""

from __future__ import annotations

import gzip
import json
from typing import Any
from urllib.parse import quote_plus

import pytest
from ingest_helpers import make_events, read_events, read_objects

from segmentation.awsclients import client
from segmentation.contract import COLUMNS
from segmentation_local.lambda_context import LocalContext

pytestmark = pytest.mark.moto


def _event(bucket: str, key: str) -> dict[str, Any]:
    return {"Records": [{"s3": {"bucket": {"name": bucket}, "object": {"key": quote_plus(key)}}}]}


def _csv(events: list[dict[str, Any]]) -> list[str]:
    rows = [",".join("" if e.get(c) is None else str(e[c]) for c in COLUMNS) for e in events]
    return [",".join(COLUMNS), *rows]


def _ingest(lake: Any, batch_module: Any, key: str, body: bytes) -> dict[str, Any]:
    s3 = client("s3", lake)
    landing = lake.bucket("landing")
    s3.put_object(Bucket=landing, Key=key, Body=body)
    (result,) = batch_module.handler(_event(landing, key), LocalContext("batch_ingest"))["files"]
    report_key = result["report"].split("/", 3)[3]
    return json.loads(s3.get_object(Bucket=landing, Key=report_key)["Body"].read())


def _good_file_still_ingests(lake: Any, batch_module: Any, before: int) -> None:
    report = _ingest(
        lake, batch_module, "incoming/good.csv", "\n".join(_csv(make_events(50, seed=9))).encode()
    )
    assert report["status"] == "processed" and report["rows_ok"] == 50
    assert len(read_events(lake, "raw")) == before + 50


@pytest.fixture
def batch_module() -> Any:
    from segmentation_local.lambdas import load_module

    return load_module("batch_ingest")


def test_a_huge_field_rejects_its_row_only(lake: Any, batch_module: Any) -> None:
    lines = _csv(make_events(200, seed=1))
    fields = lines[57].split(",")
    fields[COLUMNS.index("content_id")] = "x" * 200_000  # over csv's 131,072-character limit
    lines[57] = ",".join(fields)
    report = _ingest(lake, batch_module, "incoming/huge.csv", "\n".join(lines).encode())
    assert report["status"] == "processed"
    assert report["rows_total"] == 200 == report["rows_ok"] + report["rows_rejected"]
    assert report["rows_rejected"] == 1 and report["errors"][0]["line"] == 58
    assert "field larger than field limit" in report["errors"][0]["expected"]
    _good_file_still_ingests(lake, batch_module, report["rows_ok"])


def test_an_unbalanced_quote_costs_its_line_only_and_is_named(lake: Any, batch_module: Any) -> None:
    lines = _csv(make_events(100, seed=2))
    lines[30] = lines[30].replace(",", ',"', 1)  # a stray quote opens a field that never ends
    report = _ingest(lake, batch_module, "incoming/quote.csv", "\n".join(lines).encode())
    assert report["status"] == "processed"
    assert report["rows_total"] == 100 == report["rows_ok"] + report["rows_rejected"]
    assert [e["line"] for e in report["errors"]] == [31]
    assert "quote" in report["errors"][0]["expected"]
    assert report["rows_ok"] == 99


def test_a_corrupt_gzip_body_fails_the_file_with_its_offset(lake: Any, batch_module: Any) -> None:
    body = bytearray(gzip.compress("\n".join(_csv(make_events(3000, seed=3))).encode()))
    body[len(body) // 2 : len(body) // 2 + 64] = b"\x00" * 64
    report = _ingest(lake, batch_module, "incoming/broken.csv.gz", bytes(body))
    assert report["status"] == "failed" and "near byte" in report["error"]
    assert report["rows_ok"] == 0 and report["rows_rejected"] == report["rows_total"]
    landing = set(read_objects(lake, "landing"))
    assert "failed/incoming/broken.csv.gz" in landing
    assert not read_objects(lake, "raw") and not read_objects(lake, "quarantine")
    _good_file_still_ingests(lake, batch_module, 0)


def test_a_column_named_twice_is_refused(lake: Any, batch_module: Any) -> None:
    lines = _csv(make_events(10, seed=4))
    lines = [line + "," + line.split(",")[0] for line in lines]  # user_id twice
    report = _ingest(lake, batch_module, "incoming/twice.csv", "\n".join(lines).encode())
    assert report["status"] == "failed" and "user_id" in report["error"]
    assert "more than once" in report["error"]
    _good_file_still_ingests(lake, batch_module, 0)


def test_a_non_utf8_file_names_its_line(lake: Any, batch_module: Any) -> None:
    lines = _csv(make_events(20, seed=5))
    body = "\n".join(lines).encode().replace(lines[12].encode(), lines[12].encode() + b"\xe9", 1)
    report = _ingest(lake, batch_module, "incoming/latin.csv", body)
    assert report["status"] == "failed" and report["error"].startswith("line 13: not UTF-8")
    _good_file_still_ingests(lake, batch_module, 0)
