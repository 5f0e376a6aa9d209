"""Local executions of the pipeline, started, run and recorded as Step Functions records them.

:class:`LocalExecutions` answers the four Step Functions calls the console's routes make
(``start_execution``, ``list_executions``, ``describe_execution``, ``get_execution_history``)
with boto3's method names, arguments and response shapes, so :mod:`segmentation.serving.runs`
has one code path for AWS and for this machine. ``start_execution`` runs the pipeline through
:func:`~segmentation_local.orchestration.local_runner.run_pipeline` (the same ASL, the same local
dispatcher as ``segmentation run``) in a background thread; the interpreter's state callbacks
become the history events Step Functions would write (``TaskStateEntered``, ``TaskFailed``,
``TaskStateExited``, ``ExecutionSucceeded``...). tests/unit/test_local_executions.py validates
every answer against botocore's output shapes for the service.

Each execution is kept as JSON under ``directory``, so the runs survive a restart of
``segmentation serve``; one that was RUNNING when its process died is read back as ABORTED (its
thread is gone, as an execution stopped by StopExecution is). Only one execution runs at a time:
a start while one runs raises ``ExecutionAlreadyExists`` under the recorder's lock, so two
console clicks cannot both pass the route's RUNNING check.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from segmentation.config import Settings

log = logging.getLogger(__name__)

MACHINE_NAME = "segmentation-pipeline"
REGION_ACCOUNT = "us-east-1:123456789012"
_TYPES = {"Task", "Pass", "Choice", "Fail", "Succeed", "Wait", "Parallel", "Map"}


class ExecutionAlreadyExists(Exception):
    """boto3's StepFunctions.Client.exceptions.ExecutionAlreadyExists, locally."""


class ExecutionDoesNotExist(Exception):
    """boto3's StepFunctions.Client.exceptions.ExecutionDoesNotExist, locally."""


class _Exceptions:
    ExecutionAlreadyExists = ExecutionAlreadyExists
    ExecutionDoesNotExist = ExecutionDoesNotExist


Runner = Callable[[dict[str, Any], str, Callable[[str, Any], None]], Any]


def _now() -> datetime:
    return datetime.now(UTC)


class LocalExecutions:
    """Step Functions' execution calls for the local pipeline (see the module docstring).

    ``runner(input, name, on_state)`` executes one run and returns its
    :class:`~segmentation_local.orchestration.interpreter.ExecutionResult`; the default is the
    local runner on ``settings`` (the definition Terraform deployed to moto when ``deployed``
    names it, else the rendered template). Tests pass a scripted one."""

    exceptions = _Exceptions

    def __init__(
        self,
        directory: Path,
        settings: Settings | None = None,
        runner: Runner | None = None,
        machine_name: str = MACHINE_NAME,
        deployed: str | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.settings = settings
        self.deployed = deployed
        self.runner = runner or self._local_runner
        self.machine_arn = f"arn:aws:states:{REGION_ACCOUNT}:stateMachine:{machine_name}"
        self._lock = threading.RLock()
        self._records: dict[str, dict[str, Any]] = {}
        self.threads: list[threading.Thread] = []
        self._load()

    # -- storage ----------------------------------------------------------------------------
    def _load(self) -> None:
        for path in sorted(self.directory.glob("*.json")):
            record = json.loads(path.read_text())
            if record["status"] == "RUNNING":  # its process is gone
                record["status"], record["stopDate"] = "ABORTED", record["updated"]
                self._event(record, "ExecutionAborted", "executionAbortedEventDetails", {})
                path.write_text(json.dumps(record))
            self._records[record["executionArn"]] = record

    def _save(self, record: dict[str, Any]) -> None:
        record["updated"] = _now().isoformat()
        path = self.directory / f"{record['name']}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, default=str))
        tmp.replace(path)

    @staticmethod
    def _event(record: dict[str, Any], kind: str, key: str | None, details: dict[str, Any]) -> None:
        events = record["events"]
        event: dict[str, Any] = {
            "timestamp": _now().isoformat(),
            "type": kind,
            "id": len(events) + 1,
            "previousEventId": len(events),
        }
        if key:
            event[key] = details
        events.append(event)

    # -- the Step Functions calls -------------------------------------------------------------
    def start_execution(
        self, *, stateMachineArn: str, name: str, input: str = "{}", **_: Any
    ) -> dict[str, Any]:
        self._machine(stateMachineArn)
        arn = stateMachineArn.replace(":stateMachine:", ":execution:", 1) + ":" + name
        with self._lock:
            running = [r for r in self._records.values() if r["status"] == "RUNNING"]
            if arn in self._records or running:
                raise ExecutionAlreadyExists(
                    f"Execution Already Exists: '{arn}'"
                    if arn in self._records
                    else f"{running[0]['name']} is running; one execution at a time"
                )
            start = _now()
            record: dict[str, Any] = {
                "executionArn": arn,
                "stateMachineArn": stateMachineArn,
                "name": name,
                "status": "RUNNING",
                "startDate": start.isoformat(),
                "input": input,
                "events": [],
            }
            self._event(
                record,
                "ExecutionStarted",
                "executionStartedEventDetails",
                {"input": input, "roleArn": "arn:aws:iam::123456789012:role/local"},
            )
            self._records[arn] = record
            self._save(record)
        thread = threading.Thread(
            target=self._run, args=(record,), name=f"execution-{name}", daemon=True
        )
        self.threads.append(thread)
        thread.start()
        return {"executionArn": arn, "startDate": start}

    def list_executions(
        self,
        *,
        stateMachineArn: str,
        statusFilter: str | None = None,
        maxResults: int = 100,
        **_: Any,
    ) -> dict[str, Any]:
        self._machine(stateMachineArn)
        with self._lock:
            records = [
                r
                for r in self._records.values()
                if r["stateMachineArn"] == stateMachineArn
                and (statusFilter is None or r["status"] == statusFilter)
            ]
        records.sort(key=lambda r: r["startDate"], reverse=True)
        items = []
        for r in records[: maxResults or 100]:
            item = {
                k: r[k] for k in ("executionArn", "stateMachineArn", "name", "status", "startDate")
            }
            item["startDate"] = datetime.fromisoformat(r["startDate"])
            if r.get("stopDate"):
                item["stopDate"] = datetime.fromisoformat(r["stopDate"])
            items.append(item)
        return {"executions": items}

    def describe_execution(self, *, executionArn: str, **_: Any) -> dict[str, Any]:
        record = self._get(executionArn)
        out: dict[str, Any] = {
            "executionArn": record["executionArn"],
            "stateMachineArn": record["stateMachineArn"],
            "name": record["name"],
            "status": record["status"],
            "startDate": datetime.fromisoformat(record["startDate"]),
            "input": record["input"],
            "inputDetails": {"included": True},
        }
        if record.get("stopDate"):
            out["stopDate"] = datetime.fromisoformat(record["stopDate"])
        if record.get("output") is not None:
            out["output"] = record["output"]
            out["outputDetails"] = {"included": True}
        for key in ("error", "cause"):
            if record.get(key) is not None:
                out[key] = record[key]
        return out

    def get_execution_history(
        self,
        *,
        executionArn: str,
        maxResults: int = 100,
        nextToken: str | None = None,
        reverseOrder: bool = False,
        **_: Any,
    ) -> dict[str, Any]:
        record = self._get(executionArn)
        events = [
            dict(e, timestamp=datetime.fromisoformat(e["timestamp"])) for e in record["events"]
        ]
        if reverseOrder:
            events.reverse()
        start = int(nextToken or 0)
        size = maxResults or 100
        page = events[start : start + size]
        answer: dict[str, Any] = {"events": copy.deepcopy(page)}
        if start + size < len(events):
            answer["nextToken"] = str(start + size)
        return answer

    # -- helpers ------------------------------------------------------------------------------
    def _machine(self, arn: str) -> None:
        if arn != self.machine_arn:
            raise ExecutionDoesNotExist(f"State Machine Does Not Exist: '{arn}'")

    def _get(self, arn: str) -> dict[str, Any]:
        with self._lock:
            record = self._records.get(arn)
            if record is None:
                raise ExecutionDoesNotExist(f"Execution Does Not Exist: '{arn}'")
            return copy.deepcopy(record)

    def wait(self, timeout: float | None = None) -> None:
        """Join every execution thread started so far (tests, shutdown)."""
        for thread in list(self.threads):
            thread.join(timeout)

    def _run(self, record: dict[str, Any]) -> None:
        def on_state(event: str, state: Any) -> None:
            with self._lock:
                self._record_state(record, event, state)
                self._save(record)

        try:
            result = self.runner(json.loads(record["input"]), record["name"], on_state)
            status, output = result.status, result.output
            error, cause = result.error, result.cause
        except Exception as exc:  # the runner itself broke: the execution fails, as on AWS
            log.exception("local execution %s failed to run", record["name"])
            status, output, error, cause = "FAILED", None, "States.Runtime", str(exc)
        with self._lock:
            record["status"], record["stopDate"] = status, _now().isoformat()
            if status == "SUCCEEDED":
                record["output"] = json.dumps(output, default=str)
                self._event(
                    record,
                    "ExecutionSucceeded",
                    "executionSucceededEventDetails",
                    {"output": record["output"]},
                )
            else:
                record["error"], record["cause"] = error, cause
                details = {k: v for k, v in (("error", error), ("cause", cause)) if v is not None}
                self._event(record, "ExecutionFailed", "executionFailedEventDetails", details)
            self._save(record)

    def _record_state(self, record: dict[str, Any], event: str, state: Any) -> None:
        kind = state.type if state.type in _TYPES else "Task"
        failure = {"resourceType": "states", "resource": state.name}
        if event == "enter":
            self._event(
                record, f"{kind}StateEntered", "stateEnteredEventDetails", {"name": state.name}
            )
        elif event == "retry":
            self._task_failed(record, failure, state)
        elif event == "exit":
            if kind == "Task" and state.error and state.status in {"caught", "failed"}:
                self._task_failed(record, failure, state)
            elif kind == "Task" and state.status == "succeeded":
                self._event(
                    record,
                    "TaskSucceeded",
                    "taskSucceededEventDetails",
                    {**failure, "output": "{}"},
                )
            if state.status in {"succeeded", "caught"}:
                self._event(
                    record, f"{kind}StateExited", "stateExitedEventDetails", {"name": state.name}
                )

    def _task_failed(self, record: dict[str, Any], failure: dict[str, str], state: Any) -> None:
        details = {**failure, "error": state.error or "States.TaskFailed"}
        if state.cause:
            details["cause"] = state.cause
        self._event(record, "TaskFailed", "taskFailedEventDetails", details)

    def _local_runner(
        self, execution_input: dict[str, Any], name: str, on_state: Callable[[str, Any], None]
    ) -> Any:
        from segmentation_local.orchestration.local_runner import print_progress, run_pipeline

        def both(event: str, state: Any) -> None:
            print_progress(event, state)
            on_state(event, state)

        return run_pipeline(
            execution_input,
            self.settings,
            execution_name=name,
            on_state=both,
            deployed=self.deployed,
        )
