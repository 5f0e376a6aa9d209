"""A Step Functions interpreter for the states this project's ASL uses.

It walks a definition state by state with Step Functions' data flow (InputPath -> Parameters ->
task -> ResultSelector -> ResultPath -> OutputPath), Choice rules, Retry with backoff and Catch,
and hands every Task state to a *dispatcher* keyed by its resource ARN. The local run plugs in a
dispatcher that calls the local Glue/EMR/Lambda code, tests plug in scripted outcomes; the order of
the pipeline therefore always comes from the deployed definition, never from Python.
"""

from __future__ import annotations

import copy
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from segmentation_local.orchestration.choice import evaluate_rule
from segmentation_local.orchestration.errors import RuntimeFailure, StatesError
from segmentation_local.orchestration.paths import apply_template, get_path, set_path

MAX_TRANSITIONS = 1000
SUPPORTED_TYPES = {"Pass", "Choice", "Task", "Fail", "Succeed"}


class Dispatcher(Protocol):
    """Runs one Task state: ``resource`` is its ARN, ``parameters`` its evaluated Parameters.

    Returns the service's raw result; raises :class:`StatesError` with the error name the real
    integration would report (e.g. ``States.TaskFailed``)."""

    def __call__(self, resource: str, parameters: Any, context: dict[str, Any]) -> Any: ...


@dataclass
class StateRecord:
    """One visit of one state: what the progress display prints and the report returns."""

    name: str
    type: str
    started_at: str
    duration_s: float = 0.0
    status: str = "running"  # succeeded | failed | caught
    attempts: int = 0
    next: str | None = None
    error: str | None = None
    cause: str | None = None


@dataclass
class ExecutionResult:
    name: str
    status: str  # SUCCEEDED | FAILED
    input: Any
    output: Any = None
    error: str | None = None
    cause: str | None = None
    started_at: str = ""
    duration_s: float = 0.0
    states: list[StateRecord] = field(default_factory=list)

    @property
    def path(self) -> list[str]:
        """The names of the states visited, in order."""
        return [s.name for s in self.states]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "error": self.error,
            "cause": self.cause,
            "started_at": self.started_at,
            "duration_s": round(self.duration_s, 3),
            "output": self.output,
            "states": [s.__dict__ for s in self.states],
        }


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def error_matches(names: list[str], error: str) -> bool:
    """ASL error matching: States.ALL matches everything, States.TaskFailed all but timeouts."""
    if error == "States.Runtime":
        return False
    for n in names:
        if n == error or n == "States.ALL":
            return True
        if n == "States.TaskFailed" and error != "States.Timeout":
            return True
    return False


class StateMachine:
    """An ASL definition plus a dispatcher for its Task states."""

    def __init__(
        self,
        definition: dict[str, Any],
        dispatcher: Dispatcher,
        *,
        name: str = "state-machine",
        sleep: Callable[[float], None] = time.sleep,
        retry_delay_scale: float = 1.0,
        on_state: Callable[[str, StateRecord], None] | None = None,
    ) -> None:
        for sname, state in definition["States"].items():
            if state.get("Type") not in SUPPORTED_TYPES:
                raise ValueError(
                    f"state {sname!r} has type {state.get('Type')!r}; this interpreter runs "
                    f"{', '.join(sorted(SUPPORTED_TYPES))}"
                )
        self.definition = definition
        self.dispatcher = dispatcher
        self.name = name
        self.sleep = sleep
        self.retry_delay_scale = retry_delay_scale
        self.on_state = on_state or (lambda event, record: None)

    # -- execution ------------------------------------------------------------------------
    def execute(self, execution_input: Any, execution_name: str | None = None) -> ExecutionResult:
        name = execution_name or str(uuid.uuid4())
        start = datetime.now(UTC)
        t0 = time.monotonic()
        context: dict[str, Any] = {
            "Execution": {
                "Id": f"arn:aws:states:local:000000000000:execution:{self.name}:{name}",
                "Name": name,
                "StartTime": _iso(start),
                "Input": copy.deepcopy(execution_input),
                "RoleArn": "arn:aws:iam::000000000000:role/local",
            },
            "StateMachine": {
                "Id": f"arn:aws:states:local:000000000000:stateMachine:{self.name}",
                "Name": self.name,
            },
        }
        result = ExecutionResult(
            name=name, status="RUNNING", input=execution_input, started_at=_iso(start)
        )
        data = copy.deepcopy(execution_input)
        current: str | None = self.definition["StartAt"]
        try:
            for _ in range(MAX_TRANSITIONS):
                if current is None:
                    result.status, result.output = "SUCCEEDED", data
                    break
                state = self.definition["States"][current]
                record = StateRecord(current, state["Type"], _iso(datetime.now(UTC)))
                result.states.append(record)
                context["State"] = {"Name": current, "EnteredTime": record.started_at}
                self.on_state("enter", record)
                s0 = time.monotonic()
                try:
                    data, current = self._run_state(current, state, data, context, record)
                finally:
                    record.duration_s = time.monotonic() - s0
                    if record.status == "running":
                        record.status = "failed"
                    self.on_state("exit", record)
            else:
                raise RuntimeFailure(f"more than {MAX_TRANSITIONS} state transitions")
        except StatesError as exc:
            result.status, result.error, result.cause = "FAILED", exc.error, exc.cause
        result.duration_s = time.monotonic() - t0
        return result

    def _run_state(
        self,
        name: str,
        state: dict[str, Any],
        data: Any,
        context: dict[str, Any],
        record: StateRecord,
    ) -> tuple[Any, str | None]:
        kind = state["Type"]
        if kind == "Fail":
            error = (
                self._path_or_intrinsic(state["ErrorPath"], data, context)
                if "ErrorPath" in state
                else state.get("Error", "States.Fail")
            )
            cause = (
                self._path_or_intrinsic(state["CausePath"], data, context)
                if "CausePath" in state
                else state.get("Cause", "")
            )
            record.error, record.cause = str(error), str(cause)
            raise StatesError(str(error), str(cause))
        if kind == "Succeed":
            effective = self._input(state, data, context)
            record.status = "succeeded"
            return self._output(state, effective, context), None
        if kind == "Choice":
            effective = self._input(state, data, context)
            for rule in state.get("Choices", []):
                if evaluate_rule(rule, effective, context):
                    record.status, record.next = "succeeded", rule["Next"]
                    return self._output(state, effective, context), rule["Next"]
            if "Default" not in state:
                raise StatesError("States.NoChoiceMatched", f"no Choice rule matched in {name}")
            record.status, record.next = "succeeded", state["Default"]
            return self._output(state, effective, context), state["Default"]
        if kind == "Pass":
            effective = self._input(state, data, context)
            if "Parameters" in state:
                effective = apply_template(state["Parameters"], effective, context)
            result = copy.deepcopy(state["Result"]) if "Result" in state else effective
            out = self._result(state, data, result, context)
            return self._finish(state, out, context, record)
        return self._task(name, state, data, context, record)

    def _task(
        self,
        name: str,
        state: dict[str, Any],
        data: Any,
        context: dict[str, Any],
        record: StateRecord,
    ) -> tuple[Any, str | None]:
        retry_counts = [0] * len(state.get("Retry", []))
        while True:
            record.attempts += 1
            context["State"]["RetryCount"] = record.attempts - 1
            try:
                effective = self._input(state, data, context)
                if "Parameters" in state:
                    effective = apply_template(state["Parameters"], effective, context)
                raw = self._dispatch(state["Resource"], effective, context)
                if "ResultSelector" in state:
                    raw = apply_template(state["ResultSelector"], raw, context)
                out = self._result(state, data, raw, context)
                return self._finish(state, out, context, record)
            except RuntimeFailure:
                raise
            except StatesError as exc:
                record.error, record.cause = exc.error, exc.cause
                delay = self._retry_delay(state, retry_counts, exc.error)
                if delay is not None:
                    self.on_state("retry", record)
                    self.sleep(delay * self.retry_delay_scale)
                    continue
                for catcher in state.get("Catch", []):
                    if error_matches(catcher["ErrorEquals"], exc.error):
                        out = self._result(
                            {"ResultPath": catcher.get("ResultPath", "$")},
                            data,
                            exc.as_output(),
                            context,
                        )
                        record.status, record.next = "caught", catcher["Next"]
                        return out, catcher["Next"]
                raise

    def _dispatch(self, resource: str, parameters: Any, context: dict[str, Any]) -> Any:
        try:
            return self.dispatcher(resource, parameters, context)
        except StatesError:
            raise
        except Exception as exc:  # a bug in task code still fails the task, catchably, as on AWS
            raise StatesError("States.TaskFailed", f"{type(exc).__name__}: {exc}") from exc

    @staticmethod
    def _retry_delay(state: dict[str, Any], counts: list[int], error: str) -> float | None:
        """Seconds to wait before the next attempt, or None when retries are exhausted.

        The first retrier whose ErrorEquals matches decides, with its own attempt counter."""
        for i, retrier in enumerate(state.get("Retry", [])):
            if not error_matches(retrier["ErrorEquals"], error):
                continue
            if counts[i] >= retrier.get("MaxAttempts", 3):
                return None
            delay = retrier.get("IntervalSeconds", 1) * retrier.get("BackoffRate", 2.0) ** counts[i]
            if "MaxDelaySeconds" in retrier:
                delay = min(delay, retrier["MaxDelaySeconds"])
            if retrier.get("JitterStrategy") == "FULL":
                delay = random.uniform(0, delay)
            counts[i] += 1
            return float(delay)
        return None

    @staticmethod
    def _path_or_intrinsic(expr: str, data: Any, context: Any) -> Any:
        from segmentation_local.orchestration.intrinsics import evaluate

        if expr.startswith("States."):
            return evaluate(expr, data, context)
        return get_path(data, expr, context)

    # -- data flow ------------------------------------------------------------------------
    @staticmethod
    def _input(state: dict[str, Any], data: Any, context: Any) -> Any:
        path = state.get("InputPath", "$")
        return {} if path is None else copy.deepcopy(get_path(data, path, context))

    @staticmethod
    def _result(state: dict[str, Any], raw_input: Any, result: Any, context: Any) -> Any:
        path = state.get("ResultPath", "$")
        if path is None:
            return copy.deepcopy(raw_input)
        return set_path(raw_input, path, result)

    @staticmethod
    def _output(state: dict[str, Any], data: Any, context: Any) -> Any:
        path = state.get("OutputPath", "$")
        return {} if path is None else get_path(data, path, context)

    def _finish(
        self, state: dict[str, Any], data: Any, context: Any, record: StateRecord
    ) -> tuple[Any, str | None]:
        out = self._output(state, data, context)
        record.status = "succeeded"
        record.next = None if state.get("End") else state.get("Next")
        return out, record.next
