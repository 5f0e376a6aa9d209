"""The local executions recorder answers Step Functions' calls in Step Functions' shapes.

The pipeline's real definition runs through the local runner with scripted task outcomes (the
state machine tests' Script); every answer is checked against botocore's output shape of that
operation, and the runs route's history reading (serving.runs.states_from_history) is applied to
it, as the console does on AWS.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator
from test_state_machine import HAPPY, Script

from segmentation.config import Settings
from segmentation.serving.runs import execution_arn, states_from_history
from segmentation_local.orchestration.executions import (
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    LocalExecutions,
)
from segmentation_local.orchestration.local_runner import run_pipeline

MODEL = botocore.session.get_session().get_service_model("stepfunctions")
SETTINGS = Settings(lake_prefix="unit")


def check_shape(operation: str, answer: dict[str, Any]) -> None:
    """``answer`` is valid as the output of ``operation`` (types, required members)."""
    shape = MODEL.operation_model(operation).output_shape
    report = ParamValidator().validate(answer, shape)
    assert not report.has_errors(), report.generate_report()


def runner_with(script: Script, gate: threading.Event | None = None) -> Any:
    def run(execution_input: dict[str, Any], name: str, on_state: Any) -> Any:
        if gate is not None:
            gate.wait(10)
        return run_pipeline(
            execution_input, SETTINGS, execution_name=name, dispatcher=script, on_state=on_state
        )

    return run


def test_a_run_is_recorded_as_step_functions_records_it(tmp_path: Path) -> None:
    local = LocalExecutions(tmp_path, SETTINGS, runner=runner_with(Script()))
    started = local.start_execution(
        stateMachineArn=local.machine_arn, name="run-1", input=json.dumps({"k": 4})
    )
    check_shape("StartExecution", started)
    local.wait(30)
    arn = execution_arn(local.machine_arn, "run-1")
    assert started["executionArn"] == arn

    listing = local.list_executions(stateMachineArn=local.machine_arn)
    check_shape("ListExecutions", listing)
    assert [(e["name"], e["status"]) for e in listing["executions"]] == [("run-1", "SUCCEEDED")]

    described = local.describe_execution(executionArn=arn)
    check_shape("DescribeExecution", described)
    assert json.loads(described["input"]) == {"k": 4}
    assert json.loads(described["output"])["steps"]["publish"]["model_version"]

    history = local.get_execution_history(executionArn=arn, maxResults=1000)
    check_shape("GetExecutionHistory", history)
    kinds = [e["type"] for e in history["events"]]
    assert kinds[0] == "ExecutionStarted" and kinds[-1] == "ExecutionSucceeded"
    visits = states_from_history(history["events"])
    assert [v.name for v in visits] == [
        "KMeansGivenK" if name == "KMeansAutoK" else name for name in HAPPY
    ]
    assert all(v.status == "succeeded" and v.duration_s is not None for v in visits)
    assert [v.step for v in visits if v.step] == [
        "clean",
        "features",
        "cluster",
        "monitor",
        "publish",
    ]


def test_history_pages_with_next_token(tmp_path: Path) -> None:
    local = LocalExecutions(tmp_path, SETTINGS, runner=runner_with(Script()))
    local.start_execution(stateMachineArn=local.machine_arn, name="paged")
    local.wait(30)
    arn = execution_arn(local.machine_arn, "paged")
    whole = local.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    first = local.get_execution_history(executionArn=arn, maxResults=5)
    rest = local.get_execution_history(executionArn=arn, maxResults=1000, nextToken="5")
    assert first["nextToken"] == "5"
    assert [e["id"] for e in first["events"] + rest["events"]] == [e["id"] for e in whole]


def test_a_failed_run_says_why_state_by_state(tmp_path: Path) -> None:
    # clean fails every attempt: its retries, then the catch -> notify -> fail path
    script = Script({"unit-clean": ["States.TaskFailed"] * 10})
    local = LocalExecutions(tmp_path, SETTINGS, runner=runner_with(script))
    local.start_execution(stateMachineArn=local.machine_arn, name="broken")
    local.wait(30)
    arn = execution_arn(local.machine_arn, "broken")
    described = local.describe_execution(executionArn=arn)
    check_shape("DescribeExecution", described)
    assert described["status"] == "FAILED" and described["error"]
    history = local.get_execution_history(executionArn=arn, maxResults=1000)
    check_shape("GetExecutionHistory", history)
    assert "TaskFailed" in [e["type"] for e in history["events"]]
    assert history["events"][-1]["type"] == "ExecutionFailed"
    clean = next(v for v in states_from_history(history["events"]) if v.step == "clean")
    assert clean.status == "caught" and clean.error == "States.TaskFailed"
    assert "scripted failure" in (clean.cause or "")


def test_one_run_at_a_time_and_unknown_ids(tmp_path: Path) -> None:
    gate = threading.Event()
    local = LocalExecutions(tmp_path, SETTINGS, runner=runner_with(Script(), gate))
    local.start_execution(stateMachineArn=local.machine_arn, name="first")
    running = local.list_executions(stateMachineArn=local.machine_arn, statusFilter="RUNNING")
    assert [e["name"] for e in running["executions"]] == ["first"]
    with pytest.raises(ExecutionAlreadyExists):
        local.start_execution(stateMachineArn=local.machine_arn, name="second")
    gate.set()
    local.wait(30)
    with pytest.raises(ExecutionAlreadyExists):  # names are unique per state machine
        local.start_execution(stateMachineArn=local.machine_arn, name="first")
    with pytest.raises(ExecutionDoesNotExist):
        local.describe_execution(executionArn=execution_arn(local.machine_arn, "nope"))


def test_runs_survive_a_restart_and_a_dead_one_reads_aborted(tmp_path: Path) -> None:
    local = LocalExecutions(tmp_path, SETTINGS, runner=runner_with(Script()))
    local.start_execution(stateMachineArn=local.machine_arn, name="done")
    local.wait(30)
    # a run whose process died mid-way: RUNNING on disk, no thread
    record = json.loads((tmp_path / "done.json").read_text())
    record.update(name="orphan", status="RUNNING", stopDate=None)
    record["executionArn"] = execution_arn(local.machine_arn, "orphan")
    record["events"] = record["events"][:3]
    (tmp_path / "orphan.json").write_text(json.dumps(record))

    again = LocalExecutions(tmp_path, SETTINGS)
    statuses = {
        e["name"]: e["status"]
        for e in again.list_executions(stateMachineArn=again.machine_arn)["executions"]
    }
    assert statuses == {"done": "SUCCEEDED", "orphan": "ABORTED"}
    history = again.get_execution_history(executionArn=record["executionArn"])
    check_shape("GetExecutionHistory", history)
    assert history["events"][-1]["type"] == "ExecutionAborted"


def test_a_retried_task_that_then_succeeds_reads_succeeded(tmp_path: Path) -> None:
    script = Script({"unit-clean": ["States.TaskFailed"]})  # one failed attempt, then success
    local = LocalExecutions(tmp_path, SETTINGS, runner=runner_with(script))
    local.start_execution(stateMachineArn=local.machine_arn, name="retried")
    local.wait(30)
    arn = execution_arn(local.machine_arn, "retried")
    history = local.get_execution_history(executionArn=arn, maxResults=1000)
    check_shape("GetExecutionHistory", history)
    clean_events = [e["type"] for e in history["events"] if e["type"].startswith("Task")]
    assert "TaskFailed" in clean_events and "TaskSucceeded" in clean_events
    clean = next(v for v in states_from_history(history["events"]) if v.step == "clean")
    assert (clean.status, clean.error) == ("succeeded", None)
    assert local.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"
