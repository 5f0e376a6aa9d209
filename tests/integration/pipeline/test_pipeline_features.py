"""The features step on real local Spark equals the pandas reference on generated data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lakedata import ANON, read_curated, write_catalog, write_events

from segmentation.pipeline.features import COUNT_COLUMNS, FEATURE_COLUMNS
from segmentation.pipeline.steps import run_clean, run_features
from segmentation_local.synthetic import DefectRates, GenerateParams, generate
from segmentation_local.synthetic.reference_features import FEATURE_COLUMNS as REFERENCE_COLUMNS
from segmentation_local.synthetic.reference_features import compute_features

pytestmark = [pytest.mark.spark, pytest.mark.moto]

SNAPSHOT = "2026-09-30"


def _run(lake, spark, params: GenerateParams) -> tuple[pd.DataFrame, dict, object]:
    ds = generate(params)
    write_events(lake, "raw", ds.events.to_pandas())
    write_catalog(lake, ds.catalog.to_pandas())
    common = {"lake_prefix": lake.lake_prefix, "snapshot_date": SNAPSHOT}
    cleaned = run_clean({**common, "run_id": "f1"}, spark)
    result = run_features({**common, "window_days": str(params.days)}, spark)
    feats = spark.read.parquet(result["output"]).toPandas().set_index("user_anon_id").sort_index()
    return feats, {"clean": cleaned, "features": result}, ds


def _reference(events: pd.DataFrame, catalog: pd.DataFrame, days: int) -> pd.DataFrame:
    snapshot = pd.Timestamp(SNAPSHOT, tz="UTC") + pd.Timedelta(days=1)
    ref = compute_features(events, catalog, snapshot.to_pydatetime(), days)
    ref.index = ref.index.map(lambda u: u if len(u) == 64 else ANON.anon(u))
    return ref.sort_index()


def test_feature_columns_are_the_references():
    assert FEATURE_COLUMNS == REFERENCE_COLUMNS


def test_features_equal_pandas_reference_on_clean_data(lake, spark):
    params = GenerateParams(users=150, days=10, catalog_size=80, seed=3, defects=DefectRates.none())
    feats, results, ds = _run(lake, spark, params)
    assert results["clean"]["quarantined"] == 0 and results["clean"]["rows_out"] == len(ds.events)

    ref = _reference(ds.events.to_pandas(), ds.catalog.to_pandas(), params.days)
    assert list(feats.columns) == [*FEATURE_COLUMNS, *COUNT_COLUMNS]
    assert feats.index.equals(ref.index)
    assert results["features"]["users"] == len(ref)
    np.testing.assert_allclose(
        feats.to_numpy(), ref[[*FEATURE_COLUMNS, *COUNT_COLUMNS]].to_numpy(), rtol=1e-9, atol=1e-9
    )
    assert (ref["unique_genres"] > 0).any() and (ref["monetary"] > 0).any()


def test_features_equal_reference_on_cleaned_defective_data(lake, spark):
    """With defects injected, Spark features equal the reference applied to the curated events."""
    params = GenerateParams(users=120, days=10, catalog_size=60, seed=11)
    feats, results, ds = _run(lake, spark, params)
    assert results["clean"]["duplicates"]["exact"] > 0
    assert results["clean"]["quarantined"] > 0

    cur = read_curated(spark, lake).toPandas()  # all of it: the reference applies the window
    cur = cur.rename(columns={"user_anon_id": "user_id", "event_ts": "timestamp"})
    ref = _reference(cur, ds.catalog.to_pandas(), params.days)
    assert feats.index.equals(ref.index)
    np.testing.assert_allclose(
        feats.to_numpy(), ref[[*FEATURE_COLUMNS, *COUNT_COLUMNS]].to_numpy(), rtol=1e-9, atol=1e-9
    )
    assert not feats.isna().any().any()


def test_distinct_counts_span_bitmap_words(spark):
    """active_days and unique_genres are bitmaps of 64-bit words: a window of 130 days and a
    catalog of 70 genres need three and two words; bits on both sides of each word boundary
    count once, unknown content and non-play events add no genre, and events outside the
    window add no day. A content listed twice in the catalog counts once."""
    from datetime import UTC, datetime, timedelta

    from segmentation.pipeline.clean import window_bounds
    from segmentation.pipeline.features import compute_features as spark_features

    start, end = window_bounds(datetime(2026, 9, 30).date(), 130)
    day0 = datetime.fromtimestamp(start, UTC)
    catalog = spark.createDataFrame(
        # c00 listed twice (the first listing counts: no second genre, no doubled plays) and
        # cxx without a genre (unknown)
        [(f"c{i:02d}", f"g{i:02d}") for i in range(70)] + [("c00", "g01"), ("cxx", None)],
        "content_id string, genre string",
    )
    rows = [
        # (day offset, hour, event_type, content_id)
        (0, 10, "play", "c00"),
        (0, 11, "play", "c00"),  # same day, same genre: counted once
        (63, 10, "play", "c63"),
        (64, 10, "play", "c64"),
        (127, 10, "play", "c69"),
        (128, 10, "play", "cxx"),  # not in the catalog: a day, no genre
        (129, 20, "search", "c05"),  # not a play: a day, no genre; the one evening event
        (130, 10, "play", "c10"),  # the day after the window: nothing
        (-1, 10, "play", "c11"),  # the day before the window: nothing
    ]
    events = spark.createDataFrame(
        [
            ("u1", day0 + timedelta(days=d, hours=h), et, 0.0, f"s{d}", cid)
            for d, h, et, cid in rows
        ],
        "user_anon_id string, event_ts timestamp, event_type string, amount double, "
        "session_id string, content_id string",
    )
    got = spark_features(events, catalog, (start, end)).toPandas().set_index("user_anon_id")
    assert got.loc["u1", "active_days"] == 6.0  # days 0, 63, 64, 127, 128, 129
    assert got.loc["u1", "frequency"] == 6.0
    assert got.loc["u1", "unique_genres"] == 4.0  # g00, g63, g64, g69
    assert got.loc["u1", "evening_share"] == pytest.approx(1 / 7)  # 7 events in the window


def test_a_missing_catalog_is_a_warning_the_run_reports(lake, spark):
    import json

    import boto3

    ds = generate(GenerateParams(users=40, days=7, catalog_size=50, seed=5))
    write_events(lake, "raw", ds.events.to_pandas())  # no catalog uploaded
    common = {"lake_prefix": lake.lake_prefix, "snapshot_date": SNAPSHOT, "run_id": "w1"}
    run_clean(common, spark)
    result = run_features({**common, "window_days": "7"}, spark)
    assert any("no catalog" in w and "unique_genres is 0" in w for w in result["warnings"])
    feats = spark.read.parquet(result["output"]).toPandas()
    assert (feats["unique_genres"] == 0).all()
    body = boto3.client("s3", endpoint_url=lake.endpoint_url).get_object(
        Bucket=lake.bucket("features"), Key="reports/run_id=w1/report.json"
    )["Body"]
    assert json.loads(body.read())["warnings"] == result["warnings"]


def test_the_features_read_prunes_curated_to_the_window_on_both_bounds(lake, spark):
    """Only the window's days are read: the days before it and after the snapshot (curated
    holds the whole history) are neither listed nor scanned, as the physical plan shows."""
    from lakedata import read_curated as read_committed

    ds = generate(GenerateParams(users=30, days=10, catalog_size=50, seed=8))
    write_events(lake, "raw", ds.events.to_pandas())
    run_clean({"lake_prefix": lake.lake_prefix, "snapshot_date": SNAPSHOT, "run_id": "p"}, spark)
    first, last = "2026-09-25", "2026-09-27"  # three days inside the data set's ten
    df = read_committed(spark, lake, first, last)
    scan = df._jdf.queryExecution().sparkPlan().collectLeaves().apply(0)
    filters = scan.partitionFilters().toString()
    assert f">= {first}" in filters and f"<= {last}" in filters
    assert scan.relation().location().rootPaths().size() == 3  # the window's days only
    files = {
        r[0].split("/event_date=")[1].split("/")[0]
        for r in df.selectExpr("input_file_name()").distinct().collect()
    }
    assert files == {"2026-09-25", "2026-09-26", "2026-09-27"}
