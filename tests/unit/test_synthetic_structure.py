"""Synthetic data set: files, schemas, keys, contract validity, session structure, CSV = Parquet."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation.contract import COLUMNS, EVENT_TYPES, Event, read_csv_events, validate_record
from segmentation_local.synthetic import DefectRates, GenerateParams, generate, write_dataset
from segmentation_local.synthetic.tables import EVENT_COLUMNS, EVENT_SCHEMA

PARAMS = GenerateParams(users=800, seed=7)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synthetic")
    write_dataset(generate(PARAMS), path)
    return path


@pytest.fixture(scope="module")
def clean() -> pd.DataFrame:
    return generate(PARAMS.model_copy(update={"defects": DefectRates.none()})).events.to_pandas()


def test_every_file_is_written_with_its_columns(out: Path) -> None:
    expected = {
        "events": list(EVENT_COLUMNS),
        "transactions": [
            "transaction_id", "event_id", "user_id", "timestamp", "amount", "currency", "kind",
            "method",
        ],
        "users": ["user_id", "signup_date", "country", "device", "plan"],
        "catalog": ["content_id", "title", "genre", "duration_minutes", "release_year"],
    }  # fmt: skip
    for name, columns in expected.items():
        assert pq.read_schema(out / f"{name}.parquet").names == columns
        assert pd.read_csv(out / f"{name}.csv", nrows=2).columns.tolist() == columns
    assert pq.read_schema(out / "labels.parquet").names == ["user_id", "persona"]
    assert not (out / "labels.csv").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(summary["files"]) == sorted(p.name for p in out.iterdir())
    assert set(EVENT_COLUMNS) == set(COLUMNS)
    schema = pq.read_schema(out / "events.parquet")
    assert schema.field("timestamp").type == pa.timestamp("us", tz="UTC")
    assert schema.remove_metadata().equals(EVENT_SCHEMA)
    assert schema.metadata is None or b"pandas" not in schema.metadata


def test_summary_counts_match_the_files(out: Path) -> None:
    s = json.loads((out / "summary.json").read_text())
    assert pq.read_metadata(out / "events.parquet").num_rows == s["counts"]["events"]
    assert pq.read_metadata(out / "users.parquet").num_rows == PARAMS.users
    assert pq.read_metadata(out / "transactions.parquet").num_rows == s["counts"]["transactions"]
    with (out / "events.csv").open() as f:
        assert sum(1 for _ in f) - 1 == s["counts"]["events_csv_rows"]
    assert set(s["event_types"]) == set(EVENT_TYPES)
    assert sum(s["event_types"].values()) == s["counts"]["events_clean"]
    assert s["window"] == {
        "start": "2026-07-03T00:00:00Z",
        "end_exclusive": "2026-10-01T00:00:00Z",
        "days": 90,
    }
    assert s["seed"] == 7 and s["parameters"]["users"] == 800
    assert sum(p["users"] for p in s["personas"].values()) == PARAMS.users


def test_foreign_keys_hold(out: Path) -> None:
    events = pq.read_table(out / "events.parquet").to_pandas()
    users = pq.read_table(out / "users.parquet").to_pandas()
    catalog = pq.read_table(out / "catalog.parquet").to_pandas()
    tx = pq.read_table(out / "transactions.parquet").to_pandas()
    labels = pq.read_table(out / "labels.parquet").to_pandas()
    assert users["user_id"].is_unique and catalog["content_id"].is_unique
    assert set(events["user_id"]) <= set(users["user_id"])
    assert set(events["content_id"].dropna()) <= set(catalog["content_id"])
    assert set(tx["event_id"]) <= set(events["event_id"])
    assert tx["transaction_id"].is_unique and (tx["currency"] == "EUR").all()
    assert set(tx["kind"]) == {"purchase", "subscription"} and (tx["amount"] > 0).all()
    assert labels["user_id"].tolist() == users["user_id"].tolist()
    assert (users["signup_date"] < PARAMS.window_start.date()).all()


def test_clean_events_satisfy_the_contract(clean: pd.DataFrame) -> None:
    records = clean.astype(object).where(clean.notna(), None).to_dict("records")
    bad = [r for r in records if not isinstance(validate_record(r), Event)]
    assert not bad, validate_record(bad[0])
    ts = clean["timestamp"]
    assert ts.min() >= PARAMS.window_start and ts.max() < PARAMS.window_end
    assert ts.is_monotonic_increasing and clean["event_id"].is_unique
    assert clean["session_id"].notna().all() and clean["device"].notna().all()
    money = clean["event_type"].isin(["purchase", "subscription"])
    assert clean.loc[money, "amount"].gt(0).all() and clean.loc[~money, "amount"].isna().all()


def test_invalid_parquet_rows_are_exactly_the_impossible_timestamps(out: Path) -> None:
    events = pq.read_table(out / "events.parquet").to_pandas()
    s = json.loads((out / "summary.json").read_text())["defects"]
    latest = datetime.now(UTC) + timedelta(days=1)
    impossible = (events["timestamp"] < datetime(2000, 1, 1, tzinfo=UTC)) | (
        events["timestamp"] > latest
    )
    records = events.astype(object).where(events.notna(), None).to_dict("records")
    invalid = np.array([not isinstance(validate_record(r), Event) for r in records])
    assert (invalid == impossible.to_numpy()).all()
    injected = s["out_of_window"]["future"] + s["out_of_window"]["epoch_1970"]
    # Re-sent copies of such rows are invalid too; a conflicting copy may even move into range.
    assert injected <= invalid.sum() <= injected * 1.2 + 5


def test_sessions_are_coherent(clean: pd.DataFrame) -> None:
    catalog = generate(PARAMS).catalog.to_pandas().set_index("content_id")
    g = clean.groupby("session_id")
    assert (g["user_id"].nunique() == 1).all() and (g["device"].nunique() == 1).all()
    span = (g["timestamp"].max() - g["timestamp"].min()).dt.total_seconds()
    assert span.max() < 12 * 3600
    ends = clean[clean["event_type"].isin(["stop", "complete"])]
    duration = catalog.loc[ends["content_id"], "duration_minutes"].to_numpy() * 60.0
    assert (ends["watch_seconds"].to_numpy() <= duration).all()
    done = ends["event_type"].to_numpy() == "complete"
    assert (ends["watch_seconds"].to_numpy()[done] >= 0.95 * duration[done] - 1).all()
    # Each play has exactly one end (stop or complete) in the same session, on the same title.
    plays = clean[clean["event_type"] == "play"].groupby(["session_id", "content_id"]).size()
    closes = ends.groupby(["session_id", "content_id"]).size()
    assert plays.sort_index().equals(closes.sort_index())


def test_daily_and_weekly_rhythm(clean: pd.DataFrame) -> None:
    hours = clean["timestamp"].dt.hour.value_counts(normalize=True).sort_index()
    assert hours.loc[18:23].sum() > hours.loc[12:17].sum() > hours.loc[1:5].sum()
    assert hours.loc[6:11].sum() > hours.loc[1:5].sum()
    days = clean["timestamp"].dt.floor("D")
    per_day = clean.groupby(days).size()
    weekend = per_day.index.dayofweek >= 5
    assert per_day[weekend].mean() > per_day[~weekend].mean()


def test_csv_holds_the_parquet_rows_plus_malformed_lines_at_the_recorded_lines(out: Path) -> None:
    recorded = json.loads((out / "malformed_lines.json").read_text())["lines"]
    malformed = {r["line"]: r["kind"] for r in recorded}
    s = json.loads((out / "summary.json").read_text())["defects"]["malformed_csv"]
    assert len(malformed) == s["total"] > 0
    assert {k for k in malformed.values()} == {
        "field_count", "bad_timestamp", "bad_amount", "bad_event_type",
    }  # fmt: skip
    events = pq.read_table(out / "events.parquet").to_pandas()
    valid_ids, error_lines = [], {}
    with (out / "events.csv").open() as f:
        for line, result in read_csv_events(f):
            if isinstance(result, Event):
                valid_ids.append(result.event_id)
            else:
                error_lines[line] = result
    assert set(malformed) <= set(error_lines)
    column = {
        "bad_timestamp": "timestamp", "bad_amount": "amount", "bad_event_type": "event_type",
    }  # fmt: skip
    for line, kind in malformed.items():
        if kind in column:
            assert column[kind] in {e.column for e in error_lines[line]}, (line, kind)
        else:
            assert "fields as in the header" in error_lines[line][0].expected
    # Every other rejected CSV line is a Parquet row with an impossible timestamp.
    latest = datetime.now(UTC) + timedelta(days=1)
    ts = events["timestamp"]
    ok = (ts >= datetime(2000, 1, 1, tzinfo=UTC)) & (ts <= latest)
    assert valid_ids == events.loc[ok, "event_id"].tolist()
    assert len(error_lines) - len(malformed) == int((~ok).sum())


def test_csv_values_round_trip_to_the_parquet(out: Path) -> None:
    lines = {r["line"] for r in json.loads((out / "malformed_lines.json").read_text())["lines"]}
    with (out / "events.csv").open() as f:
        text = "".join(row for n, row in enumerate(f, start=1) if n not in lines)
    csv = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    parquet = pq.read_table(out / "events.parquet").to_pandas()
    assert len(csv) == len(parquet)
    assert (csv["timestamp"] == parquet["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")).all()
    for col in ("amount", "watch_seconds"):
        got = pd.to_numeric(csv[col].replace("", None)).astype(float)
        assert np.array_equal(got, parquet[col], equal_nan=True), col
    for col in ("event_id", "user_id", "event_type", "session_id", "content_id", "device"):
        assert (csv[col] == parquet[col].fillna("")).all(), col
