"""The features step on real local Spark equals the pandas reference on generated data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lakedata import ANON, write_catalog, write_events

from segmentation.pipeline.features import FEATURE_COLUMNS
from segmentation.pipeline.steps import run_clean, run_features
from segmentation.synthetic import DefectRates, GenerateParams, generate
from segmentation.synthetic.reference_features import FEATURE_COLUMNS as REFERENCE_COLUMNS
from segmentation.synthetic.reference_features import compute_features

pytestmark = [pytest.mark.spark, pytest.mark.moto]

SNAPSHOT = "2026-09-30"


def _run(lake, spark, params: GenerateParams) -> tuple[pd.DataFrame, dict, object]:
    ds = generate(params)
    write_events(lake, "raw", ds.events.to_pandas())
    write_catalog(lake, ds.catalog.to_pandas())
    common = {
        "lake_prefix": lake.lake_prefix,
        "snapshot_date": SNAPSHOT,
        "window_days": str(params.days),
    }
    cleaned = run_clean({**common, "run_id": "f1"}, spark)
    result = run_features(common, spark)
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
    assert list(feats.columns) == list(FEATURE_COLUMNS)
    assert feats.index.equals(ref.index)
    assert results["features"]["users"] == len(ref)
    np.testing.assert_allclose(
        feats.to_numpy(), ref[list(FEATURE_COLUMNS)].to_numpy(), rtol=1e-9, atol=1e-9
    )
    assert (ref["unique_genres"] > 0).any() and (ref["monetary"] > 0).any()


def test_features_equal_reference_on_cleaned_defective_data(lake, spark):
    """With defects injected, Spark features equal the reference applied to the curated events."""
    params = GenerateParams(users=120, days=10, catalog_size=60, seed=11)
    feats, results, ds = _run(lake, spark, params)
    assert results["clean"]["duplicates"]["exact"] > 0
    assert results["clean"]["quarantined"] > 0

    cur = spark.read.parquet(results["clean"]["output"]).toPandas()
    cur = cur.rename(columns={"user_anon_id": "user_id", "event_ts": "timestamp"})
    ref = _reference(cur, ds.catalog.to_pandas(), params.days)
    assert feats.index.equals(ref.index)
    np.testing.assert_allclose(
        feats.to_numpy(), ref[list(FEATURE_COLUMNS)].to_numpy(), rtol=1e-9, atol=1e-9
    )
    assert not feats.isna().any().any()
