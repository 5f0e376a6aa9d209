"""Each clean rule on a few rows of a plain local Spark (no S3): what it keeps, fills and flags."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from segmentation.lake import PARTITION_COLUMN
from segmentation.pipeline import clean_rules as rules
from segmentation.pipeline.clean import clean_events
from segmentation.pipeline.clean_rules import ZONE
from segmentation.pipeline.quality import RULES, measure_output, quality_report
from segmentation.pipeline.schemas import CURATED_SCHEMA, EVENT_COLUMNS, EVENT_SCHEMA

pytestmark = pytest.mark.spark

BASE = datetime(2026, 9, 1, 10, tzinfo=UTC)
INGEST = datetime(2026, 9, 2, tzinfo=UTC)
WINDOW = rules.window_bounds(date(2026, 9, 30), 90)  # 2026-07-03 .. 2026-10-01 (exclusive)
DEFAULTS: dict[str, Any] = {
    "event_id": None,
    "user_anon_id": "a1",
    "event_ts": BASE,
    "event_type": "play",
    "amount": None,
    "session_id": "s1",
    "content_id": "c1",
    "device": "tv",
    "watch_seconds": None,
    "country": "FR",
    "ingest_ts": INGEST,
    "source": "batch",
    ZONE: "raw",
    rules.NEW: True,
}


def frame(spark, *rows: dict[str, Any]):
    """Events as read from the lake (``EVENT_SCHEMA`` plus the zone), defaults filled in."""
    from pyspark.sql import types as T

    schema = T.StructType(
        [
            *EVENT_SCHEMA.fields,
            T.StructField(ZONE, T.StringType()),
            T.StructField(rules.NEW, T.BooleanType()),
        ]
    )
    data = [tuple({**DEFAULTS, **r}[c] for c in schema.names) for r in rows]
    return spark.createDataFrame(data, schema)


def by_id(df) -> dict[str, Any]:
    return {r["event_id"]: r.asDict() for r in df.collect()}


def test_window_bounds_are_whole_utc_days_ending_with_the_snapshot():
    start, end = WINDOW
    assert datetime.fromtimestamp(start, UTC) == datetime(2026, 7, 3, tzinfo=UTC)
    assert datetime.fromtimestamp(end, UTC) == datetime(2026, 10, 1, tzinfo=UTC)


def test_flag_invalid_names_the_first_reason_that_applies(spark):
    start = datetime.fromtimestamp(WINDOW[0], UTC)
    end = datetime.fromtimestamp(WINDOW[1], UTC)
    cases = {
        "ok": {},
        "ok_first_second": {"event_ts": start},
        "no_user": {"user_anon_id": " ", "event_type": "teleport"},  # first reason wins
        "no_ts": {"event_ts": None},
        "type": {"event_type": "teleport"},
        "old": {"event_ts": datetime(1989, 12, 31, tzinfo=UTC)},
        "future": {"event_ts": INGEST + timedelta(days=1, seconds=1)},
        "amount": {"event_type": "purchase", "amount": -0.01},
        "amount_nan": {"event_type": "purchase", "amount": float("nan")},
        "watch": {"event_type": "stop", "watch_seconds": 7 * 86400.0 + 1},
        "device": {"device": "toaster"},
        # outside any feature window is history, not a fault
        "before": {"event_ts": start - timedelta(seconds=1)},
        "after": {"event_ts": end, "ingest_ts": end},
    }
    df = frame(spark, *({"event_id": k, **v} for k, v in cases.items()))
    reasons = {k: v["reason"] for k, v in by_id(rules.flag_invalid(df)).items()}
    assert reasons == {
        "ok": None,
        "ok_first_second": None,
        "no_user": "missing_user_anon_id",
        "no_ts": "missing_event_ts",
        "type": "unknown_event_type",
        "old": "timestamp_before_min",
        "future": "timestamp_after_ingest",
        "amount": "invalid_amount",
        "amount_nan": "invalid_amount",
        "watch": "invalid_watch_seconds",
        "device": "unknown_device",
        "before": None,
        "after": None,
    }
    assert set(reasons.values()) - {None} == set(rules.REASONS)


def test_valid_and_invalid_rows_split_the_flagged_input(spark):
    flagged = rules.flag_invalid(frame(spark, {"event_id": "a"}, {"event_id": "b", "device": "x"}))
    valid = rules.valid_rows(flagged)
    assert "reason" not in valid.columns and set(by_id(valid)) == {"a"}
    assert {k: v["reason"] for k, v in by_id(rules.invalid_rows(flagged)).items()} == {
        "b": "unknown_device"
    }


def test_dedup_exact_keeps_the_earliest_ingested_copy_with_its_lineage(spark):
    early = INGEST - timedelta(hours=1)
    df = frame(
        spark,
        {"event_id": "e1", "source": "batch", ZONE: "raw"},
        {"event_id": "e1", "source": "kafka", ZONE: "hot", "ingest_ts": early},
        {"event_id": "e1", "source": "batch", ZONE: "raw", "ingest_ts": None},  # sorts last
        {"event_id": "e1", "amount": 1.0},  # not equal on the content: another row
    )
    rows = rules.dedup_exact(df).collect()
    assert len(rows) == 2
    kept = next(r for r in rows if r["amount"] is None)
    assert (kept["source"], kept[ZONE]) == ("kafka", "hot")
    assert kept["ingest_ts"].timestamp() == early.timestamp()  # Spark returns local naive time
    assert set(rules.dedup_exact(df).columns) == {
        *df.columns,
        rules.N_NEW,
        rules.N_OLD,
        rules.DEDUP_KEY,
    }


def test_the_dedups_group_numbers_on_their_exact_values(spark):
    """The floating columns are grouped on as text: both zeros are one value (as Spark's own
    grouping on a double has it), neighbouring doubles stay apart, values come back unchanged;
    the same for id-less rows in the event_id dedup."""
    near = 0.1 + 0.2  # 0.30000000000000004, not 0.3
    df = frame(
        spark,
        {"event_id": "e1", "amount": 0.0, "watch_seconds": 12.5},
        {"event_id": "e1", "amount": -0.0, "watch_seconds": 12.5, "source": "kafka"},
        {"event_id": "e2", "amount": 0.3},
        {"event_id": "e2", "amount": near},
        {"event_id": None, "user_anon_id": "a9", "amount": 1e-300},
        {"event_id": None, "user_anon_id": "a9", "amount": 1e-300, "source": "kafka"},
        {"event_id": None, "user_anon_id": "a9", "amount": 2e-300},
    )
    exact = rules.dedup_exact(df)
    got = sorted(
        (r["event_id"] or "-", r["amount"], r["watch_seconds"], r[rules.N_NEW])
        for r in exact.collect()
    )
    assert got == [
        ("-", 1e-300, None, 2),
        ("-", 2e-300, None, 1),
        ("e1", 0.0, 12.5, 2),
        ("e2", 0.3, None, 1),
        ("e2", near, None, 1),
    ]
    kept = rules.dedup_event_id(exact).collect()
    assert sorted((r["event_id"] or "-", r["amount"], r[rules.COPIES]) for r in kept) == [
        ("-", 1e-300, 1),
        ("-", 2e-300, 1),
        ("e1", 0.0, 1),
        ("e2", 0.3, 2),
    ]


def test_dedup_event_id_never_merges_rows_that_only_share_a_partitioning_key(spark):
    """The content hash only places id-less rows: an event_id equal to that hash, or two contents
    hashing alike, must still leave distinct events apart."""
    idless = frame(spark, {"event_id": None, "user_anon_id": "a2"})
    key = rules.dedup_exact(idless).first()[rules.DEDUP_KEY]
    df = idless.unionByName(frame(spark, {"event_id": key, "user_anon_id": "a3"}))
    out = rules.dedup_event_id(rules.dedup_exact(df)).collect()
    assert sorted((r["event_id"] is None, r["user_anon_id"]) for r in out) == [
        (False, "a3"),
        (True, "a2"),
    ]


def test_dedup_event_id_keeps_the_earliest_and_counts_the_copies(spark):
    df = frame(
        spark,
        {"event_id": "e1", "amount": 5.0, "event_type": "purchase"},
        {"event_id": "e1", "amount": 6.0, "event_type": "purchase", "ingest_ts": BASE},
        {"event_id": "e2"},
        {"event_id": None, "user_anon_id": "a2"},  # rows without an id never collide
        {"event_id": None, "user_anon_id": "a3"},
    )
    out = rules.dedup_event_id(rules.dedup_exact(df)).collect()
    assert len(out) == 4
    e1 = next(r for r in out if r["event_id"] == "e1")
    assert e1["amount"] == 6.0 and e1[rules.COPIES] == 2
    assert sorted(r[rules.COPIES] for r in out) == [1, 1, 1, 2]
    assert set(rules.dedup_event_id(rules.dedup_exact(df)).columns) == {
        *df.columns,
        rules.COPIES,
        rules.N_NEW,
        rules.N_OLD,
        rules.EXACT_NEW,
    }


def test_the_dedups_count_copies_new_to_the_run_and_never_prefer_them(spark):
    # the same event cleaned before (old) and delivered again later (new), plus a new-only one
    df = frame(
        spark,
        {"event_id": "e1", rules.NEW: False},
        {"event_id": "e1", rules.NEW: True, "source": "kafka", "ingest_ts": INGEST},
        {"event_id": "e1", rules.NEW: True, "amount": 2.0, "ingest_ts": BASE},  # earliest: wins
        {"event_id": "e2", rules.NEW: True},
    )
    out = {r["event_id"]: r for r in rules.dedup_event_id(rules.dedup_exact(df)).collect()}
    e1 = out["e1"]
    assert (e1[rules.N_NEW], e1[rules.N_OLD], e1[rules.EXACT_NEW]) == (2, 1, 1)
    assert e1["amount"] == 2.0 and e1[rules.NEW]  # the earliest ingested copy, new or not
    assert (out["e2"][rules.N_NEW], out["e2"][rules.N_OLD]) == (1, 0)


DAY = "2026-09-01"  # BASE's UTC day


def stats_frame(spark, **by_type: dict[str, float | None]):
    """A statistics frame of BASE's day: ``{event_type: {column: value}}``."""
    rows = []
    for et, values in by_type.items():
        row = dict.fromkeys(("amount_median", "watch_median", "q1", "q3", "lower", "upper"))
        rows.append({PARTITION_COLUMN: DAY, "event_type": et, "money_rows": 0, **row, **values})
    return rules.TypeStats(tuple(rows)).frame(spark)


def test_fit_type_stats_medians_and_iqr_fences_per_event_type_and_day(spark):
    buys = [{"event_type": "purchase", "amount": a} for a in (1.0, 2.0, 3.0, 4.0, 100.0)]
    stops = [{"event_type": "stop", "watch_seconds": w} for w in (10.0, 20.0, 30.0)]
    next_day = {"event_type": "purchase", "amount": 50.0, "event_ts": BASE + timedelta(days=1)}
    df = frame(spark, *buys, *stops, {"event_type": "search"}, next_day)
    stats = rules.fit_type_stats(df, 1.5)
    assert stats.medians["purchase"][DAY] == {"amount": 3.0, "watch_seconds": 0.0}
    assert stats.medians["purchase"]["2026-09-02"]["amount"] == 50.0  # its own day's
    assert stats.medians["stop"][DAY] == {"amount": 0.0, "watch_seconds": 20.0}
    assert stats.medians["search"][DAY] == {"amount": 0.0, "watch_seconds": 0.0}
    # exact quartiles (linear interpolation): Q1 2, Q3 4; upper 4 + 1.5 * 2; lower 2 - 3 -> 0
    assert stats.fences["purchase"][DAY] == {"q1": 2.0, "q3": 4.0, "lower": 0.0, "upper": 7.0}
    # too few amounts on a day for fences: none drawn (the day is left uncapped)
    few = rules.fit_type_stats(df, 1.5, fence_min_rows=2)
    assert set(few.fences["purchase"]) == {DAY}


def test_fit_type_stats_do_not_depend_on_the_layout(spark):
    amounts = [float(x) for x in (7, 1, 9, 3, 3, 12, 5, 8, 2, 30, 4, 6)]
    rows = [{"event_type": "purchase", "amount": a} for a in amounts]
    one = rules.fit_type_stats(frame(spark, *rows).coalesce(1), 1.5)
    many = rules.fit_type_stats(frame(spark, *reversed(rows)).repartition(7), 1.5)
    assert one == many


def test_impute_fills_gaps_by_event_type_and_flags_the_numbers(spark):
    stats = stats_frame(
        spark,
        purchase={"amount_median": 9.5},
        complete={"watch_median": 1200.0},
    )
    df = frame(
        spark,
        {"event_id": "buy", "event_type": "purchase", "device": None, "country": None},
        {"event_id": "buy_content", "event_type": "purchase", "amount": 3.0, "content_id": None},
        {"event_id": "done", "event_type": "complete"},
        {"event_id": "search", "event_type": "search", "content_id": None},
        {"event_id": "play", "event_type": "play", "watch_seconds": None},
        {"event_id": "other_day", "event_type": "purchase", "event_ts": BASE + timedelta(days=3)},
    )
    out = by_id(rules.impute(df, stats))
    assert out["buy"]["amount"] == 9.5 and out["buy"]["amount_imputed"]
    assert out["buy"]["amount_original"] is None  # what arrived, beside what was filled in
    assert (out["buy"]["device"], out["buy"]["country"]) == ("unknown", "unknown")
    assert (
        out["buy_content"]["content_id"] == "unknown" and not out["buy_content"]["amount_imputed"]
    )
    assert out["buy_content"]["amount_original"] == 3.0
    assert out["done"]["watch_seconds"] == 1200.0 and out["done"]["watch_seconds_imputed"]
    # numbers that do not apply become 0, unflagged; content of a search stays missing
    assert out["search"]["amount"] == 0.0 and not out["search"]["amount_imputed"]
    assert out["search"]["content_id"] is None
    assert out["play"]["watch_seconds"] == 0.0 and not out["play"]["watch_seconds_imputed"]
    # a day without statistics of its own imputes 0, not another day's median
    assert out["other_day"]["amount"] == 0.0 and out["other_day"]["amount_imputed"]


def test_cap_outliers_caps_money_events_to_their_fences_only(spark):
    stats = stats_frame(spark, purchase={"q1": 2.0, "q3": 4.0, "lower": 1.0, "upper": 7.0})
    df = frame(
        spark,
        {"event_id": "high", "event_type": "purchase", "amount": 50.0},
        {"event_id": "low", "event_type": "purchase", "amount": 0.5},
        {"event_id": "in", "event_type": "purchase", "amount": 7.0},
        {"event_id": "search", "event_type": "search", "amount": 50.0},
        {
            "event_id": "unfenced_day",
            "event_type": "purchase",
            "amount": 50.0,
            "event_ts": BASE + timedelta(days=3),
        },
    )
    out = {
        k: (v["amount"], v["amount_capped"])
        for k, v in by_id(rules.cap_outliers(df, stats)).items()
    }
    assert out == {
        "high": (7.0, True),
        "low": (1.0, True),
        "in": (7.0, False),
        "search": (50.0, False),
        "unfenced_day": (50.0, False),
    }


def test_sessionise_cuts_sessions_at_the_inactivity_gap(spark):
    t = [BASE + timedelta(minutes=m) for m in (0, 10, 41, 45)]
    df = frame(
        spark,
        *({"event_id": f"a{i}", "session_id": None, "event_ts": ts} for i, ts in enumerate(t)),
        {"event_id": "b0", "user_anon_id": "a2", "session_id": None, "event_ts": t[1]},
        {"event_id": "own", "session_id": "s9"},
    )
    out = {
        k: (v["session_id"], v["session_imputed"])
        for k, v in by_id(rules.sessionise(df, 30)).items()
    }
    first, third = (f"gap-{int(ts.timestamp())}" for ts in (t[0], t[2]))
    assert out == {
        "a0": (first, True),
        "a1": (first, True),
        "a2": (third, True),  # 31 minutes after a1: a new session
        "a3": (third, True),
        "b0": (f"gap-{int(t[1].timestamp())}", True),  # per user
        "own": ("s9", False),
    }


def test_to_curated_keeps_the_curated_columns_and_the_utc_day(spark):
    df = frame(spark, {"event_id": "e", "event_ts": datetime(2026, 9, 1, 23, 30, tzinfo=UTC)})
    df = (
        rules.impute(rules.dedup_event_id(rules.dedup_exact(df)), stats_frame(spark))
        .transform(rules.cap_outliers, stats_frame(spark))
        .transform(rules.sessionise, 30)
    )
    out = rules.to_curated(df)
    assert out.columns == [*CURATED_SCHEMA.names, PARTITION_COLUMN]
    assert out.first()[PARTITION_COLUMN] == "2026-09-01"


def test_the_chained_rules_write_the_curated_schema_and_their_report(spark):
    rows = [
        {"event_id": "p1", "event_type": "purchase", "amount": 5.0},
        {"event_id": "p1", "event_type": "purchase", "amount": 5.0, "source": "kafka"},  # exact
        {"event_id": "p1", "event_type": "purchase", "amount": 8.0, "ingest_ts": BASE},  # by id
        {"event_id": "p2", "event_type": "purchase", "amount": None, "session_id": None},
        {"event_id": "bad", "event_type": "teleport"},
    ]
    with clean_events(frame(spark, *rows), 1.5) as cleaned:
        curated = cleaned.curated
        schema = {f.name: f.dataType for f in curated.schema.fields}
        assert schema == {
            **{f.name: f.dataType for f in CURATED_SCHEMA.fields},
            PARTITION_COLUMN: schema[PARTITION_COLUMN],
            rules.NEW: schema[rules.NEW],  # lineage the step drops as it writes
        }
        out = by_id(curated)
        report = quality_report(
            cleaned.inputs, cleaned.dedup, cleaned.stats, measure_output(curated)
        )
        assert by_id(cleaned.quarantine)["bad"]["reason"] == "unknown_event_type"
    assert out["p1"]["amount"] == 8.0
    assert out["p2"]["amount_imputed"] and out["p2"]["session_imputed"]
    assert [r["rule"] for r in report["rules"]] == list(RULES)
    assert [(r["rows_in"], r["rows_out"]) for r in report["rules"]] == [
        (5, 4),
        (4, 3),
        (3, 2),
        (2, 2),
        (2, 2),
        (2, 2),
    ]
    assert report["duplicates"] == {"exact": 1, "event_id": 1, "against_history": 0}
    assert report["quarantined"] == {"unknown_event_type": 1}
    assert report["imputed"] == {"amount": 1, "watch_seconds": 0, "session_id": 1}
    assert report["null_rates_in"]["session_id"] == 0.2 and report["rows_out"] == 2
    assert set(report["null_rates_out"]) == set(EVENT_COLUMNS)
