"""The console's runs: start the pipeline's state machine, list and describe its executions.

The routes speak Step Functions' own API (StartExecution, ListExecutions, DescribeExecution,
GetExecutionHistory) through a client with boto3's method names and response shapes. On AWS it
is boto3's; locally the API Gateway adapter plugs in the local runner's recorder, which executes
the same ASL and records each execution in those shapes, so this module has one code path.

``POST /runs`` validates the body with the execution-input model (the pipeline's own message on
a bad field, the same one ``segmentation run`` and the ValidateInput state give) and passes only
the fields given: defaults are the definition's ApplyDefaults, as when the state machine is
started from the AWS console. A run started while another is running is refused with 409 and the
running one's id (the Glue jobs allow one run at a time anyway).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, ServiceError
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, Field

from segmentation.config import Settings, get_settings
from segmentation.pipeline.params import InvalidInput, validate_execution_input
from segmentation.serving.access import SECURITY, UNAUTHORIZED_RESPONSE, analyst_claims
from segmentation.serving.access import error_response as _error

router = Router()

#: Execution names Step Functions accepts (1-80 of these characters).
RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
BAD_ID = "run_id: expected 1-80 letters, digits, '-' or '_' (an id GET /runs lists)"
#: The pipeline's Task states, as the console's progress shows them.
STEPS = {
    "CleanEvents": "clean",
    "BuildFeatures": "features",
    "ClusterUsers": "cluster",
    "MonitorRun": "monitor",
    "PublishSegments": "publish",
    "BacktestSegments": "backtest",  # only when the input asks for it (backtest_horizon_days)
}


class RunConflict(BaseModel):
    statusCode: int = 409
    message: str
    running_id: str = Field(description="The run that is running.")


class RunStarted(BaseModel):
    run_id: str = Field(description="The execution's name: GET /runs/{run_id} follows it.")
    started_at: str


class RunSummary(BaseModel):
    run_id: str
    status: str = Field(description="RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED.")
    started_at: str
    stopped_at: str | None = None


class RunList(BaseModel):
    runs: list[RunSummary] = Field(description="Newest first.")


class StateVisit(BaseModel):
    name: str = Field(description="State name in the definition.")
    step: str | None = Field(description="clean, features, cluster, monitor, publish or backtest.")
    type: str
    status: str = Field(description="running, succeeded, failed or caught.")
    entered_at: str
    exited_at: str | None = None
    duration_s: float | None = None
    error: str | None = None
    cause: str | None = None


class RunDetail(RunSummary):
    input: dict[str, Any] | None = Field(description="The execution input as given.")
    output: dict[str, Any] | None = Field(description="The final state (SUCCEEDED only).")
    error: str | None = None
    cause: str | None = Field(None, description="A failed run's error, in words.")
    model_version: str | None = Field(description="The model version the run published.")
    states: list[StateVisit] = Field(description="Each state visited, in order.")


class _State:
    """The Step Functions client and the state machine's ARN, replaceable locally and in tests."""

    settings: Settings | None = None
    sfn: Any = None
    machine_arn: str | None = None

    def reset(self, settings: Settings | None = None, sfn: Any = None) -> None:
        self.settings, self.sfn, self.machine_arn = settings, sfn, None

    def get_settings(self) -> Settings:
        return self.settings or get_settings()

    def client(self) -> Any:
        if self.sfn is None:
            from segmentation.awsclients import client

            self.sfn = client("stepfunctions", self.get_settings())
        return self.sfn

    def arn(self) -> str:
        if self.machine_arn is None:
            settings = self.get_settings()
            self.machine_arn = settings.state_machine_arn or _find(self.client(), settings)
        return self.machine_arn


state = _State()


def _find(sfn: Any, settings: Settings) -> str:
    for page in sfn.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            if machine["name"] == settings.pipeline_name:
                return str(machine["stateMachineArn"])
    raise ServiceError(503, f"no state machine named {settings.pipeline_name}; deploy it first")


def execution_arn(machine_arn: str, run_id: str) -> str:
    """An execution's ARN from its state machine's and its name (Step Functions' rule)."""
    return machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + run_id


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds")
    return str(value)


@router.post(
    "/runs",
    summary="Start a segmentation run (StartExecution of the pipeline)",
    description="The body is the execution input (all fields optional; see "
    "docs/params.schema.json). 400 names the first bad field and what it allows, 409 when a "
    "run is already running. Needs a signed-in analyst.",
    security=SECURITY,
    responses={
        202: {"description": "Started", "content": {"application/json": {"model": RunStarted}}},
        400: _error("The input breaks the execution-input model"),
        401: UNAUTHORIZED_RESPONSE,
        409: {
            "description": "A run is already running",
            "content": {"application/json": {"model": RunConflict}},
        },
    },
)
def start_run() -> Response[RunStarted]:
    analyst_claims(router.current_event)
    try:
        payload = router.current_event.json_body
    except (ValueError, TypeError):
        raise BadRequestError("expected a JSON object (the execution input)") from None
    payload = {} if payload is None else payload
    try:
        validate_execution_input(payload)
    except InvalidInput as exc:
        raise BadRequestError(str(exc)) from None
    sfn, arn = state.client(), state.arn()
    running = sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING", maxResults=1)
    if running["executions"]:
        return _conflict(running["executions"][0]["name"])
    name = f"console-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    try:
        started = sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))
    except sfn.exceptions.ExecutionAlreadyExists:  # the local runner's atomic check lost a race
        running = sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING", maxResults=1)
        return _conflict(running["executions"][0]["name"] if running["executions"] else name)
    body = RunStarted(run_id=name, started_at=_iso(started["startDate"]) or "")
    return Response(202, content_type="application/json", body=body.model_dump())


def _conflict(running_id: str) -> Response[RunStarted]:
    body = RunConflict(message=f"run {running_id} is running; wait for it", running_id=running_id)
    return Response(409, content_type="application/json", body=body.model_dump())


@router.get(
    "/runs",
    summary="The pipeline's runs, newest first (ListExecutions)",
    security=SECURITY,
    responses={200: {"description": "The runs"}, 401: UNAUTHORIZED_RESPONSE},
)
def list_runs() -> RunList:
    analyst_claims(router.current_event)
    listing = state.client().list_executions(stateMachineArn=state.arn(), maxResults=50)
    return RunList(runs=[_summary(e) for e in listing["executions"]])


def _summary(execution: dict[str, Any]) -> RunSummary:
    return RunSummary(
        run_id=execution["name"],
        status=execution["status"],
        started_at=_iso(execution["startDate"]) or "",
        stopped_at=_iso(execution.get("stopDate")),
    )


RunIdPath = Annotated[str, Path(description="The run's id (its execution name).")]


@router.get(
    "/runs/<run_id>",
    summary="One run: its status, state by state (DescribeExecution + GetExecutionHistory)",
    security=SECURITY,
    responses={
        200: {"description": "The run"},
        400: _error(BAD_ID),
        401: UNAUTHORIZED_RESPONSE,
        404: _error("No run of that id"),
    },
)
def describe_run(run_id: RunIdPath) -> RunDetail:
    analyst_claims(router.current_event)
    if not RUN_ID.fullmatch(run_id):
        raise BadRequestError(BAD_ID)
    sfn = state.client()
    arn = execution_arn(state.arn(), run_id)
    try:
        described = sfn.describe_execution(executionArn=arn)
    except sfn.exceptions.ExecutionDoesNotExist:
        raise ServiceError(404, "no run of that id") from None
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        events += page["events"]
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    output = _parse(described.get("output"))
    steps = (output or {}).get("steps") or {}
    version = (steps.get("publish") or {}).get("model_version") or (steps.get("monitor") or {}).get(
        "model_version"
    )
    return RunDetail(
        **_summary(described).model_dump(),
        input=_parse(described.get("input")),
        output=output,
        error=described.get("error"),
        cause=described.get("cause"),
        model_version=version,
        states=states_from_history(events),
    )


def _parse(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def states_from_history(events: list[dict[str, Any]]) -> list[StateVisit]:
    """Each state visit from an execution's history events (``TaskStateEntered`` ...
    ``TaskStateExited``; a ``TaskFailed`` in between marks an attempt's error)."""
    visits: list[StateVisit] = []
    open_visit: StateVisit | None = None
    for event in events:
        kind = str(event["type"])
        at = event["timestamp"]
        if kind.endswith("StateEntered"):
            details = event.get("stateEnteredEventDetails") or {}
            name = details.get("name", "")
            open_visit = StateVisit(
                name=name,
                step=STEPS.get(name),
                type=kind.removesuffix("StateEntered"),
                status="running",
                entered_at=_iso(at) or "",
            )
            visits.append(open_visit)
        elif open_visit is not None and kind in {"TaskFailed", "TaskTimedOut"}:
            details = event.get("taskFailedEventDetails") or event.get("taskTimedOutEventDetails")
            open_visit.error = (details or {}).get("error")
            open_visit.cause = (details or {}).get("cause")
        elif open_visit is not None and kind == "TaskSucceeded":
            open_visit.error = open_visit.cause = None  # a retried attempt that then succeeded
        elif open_visit is not None and kind.endswith("StateExited"):
            open_visit.exited_at = _iso(at)
            entered = datetime.fromisoformat(open_visit.entered_at)
            exited = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
            open_visit.duration_s = round((exited - entered).total_seconds(), 3)
            open_visit.status = "caught" if open_visit.error else "succeeded"
            open_visit = None
        elif open_visit is not None and kind in {"ExecutionFailed", "ExecutionAborted"}:
            open_visit.status = "failed"
            details = event.get("executionFailedEventDetails") or {}
            open_visit.error = open_visit.error or details.get("error")
            open_visit.cause = open_visit.cause or details.get("cause")
    return visits
