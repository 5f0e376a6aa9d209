"""`segmentation backtest` on the moto lake: a purchase-only data set cleaned, featured and
clustered up to a snapshot, then scored on the 28 days after it against the RFM cells."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import mlflow
import pytest
from lakedata import write_events

from segmentation.pipeline.steps import run_clean, run_cluster, run_features
from segmentation_local.cli import main
from segmentation_local.synthetic.purchases import purchase_events

pytestmark = [pytest.mark.spark, pytest.mark.moto, pytest.mark.slow]

SNAPSHOT = "2026-09-30"


def test_the_backtest_prints_both_tables(lake, spark, tmp_path, capsys) -> None:
    events = purchase_events(users=800, days=150, seed=5, end=datetime(2026, 10, 29, tzinfo=UTC))
    write_events(lake, "raw", events.drop(columns=["session_id"]))
    common = {"lake_prefix": lake.lake_prefix}
    run_clean({**common, "snapshot_date": "2026-10-28", "run_id": "b0"}, spark)
    run_features({**common, "snapshot_date": SNAPSHOT, "window_days": "120"}, spark)
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    mlflow.MlflowClient(uri).create_experiment("bt", artifact_location=str(tmp_path / "art"))
    cluster = run_cluster(
        {
            **common,
            "snapshot_date": SNAPSHOT,
            "run_id": "b1",
            "register_model": "false",
            "mlflow_tracking_uri": uri,
            "mlflow_experiment": "bt",
            "sample_size": "800",
        },
        spark,
    )
    # purchase-only: the viewing and clock features are left out, names carry no number
    assert {"avg_session_minutes", "completion_rate", "morning_share"} <= set(
        cluster["features_left_out"]
    )
    names = [s["name"] for s in cluster["segments"]]
    assert len(set(names)) == len(names) and not any(c.isdigit() for n in names for c in n)
    assert all(s["size"] >= cluster["segment_floor"] for s in cluster["segments"])

    argv = ["backtest", "--snapshot-date", SNAPSHOT, "--horizon-days", "28"]
    assert main([*argv, "--lake-prefix", lake.lake_prefix]) == 0
    text = capsys.readouterr().out
    assert f"model version {cluster['model_version']}" in text
    assert "out-of-sample variance explained" in text
    assert "segments: per group" in text and "RFM 5x5x5: per group" in text
    assert main([*argv, "--lake-prefix", lake.lake_prefix, "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    seg, rfm = figures["groupings"]
    assert seg["groups"] == len(cluster["segments"]) and rfm["groups"] > seg["groups"]
    assert 0 < figures["overall"]["came_back"] < 1
    # the horizon's buyers: repeat customers bought again far more than one-time buyers
    table = {row["group"]: row for row in seg["table"]}
    if "repeat buyers" in table and "one-time buyers" in table:
        assert table["repeat buyers"]["bought_again"] > table["one-time buyers"]["bought_again"]
    assert (
        main(["backtest", "--snapshot-date", "2026-08-31", "--lake-prefix", lake.lake_prefix]) == 2
    )
    assert "no model version of snapshot 2026-08-31" in capsys.readouterr().out
