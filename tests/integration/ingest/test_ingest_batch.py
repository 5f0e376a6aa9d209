"""Batch ingest on moto: landing CSV/Parquet -> raw zone, per-file report, quarantine, move."""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ingest_helpers import make_events, read_events, read_objects, read_quarantine

from segmentation.anonymise import load_anonymiser
from segmentation.awsclients import client
from segmentation.contract import COLUMNS
from segmentation_local.lambda_context import LocalContext

pytestmark = pytest.mark.moto


def _s3_event(bucket: str, key: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": bucket}, "object": {"key": quote_plus(key)}},
            }
        ]
    }


@pytest.fixture
def small_chunks(lake: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from segmentation.config import get_settings

    monkeypatch.setenv("SEG_BATCH_CHUNK_ROWS", "100")
    get_settings.cache_clear()
    return get_settings()


def _csv_line(e: dict[str, Any]) -> str:
    return ",".join("" if e.get(c) is None else str(e[c]) for c in COLUMNS)


def test_malformed_csv_good_rows_land_and_bad_rows_are_reported_by_line(
    small_chunks: Any, batch_module: Any
) -> None:
    settings = small_chunks
    events = make_events(260, seed=5)
    lines = [",".join(COLUMNS)] + [_csv_line(e) for e in events]
    # Break some rows; lines are 1-based and the header is line 1, so event i is on line i + 2.
    bad = {12: "amount", 40: "event_type", 77: "country", 150: "timestamp", 201: "<width>"}
    events[10] = {**events[10], "event_type": "purchase", "amount": None}
    lines[12 - 1] = _csv_line(events[10]).replace(",purchase,,", ",purchase,abc,", 1)
    lines[40 - 1] = _csv_line({**events[38], "event_type": "teleport"})
    lines[77 - 1] = _csv_line({**events[75], "country": "France"})
    lines[150 - 1] = _csv_line({**events[148], "timestamp": "2026-02-30T10:00:00Z"})
    lines[201 - 1] = ",".join(_csv_line(events[199]).split(",")[:5])  # too few fields
    lines.insert(100, "")  # a blank line is skipped, and shifts the later line numbers by one
    shifted = {(n + 1 if n > 100 else n): spec for n, spec in bad.items()}
    body = "\n".join(lines) + "\n"

    s3 = client("s3", settings)
    landing = settings.bucket("landing")
    key = "incoming/2026 08/events week 1.csv"
    s3.put_object(Bucket=landing, Key=key, Body=body.encode())
    result = batch_module.handler(_s3_event(landing, key), LocalContext("batch_ingest"))
    (file_result,) = result["files"]
    assert file_result["status"] == "processed"

    report_key = f"processed/{key}.report.json"
    report = json.loads(s3.get_object(Bucket=landing, Key=report_key)["Body"].read())
    assert report["rows_total"] == 260 and report["rows_rejected"] == 5
    assert report["rows_ok"] == 255 and report["chunks"] == 3
    by_line = {e["line"]: e for e in report["errors"]}
    assert set(by_line) == set(shifted)
    for line, column in shifted.items():
        got = by_line[line]["column"]
        assert got == column if column != "<width>" else got in COLUMNS, (line, got)
        assert by_line[line]["expected"]

    # The landing object was moved, not lost; the report sits next to it.
    keys = set(read_objects(settings, "landing"))
    assert keys == {f"processed/{key}", report_key}
    assert s3.get_object(Bucket=landing, Key=f"processed/{key}")["Body"].read() == body.encode()

    bad_ids = {events[i]["event_id"] for i in (10, 38, 75, 148, 199)}
    rows = read_events(settings, "raw")
    assert Counter(r["event_id"] for r in rows) == Counter(
        e["event_id"] for e in events if e["event_id"] not in bad_ids
    )
    anon = load_anonymiser(settings)
    assert {r["user_anon_id"] for r in rows} <= {anon.anon(e["user_id"]) for e in events}
    assert all(r["source"].startswith("landing:s3://") for r in rows)
    quarantined = read_quarantine(settings)
    assert sorted(q["line"] for q in quarantined) == sorted(shifted)

    # Uploading the same file again overwrites its outputs: still one row per event.
    s3.put_object(Bucket=landing, Key=key, Body=body.encode())
    batch_module.handler(_s3_event(landing, key), LocalContext("batch_ingest"))
    assert len(read_events(settings, "raw")) == len(rows)
    assert len(read_quarantine(settings)) == len(quarantined)


def test_parquet_landing_streams_row_groups_and_reports_rows(
    small_chunks: Any, batch_module: Any
) -> None:
    settings = small_chunks
    events = make_events(350, seed=6)
    events[123] = {**events[123], "amount": -4.0, "event_type": "purchase"}
    table = pa.Table.from_pylist(
        [
            {**e, "timestamp": datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00"))}
            for e in events
        ]
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=64)
    s3 = client("s3", settings)
    landing = settings.bucket("landing")
    s3.put_object(Bucket=landing, Key="history.parquet", Body=sink.getvalue())

    result = batch_module.handler(_s3_event(landing, "history.parquet"), LocalContext("b"))
    assert result["files"][0]["status"] == "processed"
    report = json.loads(
        s3.get_object(Bucket=landing, Key="processed/history.parquet.report.json")["Body"].read()
    )
    assert (report["rows_ok"], report["rows_rejected"], report["chunks"]) == (349, 1, 4)
    assert [(e["line"], e["column"]) for e in report["errors"]] == [(124, "amount")]
    rows = read_events(settings, "raw")
    assert len(rows) == 349 and len({r["event_id"] for r in rows}) == 349


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("no-header.csv", b"u-1,2026-01-01T00:00:00Z,play,\n", "missing required column"),
        ("latin1.csv", ",".join(COLUMNS).encode() + b"\nus\xe9r,x,play,\n", "not UTF-8"),
        ("broken.parquet", b"PAR1 not really", "not a Parquet file"),
        ("notes.csv.gz", b"not gzip", "cannot decompress"),
    ],
)
def test_unreadable_files_go_to_failed_with_a_reason_and_leave_no_rows(
    lake: Any, batch_module: Any, name: str, body: bytes, message: str
) -> None:
    s3 = client("s3", lake)
    landing = lake.bucket("landing")
    s3.put_object(Bucket=landing, Key=name, Body=body)
    result = batch_module.handler(_s3_event(landing, name), LocalContext("batch_ingest"))
    assert result["files"][0]["status"] == "failed"
    report = json.loads(
        s3.get_object(Bucket=landing, Key=f"failed/{name}.report.json")["Body"].read()
    )
    assert message in report["error"]
    assert set(read_objects(lake, "landing")) == {f"failed/{name}", f"failed/{name}.report.json"}
    assert not read_objects(lake, "raw") and not read_objects(lake, "quarantine")


def test_own_outputs_and_unknown_types_are_not_ingested(lake: Any, batch_module: Any) -> None:
    s3 = client("s3", lake)
    landing = lake.bucket("landing")
    for key in ("processed/a.csv", "failed/b.csv", "readme.txt"):
        s3.put_object(Bucket=landing, Key=key, Body=b"x")
        assert batch_module.handler(_s3_event(landing, key), LocalContext("b")) == {"files": []}
    assert set(read_objects(lake, "landing")) == {"processed/a.csv", "failed/b.csv", "readme.txt"}


def test_scattered_days_are_gathered_into_few_objects(small_chunks: Any, batch_module: Any) -> None:
    """A time-ordered history whose every chunk also carries a few rows of scattered old days
    (late / out-of-window events) writes about one object per day, not one per chunk and day;
    every row lands once, and a retry rewrites exactly the same keys."""
    settings = small_chunks  # 100-row chunks: at most 200 rows wait
    old_days = [f"2026-0{m}-{d:02d}T12:00:00Z" for m in (3, 4, 5) for d in (3, 9, 17, 25)]
    events = []
    for i, e in enumerate(sorted(make_events(1080, seed=9), key=lambda e: e["timestamp"])):
        events.append(e)
        if i % 9 == 0:  # every 100-row chunk carries ~10 rows of ~10 different old days
            late = make_events(1, seed=1000 + i)[0]
            events.append({**late, "timestamp": old_days[(i // 9) % len(old_days)]})
    body = "\n".join([",".join(COLUMNS)] + [_csv_line(e) for e in events]) + "\n"

    s3 = client("s3", settings)
    landing = settings.bucket("landing")
    s3.put_object(Bucket=landing, Key="history.csv", Body=body.encode())
    batch_module.handler(_s3_event(landing, "history.csv"), LocalContext("batch_ingest"))
    first = set(read_objects(settings, "raw"))
    days = {k.split("event_date=")[1].split("/")[0] for k in first}
    assert len(days) == 5 + len(old_days)  # make_events covers 5 days
    # per chunk and day would be >= 12 chunks x 10 old days; gathered: about one per day
    assert len(first) <= 2 * len(days)
    rows = read_events(settings, "raw")
    assert Counter(r["event_id"] for r in rows) == Counter(e["event_id"] for e in events)

    s3.put_object(Bucket=landing, Key="history.csv", Body=body.encode())
    batch_module.handler(_s3_event(landing, "history.csv"), LocalContext("batch_ingest"))
    assert set(read_objects(settings, "raw")) == first
    assert len(read_events(settings, "raw")) == len(rows)


def test_a_file_delivered_again_under_its_key_replaces_its_earlier_rows(
    small_chunks: Any, batch_module: Any
) -> None:
    """A corrected export re-sent under the same name: its rows replace the first version's
    (none left behind on a day the new version no longer has); a retry of the same bytes
    rewrites its own objects; a broken new version leaves the earlier one whole."""
    settings = small_chunks
    s3 = client("s3", settings)
    landing = settings.bucket("landing")
    events = make_events(240, seed=3)
    first = "\n".join([",".join(COLUMNS), *(_csv_line(e) for e in events)]) + "\n"

    def deliver(body: str) -> dict[str, Any]:
        s3.put_object(Bucket=landing, Key="export.csv", Body=body.encode())
        batch_module.handler(_s3_event(landing, "export.csv"), LocalContext("batch_ingest"))
        report = s3.get_object(Bucket=landing, Key="processed/export.csv.report.json")["Body"]
        return json.loads(report.read())

    one = deliver(first)
    assert len(read_events(settings, "raw")) == 240
    assert deliver(first)["outputs"] == one["outputs"]  # a retry: same objects, no new ones
    assert len(read_events(settings, "raw")) == 240
    corrected = "\n".join([",".join(COLUMNS), *(_csv_line(e) for e in events[:100])]) + "\n"
    two = deliver(corrected)
    assert set(two["replaced"]) == set(one["outputs"]) | set(one["quarantine"])
    assert len(read_events(settings, "raw")) == 100  # the first version's rows are gone
    assert set(read_objects(settings, "raw")) == {u.split("/", 3)[3] for u in two["outputs"]}
    # a broken third version is set aside; the second version's rows stay
    s3.put_object(Bucket=landing, Key="export.csv", Body=b"\x1f\x8b not gzip at all")
    batch_module.handler(_s3_event(landing, "export.csv"), LocalContext("batch_ingest"))
    assert len(read_events(settings, "raw")) == 100


def test_a_csv_from_1997_ingests_with_no_rejected_row(lake: Any, batch_module: Any) -> None:
    """Real purchase exports reach back decades: the contract's lower bound is a setting
    (``SEG_TIMESTAMP_MIN``, default 1990-01-01), not 2000, so late-1990s rows are history."""
    from segmentation.config import get_settings

    settings = get_settings()
    events = make_events(120, seed=9)
    for e in events:  # the same events, 29 years earlier
        e["timestamp"] = e["timestamp"].replace("2026-", "1997-", 1)
    body = "\n".join([",".join(COLUMNS)] + [_csv_line(e) for e in events]) + "\n"
    s3 = client("s3", settings)
    landing = settings.bucket("landing")
    s3.put_object(Bucket=landing, Key="incoming/retail-1997.csv", Body=body.encode())
    result = batch_module.handler(
        _s3_event(landing, "incoming/retail-1997.csv"), LocalContext("batch_ingest")
    )
    assert result["files"][0]["status"] == "processed"
    report = json.loads(
        s3.get_object(Bucket=landing, Key="processed/incoming/retail-1997.csv.report.json")[
            "Body"
        ].read()
    )
    assert report["rows_total"] == 120 and report["rows_rejected"] == 0, report["errors"][:3]
    assert len(read_events(settings, "raw")) == 120
