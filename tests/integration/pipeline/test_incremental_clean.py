"""The incremental lake: three weekly batches cleaned one run at a time give what one full rebuild
over all three gives; a run with nothing new changes no object; a run killed before its commit
leaves the previous version whole, and its re-run finishes the job; two runs never clean at once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import boto3
import pandas as pd
import pyarrow.parquet as pq
import pytest
from lakedata import read_curated, write_catalog, write_events

from segmentation.awsclients import client
from segmentation.ledger import Ledger, LedgerLocked
from segmentation.pipeline import lakeio
from segmentation.pipeline.steps import run_clean, run_features
from segmentation_local.synthetic import GenerateParams
from segmentation_local.synthetic.params import ContinueParams, CrossBatchRates
from segmentation_local.synthetic.service import continue_to, generate_to

pytestmark = [pytest.mark.spark, pytest.mark.moto, pytest.mark.slow]

ROOT = GenerateParams(users=60, days=14, seed=21, catalog_size=50)
CROSS = CrossBatchRates(
    late_into_parent=0.05, parent_duplicates=0.04, parent_conflicting_duplicates=0.03
)
WINDOW = "21"


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """w1 (14 days), then two weekly continuations with late events and copies of old ones."""
    root = tmp_path_factory.mktemp("weeks")
    generate_to(ROOT, root / "w1")
    continue_to(root / "w1", ContinueParams(days=7, new_users=8, cross_batch=CROSS), root / "w2")
    continue_to(root / "w2", ContinueParams(days=7, cross_batch=CROSS), root / "w3")
    return [root / f"w{i}" for i in (1, 2, 3)]


def _events(batch: Path) -> pd.DataFrame:
    return pq.read_table(batch / "events.parquet").to_pandas()


def _land(lake, batch: Path, week: int) -> None:
    """A week's events arrive through both doors: most as a batch file, a share by Kafka, and
    ingested at the week's end (so copies of earlier weeks' events are the later copies)."""
    events = _events(batch)
    events["ingest_ts"] = pd.Timestamp(ROOT.end_date, tz="UTC") + pd.Timedelta(days=7 * week - 6)
    kafka = events.sample(frac=0.2, random_state=week)
    write_events(lake, "raw", events.drop(kafka.index), source="batch", name=f"batch-w{week}")
    write_events(lake, "hot", kafka, source="kafka", name=f"kafka-w{week}")


def _lake_objects(lake) -> dict[str, str]:
    s3 = boto3.client("s3", endpoint_url=lake.endpoint_url, region_name=lake.aws_region)
    out = {}
    for zone in ("curated", "quarantine", "features"):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=lake.bucket(zone)):
            out.update({f"{zone}/{o['Key']}": o["ETag"] for o in page.get("Contents", [])})
    return out


def _zone_keys(lake, zone: str) -> list[str]:
    s3 = boto3.client("s3", endpoint_url=lake.endpoint_url, region_name=lake.aws_region)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=lake.bucket(zone), Prefix="events/")
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def _curated_locations(lake) -> set[str]:
    """The day versions (``event_date=D/run_id=R``) the curated zone holds objects of."""
    return {"/".join(k.split("/")[1:3]) for k in _zone_keys(lake, "curated")}


def _manifest(spark, lake):
    from segmentation.lake import LakePaths
    from segmentation.pipeline.curated import current_manifest

    return current_manifest(spark, LakePaths(lake, scheme="s3"), _ledger(lake))


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    cols = sorted(df.columns)
    return df[cols].sort_values(cols, na_position="last").reset_index(drop=True)


def _ledger(lake) -> Ledger:
    return Ledger(client("dynamodb", lake), lake.ledger_table)


def test_three_weekly_batches_equal_one_full_rebuild(lake, spark, batches, monkeypatch):
    write_catalog(lake, pq.read_table(batches[0] / "catalog.parquet").to_pandas())
    ends = [(ROOT.end_date + timedelta(days=7 * i)).isoformat() for i in range(3)]
    results = []
    for week, (batch, end) in enumerate(zip(batches, ends, strict=True), start=1):
        _land(lake, batch, week)
        common = {
            "lake_prefix": lake.lake_prefix,
            "snapshot_date": end,
            "run_id": f"week{week}",
            "compact_min_objects": "2",  # a day's objects from two weeks are compacted
        }
        if week == 3:
            # killed between writing its days and committing: nothing of it is visible, its lock
            # stays behind (a killed process releases nothing), a second run is refused with
            # the holder named, and the run's own re-run takes the lock over and finishes
            before = _sorted(read_curated(spark, lake).toPandas())
            version = _ledger(lake).head().version

            def killed(*args, **kwargs):
                raise RuntimeError("killed before the commit")

            with monkeypatch.context() as m:
                m.setattr(Ledger, "commit", killed)
                m.setattr(Ledger, "release", lambda self, owner: None)
                with pytest.raises(RuntimeError, match="killed"):
                    run_clean(common, spark)
            assert _ledger(lake).head().version == version
            pd.testing.assert_frame_equal(_sorted(read_curated(spark, lake).toPandas()), before)
            with pytest.raises(LedgerLocked, match="week3.*holds the ledger lock"):
                run_clean({**common, "run_id": "intruder"}, spark)
        results.append(run_clean(common, spark))
        features = {k: v for k, v in common.items() if k != "compact_min_objects"}
        run_features({**features, "window_days": WINDOW}, spark)

    # every run cleaned what was new, and found the copies of earlier weeks' events
    assert [r["noop"] for r in results] == [False, False, False]
    assert results[0]["version"] < results[1]["version"] < results[2]["version"]
    # compaction: crowded days became one object each, and the rows did not look new again
    names = _zone_keys(lake, "raw") + _zone_keys(lake, "hot")
    assert any("/compacted-" in n for n in names)
    per_day = Counter(n.rsplit("/", 1)[0] for n in names)
    assert max(per_day.values()) <= 2  # at most the compacted one + this week's new one
    assert all(r["duplicates"]["against_history"] > 0 for r in results[1:])
    assert results[1]["objects_new"] < results[1]["curated_rows"]
    curated = _sorted(read_curated(spark, lake).toPandas())
    assert curated["event_id"].dropna().is_unique
    features_uri = f"s3a://{lake.bucket('features')}/user_features/snapshot_date={ends[-1]}"
    incremental = spark.read.parquet(features_uri).toPandas()

    # nothing new: no object changes, the version stays, and it says so
    objects = _lake_objects(lake)
    again = run_clean(
        {"lake_prefix": lake.lake_prefix, "snapshot_date": ends[-1], "run_id": "again"}, spark
    )
    head = _ledger(lake).head().version
    assert again["noop"] and again["version"] == head and again["rows_in"] == 0
    assert _lake_objects(lake) == objects

    # one full rebuild over the same objects: the same curated rows, the same features
    before_rebuild = _manifest(spark, lake)
    rebuilt = run_clean(
        {
            "lake_prefix": lake.lake_prefix,
            "snapshot_date": ends[-1],
            "run_id": "rebuild",
            "rebuild": "true",
        },
        spark,
    )
    assert rebuilt["version"] == head + 1 and rebuilt["rebuild"]
    # the superseded day versions are gone (deleted in batches, not one S3A call each): what
    # is left is the rebuild's and the version before it, which a reader may still hold
    kept = {
        p["location"]
        for m in (before_rebuild, _manifest(spark, lake))
        for p in m.partitions.values()
    }
    assert _curated_locations(lake) == kept
    pd.testing.assert_frame_equal(_sorted(read_curated(spark, lake).toPandas()), curated)
    run_features(
        {
            "lake_prefix": lake.lake_prefix,
            "snapshot_date": ends[-1],
            "run_id": "rebuild",
            "window_days": WINDOW,
        },
        spark,
    )
    full = spark.read.parquet(features_uri).toPandas()
    key = "user_anon_id"
    pd.testing.assert_frame_equal(
        full.sort_values(key).reset_index(drop=True),
        incremental.sort_values(key).reset_index(drop=True),
    )
    # the quarantine holds each invalid row once: the weeks' counts add up to the rebuild's
    assert sum(r["quarantined"] for r in results) == rebuilt["quarantined"]
    assert rebuilt["totals"]["rows_in"] == sum(r["rows_in"] for r in results)


def test_a_redelivered_object_replaces_its_rows_and_touches_only_its_days(lake, spark):
    events = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(6)],
            "user_id": ["u1", "u2", "u1", "u3", "u2", "u1"],
            "timestamp": pd.to_datetime(
                ["2026-09-01T10:00Z"] * 2 + ["2026-09-05T10:00Z"] * 2 + ["2026-09-09T10:00Z"] * 2
            ),
            "event_type": "play",
            "content_id": "c1",
            "session_id": "s",
            "device": "tv",
            "country": "FR",
        }
    )
    write_events(lake, "raw", events, name="file-a")
    common = {"lake_prefix": lake.lake_prefix, "snapshot_date": "2026-09-30"}
    run_clean({**common, "run_id": "r1"}, spark)
    # the file is delivered again under the same key, one row changed, one gone
    fixed = events.drop(index=5).assign(device=lambda d: d["device"].where(d.index != 4, "web"))
    write_events(lake, "raw", fixed, name="file-a")
    s3 = boto3.client("s3", endpoint_url=lake.endpoint_url, region_name=lake.aws_region)
    s3.delete_object(Bucket=lake.bucket("raw"), Key="events/event_date=2026-09-09/file-a.parquet")
    write_events(lake, "raw", fixed[fixed.index < 4], name="file-a")  # the 09-09 day is now gone
    result = run_clean({**common, "run_id": "r2"}, spark)
    cur = read_curated(spark, lake).toPandas().set_index("event_id")
    assert sorted(cur.index) == ["e0", "e1", "e2", "e3"]
    assert result["objects_removed"] == 1 and result["objects_new"] == 2
    # days 09-01 and 09-05 (+-1) were rewritten; no day of the far past or future
    assert set(result["days_written"]) == {
        "2026-08-31",
        "2026-09-01",
        "2026-09-02",
        "2026-09-04",
        "2026-09-05",
        "2026-09-06",
        "2026-09-08",
        "2026-09-09",
        "2026-09-10",
    }


def test_copies_that_lose_to_cleaned_rows_rewrite_no_day(lake, spark):
    """A batch of later copies (exact and conflicting) of cleaned events changes no winner, so
    the days it touches keep their curated objects; a late new event rewrites its day +-1."""
    ts = pd.to_datetime(["2026-09-10T09:00Z", "2026-09-10T12:00Z", "2026-09-11T23:40Z"])
    first = pd.DataFrame(
        {
            "event_id": ["p0", "p1", "p2"],
            "user_id": ["u1", "u2", "u1"],
            "timestamp": ts,
            "event_type": ["purchase", "play", "purchase"],
            "amount": [4.99, None, 9.99],
            "content_id": "c1",
            "session_id": "s",
            "device": "tv",
            "country": "FR",
            "ingest_ts": pd.Timestamp("2026-09-12T00:00Z"),
        }
    )
    write_events(lake, "raw", first, name="first")
    common = {"lake_prefix": lake.lake_prefix, "snapshot_date": "2026-09-30"}
    run_clean({**common, "run_id": "c1"}, spark)
    before = _sorted(read_curated(spark, lake).toPandas())
    later = pd.Timestamp("2026-09-19T00:00Z")
    copies = pd.concat(
        [
            first.iloc[[0, 1]].assign(ingest_ts=later),  # exact copies, ingested a week later
            # a conflicting copy: same event_id, 30 min later (across midnight), another amount
            first.iloc[[2]].assign(
                timestamp=pd.Timestamp("2026-09-12T00:10Z"), amount=12.5, ingest_ts=later
            ),
        ]
    )
    write_events(lake, "hot", copies, source="kafka", name="copies")
    result = run_clean({**common, "run_id": "c2"}, spark)
    assert result["duplicates"]["against_history"] == 3
    assert result["days_written"] == [] and result["new_rows"] == 0
    pd.testing.assert_frame_equal(_sorted(read_curated(spark, lake).toPandas()), before)
    report = lakeio.read_json(spark, result["quality_report"])
    assert {"2026-09-10", "2026-09-11", "2026-09-12"} <= set(report["days_unchanged"])
    # a late event of a new id on 09-10: its day +-1 are rewritten, nothing else
    late = first.iloc[[1]].assign(event_id="p9", ingest_ts=later)
    write_events(lake, "hot", late, source="kafka", name="late")
    result = run_clean({**common, "run_id": "c3"}, spark)
    assert result["days_written"] == ["2026-09-09", "2026-09-10", "2026-09-11"]
    assert result["new_rows"] == 1
