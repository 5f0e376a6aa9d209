"""The clean step on real local Spark against moto S3: every planted defect is handled."""

from __future__ import annotations

import json

import boto3
import numpy as np
import pandas as pd
import pytest
from lakedata import ANON, read_curated, write_events

from segmentation.pipeline.steps import run_clean

pytestmark = [pytest.mark.spark, pytest.mark.moto]


def _events() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    base = pd.Timestamp("2026-09-01T10:00:00Z")
    rows = []
    for i in range(40):  # ordinary purchases 5..15 EUR, one a day
        rows.append(
            dict(
                event_id=f"p{i}",
                user_id=f"u{i % 4}",
                timestamp=base + pd.Timedelta(days=i % 10),
                event_type="purchase",
                amount=float(rng.uniform(5, 15)),
                device="tv",
                country="FR",
                content_id=f"c{i % 3}",
                session_id=f"s{i}",
            )
        )
    for i in range(20):
        rows.append(
            dict(
                event_id=f"w{i}",
                user_id=f"u{i % 4}",
                timestamp=base + pd.Timedelta(hours=i),
                event_type="complete",
                watch_seconds=float(1000 + 10 * i),
                device="web",
                country="DE",
                content_id="c1",
                session_id=f"s{i}",
            )
        )
    planted = [
        # outlier: capped to the purchase upper fence, and flagged
        dict(
            event_id="big",
            user_id="u1",
            timestamp=base,
            event_type="purchase",
            amount=9999.0,
            device="tv",
            country="FR",
            content_id="c1",
        ),
        # missing categorical + numeric values
        dict(
            event_id="gap1",
            user_id="u2",
            timestamp=base,
            event_type="purchase",
            amount=None,
            device=None,
            country=None,
            content_id=None,
        ),
        dict(
            event_id="gap2",
            user_id="u2",
            timestamp=base,
            event_type="complete",
            watch_seconds=None,
            device="tv",
            country="FR",
            content_id="c1",
        ),
        dict(event_id="srch", user_id="u3", timestamp=base, event_type="search", amount=None),
        # event_id duplicate with different content: the earliest ingested one wins
        dict(
            event_id="p0",
            user_id="u0",
            timestamp=base,
            event_type="purchase",
            amount=6.0,
            device="tv",
            country="FR",
            content_id="c0",
            ingest_ts=pd.Timestamp("2099-01-01", tz="UTC"),
        ),
        # rows that are not events
        dict(event_id="bad1", user_id="u1", timestamp=base, event_type="teleport"),
        dict(
            event_id="bad2",
            user_id="u1",
            timestamp=pd.Timestamp("1989-12-31", tz="UTC"),
            event_type="play",
        ),
        dict(
            event_id="bad3",
            user_id="u1",
            timestamp=pd.Timestamp("2100-01-01", tz="UTC"),
            event_type="play",
        ),
        dict(event_id="bad4", user_id="u1", timestamp=base, event_type="purchase", amount=-3.0),
        dict(event_id="bad5", user_id="u1", timestamp=base, event_type="play", device="toaster"),
        dict(
            event_id="old",
            user_id="u1",
            timestamp=pd.Timestamp("2026-06-01", tz="UTC"),
            event_type="play",
        ),
        dict(
            event_id="late",
            user_id="u1",
            timestamp=pd.Timestamp("2026-10-01", tz="UTC"),
            event_type="play",
        ),
    ]
    return pd.DataFrame(rows + planted)


def test_clean_removes_every_planted_defect(lake, spark):
    events = _events()
    n_raw = write_events(lake, "raw", events, source="batch")
    # the same 5 events delivered a second time through the hot zone: exact duplicates
    n_hot = write_events(lake, "hot", events.iloc[:5], source="kafka")

    result = run_clean(
        {
            "--JOB_NAME": "clean",
            "--lake_prefix": lake.lake_prefix,
            "--run_id": "r1",
            "--snapshot_date": "2026-09-30",
            "--fence_min_rows": "5",  # the planted outlier's day has 5 purchases
        },
        spark,
    )

    assert result["rows_in"] == n_raw + n_hot
    assert result["quarantined"] == 5
    assert result["duplicates"] == {"exact": 5, "event_id": 1, "against_history": 0}
    assert result["rows_out"] == n_raw + n_hot - 5 - 5 - 1

    cur = read_curated(spark, lake).toPandas()
    assert cur["event_id"].is_unique
    assert len(cur) == result["rows_out"]
    p0 = cur.set_index("event_id").loc["p0"]
    assert p0["amount"] != 6.0  # the later-ingested p0 lost
    # imputation
    assert cur["device"].notna().all() and cur["country"].notna().all()
    g1 = cur.set_index("event_id").loc["gap1"]
    assert g1["device"] == "unknown" and g1["country"] == "unknown"
    assert g1["content_id"] == "unknown" and bool(g1["amount_imputed"])
    # medians and fences are exact, per event day: those of 2026-09-01
    day = cur[cur.event_ts.dt.strftime("%Y-%m-%d") == "2026-09-01"]
    amounts = day[(day.event_type == "purchase") & day.amount_original.notna()]["amount_original"]
    assert g1["amount"] == pytest.approx(np.median(amounts))
    assert np.isnan(g1["amount_original"])  # what arrived is kept beside what was imputed
    g2 = cur.set_index("event_id").loc["gap2"]
    watched = day[(day.event_type == "complete") & day.watch_seconds_original.notna()]
    assert g2["watch_seconds"] == pytest.approx(np.median(watched["watch_seconds_original"]))
    assert cur.set_index("event_id").loc["srch", "amount"] == 0.0  # not a money event
    assert cur.set_index("event_id").loc["srch", "content_id"] is None
    # outliers: the planted one is capped at Q3 + 1.5 IQR of purchases and flagged
    big = cur.set_index("event_id").loc["big"]
    q1, q3 = np.percentile(amounts, [25, 75])  # linear interpolation, as Spark's percentile
    assert bool(big["amount_capped"]) and big["amount_original"] == 9999.0
    assert big["amount"] == pytest.approx(q3 + 1.5 * (q3 - q1))
    assert cur["amount"].max() == big["amount"]
    assert cur["amount_capped"].sum() == 1
    # no raw id reached the curated zone
    assert set(cur["user_anon_id"]) <= {ANON.anon(f"u{i}") for i in range(4)}
    assert str(cur["event_date"].iloc[0]).startswith("2026-09")

    # quarantine: every refused row, with its reason
    q = spark.read.parquet(result["quarantine"]).toPandas().set_index("event_id")
    assert q.loc["bad1", "reason"] == "unknown_event_type"
    assert q.loc["bad2", "reason"] == "timestamp_before_min"
    assert q.loc["bad3", "reason"] == "timestamp_after_ingest"
    assert q.loc["bad4", "reason"] == "invalid_amount"
    assert q.loc["bad5", "reason"] == "unknown_device"
    assert len(q) == 5
    # events outside a feature window are history, not faults: curated keeps them
    assert {"old", "late"} <= set(cur["event_id"])

    # quality report beside the output
    bucket, key = result["quality_report"].removeprefix("s3://").split("/", 1)
    body = boto3.client("s3", endpoint_url=lake.endpoint_url).get_object(Bucket=bucket, Key=key)
    report = json.loads(body["Body"].read())
    assert report["rows_in"] == n_raw + n_hot and report["rows_out"] == result["rows_out"]
    assert [r["rule"] for r in report["rules"]] == [
        "validate",
        "dedup_exact",
        "dedup_event_id",
        "impute",
        "cap_outliers",
        "sessionise",
    ]
    assert report["outliers_capped"]["by_event_type"] == {"purchase": 1}
    assert report["null_rates_in"]["device"] > 0 and report["null_rates_out"]["device"] == 0
    assert report["imputed"] == {"amount": 1, "watch_seconds": 1, "session_id": 6}
    # sessionised: every curated event has a session; the 6 id-less ones got gap sessions
    assert cur["session_id"].notna().all()
    gap = cur[cur["session_imputed"]]
    assert set(gap["event_id"]) == {"big", "gap1", "gap2", "srch", "old", "late"}
    assert all(s.startswith("gap-") for s in gap["session_id"])
    # big, gap1 (u1, u2 at base) -> their own sessions; gap1 and gap2 share user u2 and instant
    assert (
        gap.set_index("event_id").loc["gap1", "session_id"]
        == gap.set_index("event_id").loc["gap2", "session_id"]
    )


def test_clean_without_events_says_where_it_looked(lake, spark):
    with pytest.raises(FileNotFoundError, match="expected Parquet events under s3://"):
        run_clean({"lake_prefix": lake.lake_prefix}, spark)


def test_missing_lake_bucket_is_named(moto_env, spark):
    with pytest.raises(FileNotFoundError, match="bucket nolake-raw does not exist"):
        run_clean({"lake_prefix": "nolake"}, spark)
