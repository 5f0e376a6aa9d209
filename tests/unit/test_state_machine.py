"""Control flow of the real pipeline definition, executed by the local interpreter with scripted
task outcomes: happy path, retry then success, catch -> notify -> fail, and bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from segmentation.config import Settings
from segmentation_local.orchestration.asl import local_values, render_definition
from segmentation_local.orchestration.errors import StatesError
from segmentation_local.orchestration.interpreter import StateMachine
from segmentation_local.orchestration.local_runner import (
    EMR_SYNC,
    GLUE_SYNC,
    LAMBDA_INVOKE,
    SNS_PUBLISH,
    LocalDispatcher,
    cli_arguments,
)

VALUES = local_values(Settings(lake_prefix="unit"))
DEFINITION = render_definition(VALUES)
#: The input check is the real validate_input Lambda handler, run as `segmentation run` runs it.
LOCAL_LAMBDAS = LocalDispatcher.from_values(Settings(lake_prefix="unit"), VALUES)
#: The scripted functions, by the key the Script records their calls under.
FUNCTIONS = {VALUES["monitor_function_arn"]: "monitor", VALUES["publish_function_arn"]: "publish"}
HAPPY = [
    "ApplyDefaults",
    "MergeInput",
    "ValidateCommon",
    "ValidateAlgorithm",
    "ValidateKMeans",
    "KMeansAutoK",
    "ValidateInput",
    "CleanEvents",
    "BuildFeatures",
    "ClusterUsers",
    "MonitorRun",
    "PublishSegments",
    "BacktestWanted",
    "Summarise",
]


class Script:
    """A dispatcher whose outcome per task is scripted: a list of errors to raise first."""

    def __init__(self, failures: dict[str, list[str]] | None = None, flip: bool = True) -> None:
        self.failures = {k: list(v) for k, v in (failures or {}).items()}
        self.flip = flip  # the monitor's answer: False when the drift gate holds the pointer
        self.calls: list[tuple[str, Any]] = []
        self.validated: list[Any] = []  # payloads of the (real) input check, not scripted

    def key(self, resource: str, params: dict[str, Any]) -> str:
        if resource == GLUE_SYNC:
            return params["JobName"]
        if resource == LAMBDA_INVOKE:
            return FUNCTIONS[params["FunctionName"]]
        return {EMR_SYNC: "emr", SNS_PUBLISH: "sns"}[resource]

    def __call__(self, resource: str, params: Any, context: dict[str, Any]) -> Any:
        if (
            resource == LAMBDA_INVOKE
            and params["FunctionName"] == VALUES["validate_input_function_arn"]
        ):
            self.validated.append(params["Payload"])
            return LOCAL_LAMBDAS(resource, params, context)
        key = self.key(resource, params)
        self.calls.append((key, params))
        pending = self.failures.get(key)
        if pending:
            raise StatesError(pending.pop(0), f"scripted failure of {key}")
        if resource == GLUE_SYNC:
            return {
                "Id": f"jr_{len(self.calls)}",
                "JobRunState": "SUCCEEDED",
                "ExecutionTime": 1,
                "Arguments": params["Arguments"],  # a big field ResultSelector must drop
            }
        if resource == EMR_SYNC:
            return {"ApplicationId": params["ApplicationId"], "JobRunId": "j1", "Arn": "arn:x"}
        if resource == LAMBDA_INVOKE and key == "monitor":
            payload = params["Payload"]
            answer = {"flip": self.flip, "crossed": [], "figures": {}}
            return {
                "StatusCode": 200,
                "Payload": {**answer, "model_version": f"m-{payload['run_id']}"},
            }
        if resource == LAMBDA_INVOKE:
            payload = params["Payload"]
            return {
                "StatusCode": 200,
                "Payload": {
                    "model_version": f"m-{payload['run_id']}",
                    "flipped": payload["flip"],
                    "users": 7,
                    "segments": 3,
                },
            }
        return {"MessageId": "m-1"}


def machine(script: Callable[..., Any], sleeps: list[float] | None = None) -> StateMachine:
    return StateMachine(
        DEFINITION, script, sleep=(sleeps.append if sleeps is not None else lambda s: None)
    )


def test_happy_path_runs_every_step_in_the_definitions_order() -> None:
    script = Script()
    result = machine(script).execute({"algorithm": "kmeans"}, "run-1")
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.path == HAPPY
    assert [k for k, _ in script.calls] == [
        "unit-clean",
        "unit-features",
        "emr",
        "monitor",
        "publish",
    ]
    assert result.output["model_version"] == "m-run-1"
    assert result.output["steps"]["clean"] == {
        "job_run_id": "jr_1",
        "state": "SUCCEEDED",
        "execution_time": 1,
    }
    assert result.output["steps"]["monitor"] == {
        "model_version": "m-run-1",
        "crossed": [],
        "flip": True,
        "figures": {},
    }
    assert result.output["steps"]["publish"] == {
        "model_version": "m-run-1",
        "flipped": True,
        "users": 7,
        "segments": 3,
    }
    assert all(s.status == "succeeded" and s.duration_s >= 0 for s in result.states)


def test_parameters_reach_the_tasks_with_defaults_applied() -> None:
    script = Script()
    machine(script).execute({"algorithm": "dbscan", "eps": 0.8, "snapshot_date": "2026-01-31"}, "r")
    clean, features, emr, monitor, publish = (p for _, p in script.calls)
    common = {"--lake_prefix": "unit", "--run_id": "r", "--snapshot_date": "2026-01-31"}
    assert clean["Arguments"] == {**common, "--rebuild": "false"}
    assert features["Arguments"] == {**common, "--window_days": "90"}
    args = cli_arguments(emr["JobDriver"]["SparkSubmit"]["EntryPointArguments"])
    assert args == {
        "lake_prefix": "unit",
        "run_id": "r",
        "snapshot_date": "2026-01-31",
        "algorithm": "dbscan",
        "k": "",
        "k_max": "10",
        "eps": "0.8",
        "min_samples": "24",
        "warm_start": "false",
        "mlflow_tracking_uri": VALUES["mlflow_tracking_uri"],
    }
    assert monitor["FunctionName"] == VALUES["monitor_function_arn"]
    assert monitor["Payload"] == {"lake_prefix": "unit", "run_id": "r", "drift_gate": "alert"}
    assert publish["FunctionName"] == VALUES["publish_function_arn"]
    assert publish["Payload"] == {"lake_prefix": "unit", "run_id": "r", "flip": True}


@pytest.mark.parametrize("flip", [True, False])
def test_the_monitor_runs_after_clustering_and_its_gate_reaches_publish(flip: bool) -> None:
    """MonitorRun sits between ClusterUsers and PublishSegments; publish flips the pointer only
    when the monitor says so (drift_gate hold with a crossed threshold: flip false)."""
    script = Script(flip=flip)
    result = machine(script).execute({"drift_gate": "hold"}, "r")
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    at = result.path.index("MonitorRun")
    assert result.path[at - 1 : at + 2] == ["ClusterUsers", "MonitorRun", "PublishSegments"]
    calls = dict(script.calls)
    assert calls["monitor"]["Payload"]["drift_gate"] == "hold"
    assert calls["publish"]["Payload"]["flip"] is flip
    assert result.output["steps"]["publish"]["flipped"] is flip


@pytest.mark.parametrize(
    ("execution_input", "k", "eps", "branch"),
    [
        ({}, "", "", "KMeansAutoK"),
        ({"k": 7}, "7", "", "KMeansGivenK"),
        ({"algorithm": "dbscan"}, "", "", "DBSCANAutoEps"),
        ({"algorithm": "dbscan", "eps": 2}, "", "2", "DBSCANGivenEps"),
    ],
)
def test_auto_parameters_reach_the_cluster_step_empty(
    execution_input: dict[str, Any], k: str, eps: str, branch: str
) -> None:
    """'auto' becomes an empty argument, which the cluster step reads as 'choose it yourself'."""
    script = Script()
    result = machine(script).execute(execution_input, "r")
    assert branch in result.path
    emr = next(p for key, p in script.calls if key == "emr")
    args = cli_arguments(emr["JobDriver"]["SparkSubmit"]["EntryPointArguments"])
    assert (args["k"], args["eps"]) == (k, eps)


def test_default_snapshot_date_is_the_execution_start_day() -> None:
    script = Script()
    result = machine(script).execute({}, "r")
    assert result.status == "SUCCEEDED"
    assert result.output["params"]["snapshot_date"] == result.started_at[:10]
    assert result.output["params"]["algorithm"] == "kmeans"
    assert result.output["params"]["k"] == "auto"


def test_retry_then_success_waits_with_backoff() -> None:
    script = Script({"unit-clean": ["States.TaskFailed"], "publish": ["Lambda.ServiceException"]})
    sleeps: list[float] = []
    result = machine(script, sleeps).execute({}, "r")
    assert result.status == "SUCCEEDED"
    assert result.path == HAPPY
    clean = next(s for s in result.states if s.name == "CleanEvents")
    assert clean.attempts == 2
    assert [k for k, _ in script.calls].count("unit-clean") == 2
    assert sleeps[0] == 60  # IntervalSeconds of the TaskFailed retrier
    assert 0 <= sleeps[1] <= 2  # FULL jitter on a 2 s interval


def test_retries_are_bounded_by_max_attempts_with_exponential_backoff() -> None:
    throttled = ["Glue.ThrottlingException"] * 5  # one more than MaxAttempts (4)
    script = Script({"unit-features": throttled})
    definition = json.loads(json.dumps(DEFINITION))
    for retrier in definition["States"]["BuildFeatures"]["Retry"]:
        retrier.pop("JitterStrategy", None)  # deterministic delays for the assertion
    sleeps: list[float] = []
    result = StateMachine(definition, script, sleep=sleeps.append).execute({}, "r")
    assert sleeps == [30, 60, 120, 240]
    assert result.status == "FAILED"
    assert result.cause.startswith("Glue.ThrottlingException: ")


def test_task_failure_is_caught_notified_then_fails_with_the_original_error() -> None:
    script = Script({"emr": ["States.TaskFailed"] * 2})
    result = machine(script).execute({"k": 4}, "run-x")
    happy = [s if s != "KMeansAutoK" else "KMeansGivenK" for s in HAPPY]
    assert result.status == "FAILED"
    assert result.error == "PipelineFailed"
    assert result.cause == "States.TaskFailed: scripted failure of emr"
    assert result.path == [*happy[:9], "ClusterUsers", "NotifyFailure", "PipelineFailed"]
    assert [k for k, _ in script.calls] == ["unit-clean", "unit-features", "emr", "emr", "sns"]
    cluster = next(s for s in result.states if s.name == "ClusterUsers")
    assert cluster.status == "caught" and cluster.attempts == 2
    sns = script.calls[-1][1]
    assert sns["TopicArn"] == VALUES["notify_topic_arn"]
    assert "run-x" in sns["Message"] and "States.TaskFailed" in sns["Message"]
    assert '"clean":' in sns["Message"]  # which steps had completed


def test_a_failing_notification_still_fails_the_execution() -> None:
    script = Script({"unit-clean": ["States.TaskFailed"] * 2, "sns": ["SNS.NotFound"] * 4})
    result = machine(script).execute({}, "r")
    assert result.status == "FAILED"
    assert result.error == "PipelineFailed"
    assert result.cause.startswith("States.TaskFailed: ")
    assert result.path[-2:] == ["NotifyFailure", "PipelineFailed"]


def test_unexpected_exceptions_in_task_code_are_task_failures() -> None:
    def boom(resource: str, params: Any, context: Any) -> Any:
        if resource == SNS_PUBLISH:
            return {"MessageId": "m"}
        raise ZeroDivisionError("bug")

    result = machine(boom).execute({}, "r")
    assert result.status == "FAILED"
    assert result.error == "PipelineFailed"
    assert "States.TaskFailed: ZeroDivisionError: bug" in result.cause


@pytest.mark.parametrize(
    ("execution_input", "fail_state", "cause_fragment"),
    [
        ({"algorithm": "hdbscan"}, "InvalidAlgorithm", "'kmeans' or 'dbscan'"),
        ({"algorithm": 3}, "InvalidAlgorithm", "'kmeans' or 'dbscan'"),
        ({"k": 1}, "InvalidKMeansParameters", "k = 'auto'"),
        ({"k": 51}, "InvalidKMeansParameters", "k = 'auto'"),
        ({"k": "five"}, "InvalidKMeansParameters", "k = 'auto'"),
        ({"k_max": 1}, "InvalidKMeansParameters", "k_max"),
        ({"algorithm": "dbscan", "eps": 0}, "InvalidDBSCANParameters", "eps"),
        ({"algorithm": "dbscan", "eps": "0.5"}, "InvalidDBSCANParameters", "eps"),
        ({"algorithm": "dbscan", "eps": 101}, "InvalidDBSCANParameters", "eps"),
        ({"algorithm": "dbscan", "min_samples": 1}, "InvalidDBSCANParameters", "min_samples"),
        ({"k": "auto", "k_max": 51}, "InvalidKMeansParameters", "k_max"),
        ({"window_days": 0}, "InvalidCommonParameters", "window_days"),
        ({"window_days": "90"}, "InvalidCommonParameters", "window_days"),
        ({"rebuild": "yes"}, "InvalidCommonParameters", "rebuild"),
        ({"warm_start": "yes"}, "InvalidCommonParameters", "warm_start"),
        ({"snapshot_date": 20260101}, "InvalidCommonParameters", "snapshot_date"),
        ({"snapshot_date": None}, "InvalidCommonParameters", "snapshot_date"),
        ({"run_id": 7}, "InvalidCommonParameters", "run_id"),
        ({"drift_gate": "block"}, "InvalidCommonParameters", "drift_gate"),
        ({"drift_gate": True}, "InvalidCommonParameters", "drift_gate"),
        ({"backtest_horizon_days": -1}, "InvalidCommonParameters", "backtest_horizon_days"),
        ({"backtest_horizon_days": 366}, "InvalidCommonParameters", "0..365"),
        ({"backtest_horizon_days": "28"}, "InvalidCommonParameters", "backtest_horizon_days"),
    ],
)
def test_bad_input_fails_before_any_task(
    execution_input: dict[str, Any], fail_state: str, cause_fragment: str
) -> None:
    script = Script()
    result = machine(script).execute(execution_input, "r")
    assert result.status == "FAILED"
    assert result.error == "InvalidInput"
    assert cause_fragment in result.cause
    assert result.path[-1] == fail_state
    assert script.calls == []  # nothing ran, nothing was notified


def test_dbscan_input_takes_the_dbscan_branch() -> None:
    result = machine(Script()).execute({"algorithm": "dbscan", "eps": 1.5, "min_samples": 5}, "r")
    assert result.status == "SUCCEEDED"
    assert "ValidateDBSCAN" in result.path and "ValidateKMeans" not in result.path


def test_a_non_object_input_fails_clearly() -> None:
    result = machine(Script()).execute(["not", "an", "object"], "r")
    assert result.status == "FAILED"
    assert result.error == "States.IntrinsicFailure"
    assert "JSON objects" in result.cause


@pytest.mark.parametrize(
    ("execution_input", "named"),
    [
        ({"min_sample": 30}, "unknown field(s) min_sample; expected some of algorithm"),
        ({"algorithm": "dbscan", "eps": 1, "epsilon": 2}, "unknown field(s) epsilon"),
        ({"k": 5.5}, 'k: got 5.5, expected "auto" or an integer >= 2 and <= 50'),
        ({"snapshot_date": "2026-02-30"}, 'snapshot_date: got "2026-02-30"'),
        (
            {"backtest_horizon_days": 7.5},
            "backtest_horizon_days: got 7.5, expected an integer >= 0 and <= 365",
        ),
    ],
)
def test_input_the_choice_states_pass_is_refused_by_the_model_before_any_job(
    execution_input: dict[str, Any], named: str
) -> None:
    """Choice states cannot list keys (nor tell 5.5 from 5): the validate_input Lambda refuses
    what they let through, naming the field, and no Glue/EMR job starts."""
    script = Script()
    result = machine(script).execute(execution_input, "r")
    assert result.status == "FAILED"
    assert result.error == "PipelineFailed"
    error, lambda_error = result.cause.split(": ", 1)
    assert error == "InvalidInput"
    assert named in json.loads(lambda_error)["errorMessage"]
    assert result.path[-3:] == ["ValidateInput", "NotifyFailure", "PipelineFailed"]
    assert [k for k, _ in script.calls] == ["sns"]  # notified, nothing else ran
    assert script.validated and script.validated[0]["run_id"] == "r"  # defaults merged in


def test_the_input_check_sees_the_merged_parameters() -> None:
    script = Script()
    assert machine(script).execute({"algorithm": "dbscan"}, "r").status == "SUCCEEDED"
    (payload,) = script.validated
    assert payload["algorithm"] == "dbscan" and payload["min_samples"] == 24
    assert set(payload) == {
        "algorithm",
        "k",
        "k_max",
        "eps",
        "min_samples",
        "window_days",
        "rebuild",
        "warm_start",
        "drift_gate",
        "backtest_horizon_days",
        "snapshot_date",
        "run_id",
    }


def test_no_backtest_by_default() -> None:
    script = Script()
    result = machine(script).execute({}, "r")
    assert result.status == "SUCCEEDED"
    assert "BacktestSegments" not in result.path
    assert "backtest" not in result.output["steps"]
    assert result.output["params"]["backtest_horizon_days"] == 0


def test_a_backtest_horizon_runs_the_backtest_after_publish() -> None:
    """backtest_horizon_days > 0: the backtest's Glue job runs after publish, with the run's day
    as the horizon's end and the horizon as its argument; its job run is in the output."""
    script = Script()
    result = machine(script).execute(
        {"backtest_horizon_days": 28, "snapshot_date": "2026-10-28"}, "r"
    )
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.path == [*HAPPY[:-1], "BacktestSegments", "Summarise"]
    assert [k for k, _ in script.calls][-2:] == ["publish", "unit-backtest"]
    backtest = script.calls[-1][1]
    assert backtest["JobName"] == VALUES["glue_backtest_job_name"]
    assert backtest["Arguments"] == {
        "--lake_prefix": "unit",
        "--run_id": "r",
        "--snapshot_date": "2026-10-28",
        "--horizon_days": "28",
        "--mlflow_tracking_uri": VALUES["mlflow_tracking_uri"],
    }
    assert result.output["steps"]["backtest"] == {
        "job_run_id": f"jr_{len(script.calls)}",
        "state": "SUCCEEDED",
        "execution_time": 1,
    }
    assert result.output["model_version"] == "m-r"  # what was published, as without it


def test_a_failing_backtest_is_retried_then_notified_and_fails_the_run() -> None:
    """A backtest that cannot run (no model version old enough, no horizon events) fails the
    execution after one retry, notified like any step; publish has already happened."""
    script = Script({"unit-backtest": ["States.TaskFailed"] * 2})
    result = machine(script).execute({"backtest_horizon_days": 7}, "r")
    assert result.status == "FAILED" and result.error == "PipelineFailed"
    assert result.cause == "States.TaskFailed: scripted failure of unit-backtest"
    assert result.path[-5:] == [
        "PublishSegments",
        "BacktestWanted",
        "BacktestSegments",
        "NotifyFailure",
        "PipelineFailed",
    ]
    assert [k for k, _ in script.calls][-4:] == ["publish", "unit-backtest", "unit-backtest", "sns"]
    assert '"publish":' in script.calls[-1][1]["Message"]  # publish had completed
