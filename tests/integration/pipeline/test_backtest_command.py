"""`segmentation backtest` and the backtest step on the moto lake: a purchase-only data set
cleaned, featured and clustered up to a snapshot, then scored on the 28 days after it against the
RFM cells (the command prints the tables; the step logs them to MLflow and writes them to the
lake beside the version's profiles)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import mlflow
import pytest
from lakedata import s3, write_events

from segmentation.awsclients import client
from segmentation.ledger import ensure_table
from segmentation.pipeline.steps import run_backtest, run_clean, run_cluster, run_features
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

    # the step (what the state machine runs): snapshot_date is the horizon's end
    version = cluster["model_version"]
    step = run_backtest(
        {
            **common,
            "snapshot_date": "2026-11-02",  # the newest version at least 28 days older: 09-30
            "run_id": "b2",
            "horizon_days": "28",
            "mlflow_tracking_uri": uri,
            "mlflow_experiment": "bt",
        },
        spark,
    )
    assert step["model_version"] == version and step["snapshot_date"] == SNAPSHOT
    assert step["horizon"] == ["2026-10-01", "2026-10-28"] and step["horizon_days"] == 28
    assert step["horizon_days_with_events"] == 28
    assert step["groups"] == {"segments": seg["groups"], "rfm": rfm["groups"]}
    assert step["r2"]["segments"] == seg["r2"] and step["r2"]["rfm"] == rfm["r2"]  # same seed
    report = json.loads(read_text(lake, step["report"]))
    assert step["report"].endswith(f"profiles/model_version={version}/backtest-28d.json")
    assert report["model_version"] == version and report["mlflow_run_id"] == step["mlflow_run_id"]
    assert [g["name"] for g in report["groupings"]] == ["segments", "RFM 5x5x5"]
    assert report["groupings"][0]["table"] == json.loads(json.dumps(seg["table"]))
    run = mlflow.MlflowClient(uri).get_run(step["mlflow_run_id"])
    assert run.data.tags["model_version"] == version and run.data.tags["pipeline_run_id"] == "b2"
    assert run.data.metrics["r2_segments_bought_again"] == pytest.approx(
        step["r2"]["segments"]["bought_again"]
    )
    assert run.data.metrics["groups_rfm"] == rfm["groups"]
    assert "user_anon_id" not in json.dumps(report)  # aggregates only

    # a given version too young for the horizon, and a ledger with nothing committed: refused
    with pytest.raises(ValueError, match=f"model version {version} is of snapshot {SNAPSHOT}"):
        run_backtest(
            {**common, "snapshot_date": "2026-10-20", "model_version": version, "mlflow": "no"},
            spark,
        )
    empty = lake.model_copy(update={"ledger_table": f"{lake.lake_prefix}-empty-ledger"})
    ensure_table(client("dynamodb", empty), empty)
    with pytest.raises(ValueError, match="no curated events in 2026-10-01 .. 2026-10-28"):
        run_backtest(
            {
                **common,
                "snapshot_date": "2026-11-02",
                "ledger_table": empty.ledger_table,
                "mlflow": "false",
            },
            spark,
        )


def read_text(settings, uri: str) -> str:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return s3(settings).get_object(Bucket=bucket, Key=key)["Body"].read().decode()
