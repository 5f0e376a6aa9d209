"""The pipeline's ASL template: its variables, that it renders to valid ASL, and statelint."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from segmentation.config import Settings
from segmentation_local.orchestration.asl import (
    PIPELINE_ASL,
    TEMPLATE_VARIABLES,
    local_values,
    render_definition,
    render_template,
)

STATELINT = Path(sys.executable).with_name("statelint")


def test_template_uses_exactly_the_terraform_variables() -> None:
    used = set(re.findall(r"\$\{(\w+)\}", PIPELINE_ASL.read_text()))
    assert used == set(TEMPLATE_VARIABLES)


@pytest.mark.parametrize("values", ["local", "aws"])
def test_rendered_definition_passes_statelint(tmp_path: Path, values: str) -> None:
    if values == "local":
        vals = local_values(Settings())
    else:  # shapes a real deployment passes
        vals = {
            "glue_clean_job_name": "segmentation-prod-clean",
            "glue_features_job_name": "segmentation-prod-features",
            "glue_backtest_job_name": "segmentation-prod-backtest",
            "emr_application_id": "00fabcdefgh12345",
            "emr_job_role_arn": "arn:aws:iam::111122223333:role/segmentation-ml",
            "emr_cluster_entry_point": "s3://segmentation-prod-artifacts/emr_steps/cluster.py",
            "emr_spark_submit_parameters": "--conf spark.executor.memory=4g "
            "--conf spark.submit.pyFiles=s3://segmentation-prod-artifacts/segmentation.zip",
            "publish_function_arn": "arn:aws:lambda:eu-west-1:111122223333:function:publish",
            "validate_input_function_arn": (
                "arn:aws:lambda:eu-west-1:111122223333:function:validate-input"
            ),
            "monitor_function_arn": "arn:aws:lambda:eu-west-1:111122223333:function:monitor",
            "notify_topic_arn": "arn:aws:sns:eu-west-1:111122223333:segmentation-alerts",
            "lake_prefix": "segmentation-prod",
            "mlflow_tracking_uri": "http://mlflow.internal:5000",
        }
    definition = render_definition(vals)
    out = tmp_path / "asl.json"
    out.write_text(json.dumps(definition))
    proc = subprocess.run([str(STATELINT), str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "${" not in out.read_text()


def test_statelint_rejects_a_broken_definition(tmp_path: Path) -> None:
    """Guards the test above: statelint really reports problems (so a pass means something)."""
    definition = render_definition(local_values(Settings()))
    del definition["States"]["CleanEvents"]["Next"]
    out = tmp_path / "bad.json"
    out.write_text(json.dumps(definition))
    proc = subprocess.run([str(STATELINT), str(out)], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "CleanEvents" in proc.stdout + proc.stderr


def test_every_task_retries_with_backoff_and_is_caught() -> None:
    states = render_definition(local_values(Settings()))["States"]
    tasks = {n: s for n, s in states.items() if s["Type"] == "Task"}
    assert set(tasks) == {
        "CleanEvents",
        "BuildFeatures",
        "ClusterUsers",
        "MonitorRun",
        "PublishSegments",
        "BacktestSegments",
        "ValidateInput",
        "NotifyFailure",
    }
    for name, task in tasks.items():
        assert task["Retry"], name
        for retrier in task["Retry"]:
            assert retrier["BackoffRate"] > 1 and retrier["IntervalSeconds"] >= 1, name
        assert any("States.ALL" in c["ErrorEquals"] for c in task["Catch"]), name
        if name != "NotifyFailure":
            assert task["Catch"][0]["Next"] == "NotifyFailure"
            assert "ResultSelector" in task, name  # keep the execution history small
    assert states["NotifyFailure"]["Resource"] == "arn:aws:states:::sns:publish"
    assert states["PipelineFailed"]["Type"] == "Fail"


def test_the_monitor_gates_publish_after_clustering() -> None:
    """MonitorRun: its own Lambda Task between ClusterUsers and PublishSegments, invoking the
    monitor function with the run and its drift gate; publish receives the monitor's flip."""
    values = local_values(Settings())
    states = render_definition(values)["States"]
    assert states["ClusterUsers"]["Next"] == "MonitorRun"
    monitor = states["MonitorRun"]
    assert monitor["Resource"] == "arn:aws:states:::lambda:invoke"
    assert monitor["Next"] == "PublishSegments"
    assert monitor["Parameters"]["FunctionName"] == values["monitor_function_arn"]
    assert monitor["Parameters"]["Payload"] == {
        "lake_prefix": values["lake_prefix"],
        "run_id.$": "$.params.run_id",
        "drift_gate.$": "$.params.drift_gate",
    }
    assert monitor["ResultPath"] == "$.steps.monitor"
    assert monitor["ResultSelector"]["flip.$"] == "$.Payload.flip"
    publish = states["PublishSegments"]["Parameters"]
    assert publish["FunctionName"] == values["publish_function_arn"]
    assert publish["Payload"]["flip.$"] == "$.steps.monitor.flip"


def test_the_backtest_runs_after_publish_only_when_asked() -> None:
    """BacktestWanted: after PublishSegments, a Choice on backtest_horizon_days (> 0) leads to
    the backtest's Glue job, which hands the run's day as the horizon's end; else Summarise."""
    values = local_values(Settings())
    states = render_definition(values)["States"]
    assert states["PublishSegments"]["Next"] == "BacktestWanted"
    wanted = states["BacktestWanted"]
    assert wanted["Type"] == "Choice" and wanted["Default"] == "Summarise"
    assert wanted["Choices"] == [
        {
            "Variable": "$.params.backtest_horizon_days",
            "NumericGreaterThan": 0,
            "Next": "BacktestSegments",
        }
    ]
    task = states["BacktestSegments"]
    assert task["Resource"] == "arn:aws:states:::glue:startJobRun.sync"
    assert task["Parameters"]["JobName"] == values["glue_backtest_job_name"]
    assert task["Parameters"]["Arguments"] == {
        "--lake_prefix": values["lake_prefix"],
        "--run_id.$": "$.params.run_id",
        "--snapshot_date.$": "$.params.snapshot_date",
        "--horizon_days.$": "States.Format('{}', $.params.backtest_horizon_days)",
        "--mlflow_tracking_uri": values["mlflow_tracking_uri"],
    }
    assert task["ResultPath"] == "$.steps.backtest" and task["Next"] == "Summarise"
    # retried and caught as the other Glue jobs are
    assert task["Retry"] == states["CleanEvents"]["Retry"]
    assert task["Catch"] == states["CleanEvents"]["Catch"]


def test_render_template_is_strict() -> None:
    assert render_template("a $${b} ${c}", {"c": "x"}) == "a ${b} x"
    with pytest.raises(ValueError, match="without a value: c"):
        render_template("${c}", {})
    with pytest.raises(ValueError, match="directive"):
        render_template("%{ if x }y%{ endif }", {})
    with pytest.raises(ValueError, match="unknown template variables"):
        render_definition({"nope": "x"})


def test_a_value_that_breaks_json_is_reported() -> None:
    vals = local_values(Settings())
    vals["lake_prefix"] = 'bad"prefix'
    with pytest.raises(ValueError, match="not JSON"):
        render_definition(vals)
