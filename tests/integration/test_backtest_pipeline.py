"""The backtest from the state machine input, on moto: the local run of the real definition with
``backtest_horizon_days``, the steps on local Spark, the Lambdas' handlers.

A small generated data set is ingested and run for its last day with a 7-day backtest: the only
model version is that run's own, too young, so the backtest fails the run after publish (retried,
notified). Its continuation (the next 7 days) is ingested and run a week later: the backtest now
takes the first run's version and scores it on the continuation's days; the result is in the
execution output, an MLflow run (and the registered version's tags) and the lake's JSON report.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pipeline_stack import ingest_landing, pipeline_settings

from segmentation.awsclients import client
from segmentation.config import Settings

pytestmark = [pytest.mark.slow, pytest.mark.spark, pytest.mark.moto]
USERS, DAYS, HORIZON = 300, 21, 7


@pytest.fixture
def lake_env(moto_env: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Settings]:
    with pipeline_settings(monkeypatch, tmp_path, "seg-bt", "bt") as settings:
        yield settings


def _ingest(settings: Settings, dataset: Path, name: str, catalog: bool) -> None:
    ingest_landing(
        settings,
        dataset / "events.parquet",
        f"incoming/{name}.parquet",
        dataset / "catalog.parquet" if catalog else None,
    )


def _run(settings: Settings, payload: dict[str, Any], name: str) -> tuple[Any, Any]:
    from segmentation_local.orchestration.asl import local_values
    from segmentation_local.orchestration.local_runner import LocalDispatcher, run_pipeline

    dispatcher = LocalDispatcher.from_values(settings, local_values(settings))
    result = run_pipeline(
        payload, settings, execution_name=name, dispatcher=dispatcher, progress=False
    )
    return result, dispatcher


def test_the_state_machine_backtests_an_older_version_on_the_days_since(
    lake_env: Settings, tmp_path: Path
) -> None:
    import mlflow

    from segmentation.lake import LakePaths
    from segmentation.serving.table import CURRENT_KEY
    from segmentation_local.bootstrap import provision
    from segmentation_local.synthetic.params import ContinueParams, GenerateParams
    from segmentation_local.synthetic.service import continue_to, generate_to

    settings = lake_env
    params = GenerateParams(users=USERS, days=DAYS, seed=7, catalog_size=50)
    generate_to(params, tmp_path / "w1")
    continue_to(tmp_path / "w1", ContinueParams(days=HORIZON), tmp_path / "w2")
    provision(settings)
    _ingest(settings, tmp_path / "w1", "w1", catalog=True)
    first_day = params.end_date.isoformat()  # 2026-09-30
    common = {"window_days": DAYS, "k": 3, "backtest_horizon_days": HORIZON}

    # 1. the first run's own version is the only one: too young for a 7-day horizon
    first, dispatcher = _run(settings, {**common, "snapshot_date": first_day}, "bt-1")
    assert first.status == "FAILED" and first.error == "PipelineFailed"
    assert "no model version of snapshot 2026-09-23 or earlier" in first.cause
    attempts = {s.name: s.attempts for s in first.states}
    assert attempts["PublishSegments"] == 1 and attempts["BacktestSegments"] == 2
    assert first.path[-3:] == ["BacktestSegments", "NotifyFailure", "PipelineFailed"]
    assert "bt-1" in dispatcher.notifications[-1]["Message"]
    pointer = client("dynamodb", settings).get_item(
        TableName=settings.segments_table, Key={k: {"S": v} for k, v in CURRENT_KEY.items()}
    )["Item"]
    published = pointer["model_version"]["S"]  # publish had happened before the backtest

    # 2. a week later, with the continuation ingested: the first version, on the week since
    _ingest(settings, tmp_path / "w2", "w2", catalog=False)
    second, _ = _run(settings, {**common, "snapshot_date": "2026-10-07"}, "bt-2")
    assert second.status == "SUCCEEDED", (second.error, second.cause)
    assert second.path[-3:] == ["BacktestWanted", "BacktestSegments", "Summarise"]
    job = second.output["steps"]["backtest"]
    assert job["state"] == "SUCCEEDED" and job["job_run_id"].startswith("jr_local_")
    assert second.output["model_version"] != published  # the week's own version published

    uri = LakePaths(settings).backtest_report(published, HORIZON)
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    report = json.loads(client("s3", settings).get_object(Bucket=bucket, Key=key)["Body"].read())
    assert report["model_version"] == published and report["snapshot_date"] == first_day
    assert report["horizon"] == ["2026-10-01", "2026-10-07"] and report["horizon_days"] == 7
    assert report["run_id"] == "bt-2"
    assert report["horizon_days_with_events"] == HORIZON
    assert 0 < report["overall"]["came_back"] < 1
    assert report["groups"]["segments"] == 3 and report["groups"]["rfm"] > 3
    for grouping in ("segments", "rfm"):
        assert set(report["r2"][grouping]) == {"came_back", "bought_again", "spend", "churned"}
        assert report["r2"][grouping]["came_back"] is not None
    assert {g["name"] for g in report["groupings"]} == {"segments", "RFM 5x5x5"}
    assert "user_anon_id" not in json.dumps(report)

    tracking = mlflow.MlflowClient(settings.mlflow_tracking_uri)
    run = tracking.get_run(report["mlflow_run_id"])
    assert run.data.tags["kind"] == "backtest" and run.data.tags["model_version"] == published
    assert run.data.tags["pipeline_run_id"] == "bt-2"
    assert run.data.metrics["r2_segments_came_back"] == pytest.approx(
        report["r2"]["segments"]["came_back"]
    )
    registered, number = published.rsplit("-v", 1)
    tags = tracking.get_model_version(registered, number).tags
    assert tags["backtest_7d_run_id"] == report["mlflow_run_id"]
