"""The same rendered definition on a second interpreter: moto's Step Functions engine.

Moto executes Pass/Choice/Fail and SNS tasks; its Glue ``.sync`` integration always fails
(``'NoneType' object has no attribute 'interrupt_all'`` in moto 5.2), which here serves as the
injected task failure. Each case must take the same path,
with the same error and cause, as the local interpreter does.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from segmentation.config import Settings
from segmentation_local.orchestration.asl import local_values, render_definition
from segmentation_local.orchestration.errors import StatesError
from segmentation_local.orchestration.interpreter import StateMachine

pytestmark = pytest.mark.moto
VALUES = local_values(Settings())
DEFINITION = render_definition(VALUES)
# Retry waits shortened to 1 s (moto sleeps them for real); attempts and order are unchanged.
for _state in DEFINITION["States"].values():
    for _retrier in _state.get("Retry", []):
        _retrier["IntervalSeconds"] = 1


@pytest.fixture
def sfn(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    from moto import mock_aws
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    original = ExecutionWorker._get_evaluation_environment

    def iso_start_time(self: Any) -> Any:
        # AWS hands the context object's Execution.StartTime over as an ISO-8601 string; moto
        # 5.2 passes a datetime, which breaks any intrinsic that reads it.
        env = original(self)
        execution = env.states.context_object.context_object_data["Execution"]
        if not isinstance(execution["StartTime"], str):
            execution["StartTime"] = execution["StartTime"].isoformat().replace("+00:00", "Z")
        return env

    monkeypatch.setattr(ExecutionWorker, "_get_evaluation_environment", iso_start_time)
    for var in ("AWS_ENDPOINT_URL", "SEG_AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    config = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
    with mock_aws(config=config):
        from moto.moto_api import state_manager

        # Glue job runs progress immediately (moto's default ticks through states for a minute)
        state_manager.set_transition("glue::job_run", {"progression": "immediate"})
        region = "us-east-1"
        boto3.client("sns", region_name=region).create_topic(
            Name=VALUES["notify_topic_arn"].rsplit(":", 1)[1]
        )
        # the input check (validate_input Lambda); moto answers a docker-less invoke with 200
        role = boto3.client("iam", region_name=region).create_role(
            RoleName="validate-input",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        boto3.client("lambda", region_name=region).create_function(
            FunctionName=VALUES["validate_input_function_arn"].rsplit(":", 1)[1],
            Runtime="python3.11",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": _zip("def handler(e, c):\n    return {}\n")},
        )
        boto3.client("glue", region_name=region).create_job(
            Name=VALUES["glue_clean_job_name"],
            Role="arn:aws:iam::123456789012:role/etl",
            Command={"Name": "glueetl", "ScriptLocation": "s3://artifacts/glue_jobs/clean.py"},
        )
        client = boto3.client("stepfunctions", region_name=region)
        arn = client.create_state_machine(
            name="segmentation-pipeline",
            definition=json.dumps(DEFINITION),
            roleArn="arn:aws:iam::123456789012:role/sfn",
        )["stateMachineArn"]
        yield client, arn
        state_manager.unset_transition("glue::job_run")


def _zip(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", source)
    return buf.getvalue()


def run_on_moto(client: Any, arn: str, name: str, payload: dict[str, Any]) -> dict[str, Any]:
    ex = client.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))
    for _ in range(300):
        desc = client.describe_execution(executionArn=ex["executionArn"])
        if desc["status"] != "RUNNING":
            break
        time.sleep(0.05)
    events = client.get_execution_history(executionArn=ex["executionArn"])["events"]
    return {
        "status": desc["status"],
        "error": desc.get("error"),
        "cause": desc.get("cause"),
        "start": desc["startDate"],
        "path": [
            e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e
        ],
        "scheduled": [
            json.loads(e["taskScheduledEventDetails"]["parameters"])
            for e in events
            if "taskScheduledEventDetails" in e
        ],
    }


@pytest.mark.parametrize(
    "payload",
    [
        {"algorithm": "hdbscan"},
        {"k": 1},
        {"algorithm": "dbscan", "eps": 0},
        {"window_days": "90"},
        {"drift_gate": "block"},
        {"backtest_horizon_days": 366},
    ],
)
def test_bad_input_takes_the_same_path_on_moto(sfn: tuple[Any, str], payload: dict) -> None:
    client, arn = sfn
    moto = run_on_moto(client, arn, "bad", payload)
    local = StateMachine(DEFINITION, lambda *a: pytest.fail("no task may run")).execute(payload)
    assert moto["status"] == local.status == "FAILED"
    assert (moto["error"], moto["cause"]) == (local.error, local.cause)
    assert moto["path"] == local.path


def test_task_failure_is_caught_and_notified_on_moto(sfn: tuple[Any, str]) -> None:
    client, arn = sfn
    moto = run_on_moto(client, arn, "run-7", {"k": 5})
    failure = "'NoneType' object has no attribute 'interrupt_all'"  # moto's Glue .sync bug
    calls: list[tuple[str, Any]] = []

    def dispatch(resource: str, params: Any, context: Any) -> Any:
        calls.append((resource, params))
        if resource.endswith("glue:startJobRun.sync"):
            raise StatesError("States.TaskFailed", failure)
        if resource.endswith("lambda:invoke"):  # the input check passes
            return {"StatusCode": 200, "Payload": {"valid": True}}
        return {"MessageId": "m"}

    local = StateMachine(DEFINITION, dispatch).execute({"k": 5}, "run-7")
    assert moto["path"] == local.path
    assert local.path[-3:] == ["CleanEvents", "NotifyFailure", "PipelineFailed"]
    assert moto["status"] == local.status == "FAILED"
    assert moto["error"] == local.error == "PipelineFailed"
    assert moto["cause"].endswith(failure) and local.cause.endswith(failure)
    # The data flow up to the first task is identical: same Glue job, same arguments
    glue = next(p for p in moto["scheduled"] if "JobName" in p)
    assert glue == next(p for _, p in calls if "JobName" in p)
    assert glue["Arguments"]["--snapshot_date"] == moto["start"].date().isoformat()
    sns = moto["scheduled"][-1]
    assert sns["TopicArn"] == VALUES["notify_topic_arn"] and "run-7" in sns["Message"]
