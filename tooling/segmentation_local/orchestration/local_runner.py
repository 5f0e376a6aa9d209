"""Run the deployed pipeline definition on this machine.

:func:`run_pipeline` renders the same ASL template Terraform deploys (with local values) and
executes it with :class:`~segmentation_local.orchestration.interpreter.StateMachine`. Each Task
state is dispatched by its resource ARN to the local code behind that AWS resource:

- ``glue:startJobRun.sync``            -> the Spark step of that Glue job name (clean, features,
                                          backtest), called with the Task's ``Arguments``
- ``emr-serverless:startJobRun.sync``  -> the cluster step, with the ``EntryPointArguments``
- ``lambda:invoke``                    -> the local Lambda handler of that function ARN
                                          (validate_input, monitor, publish)
- ``sns:publish``                      -> logged (and published when the topic exists locally)

so the order, parameters, retries and failure path are the definition's, never Python's.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from segmentation.config import Settings, get_settings
from segmentation_local.orchestration.asl import local_values, render_definition
from segmentation_local.orchestration.errors import StatesError
from segmentation_local.orchestration.interpreter import ExecutionResult, StateMachine, StateRecord

log = logging.getLogger(__name__)

GLUE_SYNC = "arn:aws:states:::glue:startJobRun.sync"
EMR_SYNC = "arn:aws:states:::emr-serverless:startJobRun.sync"
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
SNS_PUBLISH = "arn:aws:states:::sns:publish"
#: The pipeline steps that run as Glue jobs (the job's script is ``glue_jobs/<step>.py``, its
#: name the template variable ``glue_<step>_job_name``); the cluster step runs on EMR.
GLUE_STEPS: tuple[str, ...] = ("clean", "features", "backtest")


def glue_arguments(arguments: dict[str, str]) -> dict[str, str]:
    """Glue ``--name value`` arguments as the dict ``getResolvedOptions`` would return."""
    return {k[2:] if k.startswith("--") else k: str(v) for k, v in arguments.items()}


def cli_arguments(argv: list[str]) -> dict[str, str]:
    """``['--k', '5', ...]`` (EMR EntryPointArguments) as ``{'k': '5', ...}``: split by the
    steps' own argv parser, so the local run reads them exactly as the EMR step does."""
    from segmentation.pipeline.args import ArgumentError, split_argv

    if len(argv) % 2:
        raise StatesError("States.TaskFailed", f"odd number of entry-point arguments: {argv}")
    try:
        return split_argv([str(a) for a in argv])
    except ArgumentError as exc:
        raise StatesError("States.TaskFailed", str(exc)) from exc


class LocalDispatcher:
    """Maps a definition's resources to local code (see the module docstring).

    ``glue_steps`` maps Glue job names to pipeline steps (:data:`GLUE_STEPS`), ``functions``
    maps Lambda ARNs to ``lambdas/<dir>``: from the template values for a rendered definition
    (:meth:`from_values`), or from the emulator's resources for the deployed one
    (:func:`deployed_dispatcher`).
    """

    def __init__(
        self,
        settings: Settings,
        glue_steps: dict[str, str],
        functions: dict[str, str],
        topic_publish: bool = False,
    ) -> None:
        self.settings = settings
        self.glue_steps = glue_steps
        self.functions = functions
        self.topic_publish = topic_publish
        self._spark: Any = None
        self.notifications: list[dict[str, Any]] = []

    @classmethod
    def from_values(cls, settings: Settings, values: dict[str, str]) -> LocalDispatcher:
        return cls(
            settings,
            {values[f"glue_{step}_job_name"]: step for step in GLUE_STEPS},
            {
                values["publish_function_arn"]: "publish",
                values["validate_input_function_arn"]: "validate_input",
                values["monitor_function_arn"]: "monitor",
            },
        )

    # The steps are imported lazily: `segmentation run --help` must not start a JVM.
    def spark(self) -> Any:
        """The local session, started on first use and again when its JVM died (a retried Task
        must not reuse a dead session: on AWS each attempt is a new job run, a new JVM)."""
        from segmentation.spark import get_spark, session_alive

        if self._spark is None or not session_alive(self._spark):
            self._spark = get_spark("segmentation-pipeline", self.settings)
        return self._spark

    def glue_jobs(self) -> dict[str, Callable[[dict[str, str], Any], Any]]:
        from segmentation.pipeline import steps

        # looked up by name at call time (``steps.run_clean``...), as tests patch them
        return {name: getattr(steps, f"run_{step}") for name, step in self.glue_steps.items()}

    def lambdas(self) -> dict[str, str]:
        """Function ARN -> the ``lambdas/<name>`` directory whose handler runs it."""
        return self.functions

    def __call__(self, resource: str, parameters: Any, context: dict[str, Any]) -> Any:
        if resource == GLUE_SYNC:
            return self._glue(parameters)
        if resource == EMR_SYNC:
            return self._emr(parameters)
        if resource == LAMBDA_INVOKE:
            return self._lambda(parameters, context)
        if resource == SNS_PUBLISH:
            return self._sns(parameters)
        raise StatesError("States.TaskFailed", f"no local implementation for resource {resource}")

    def _glue(self, parameters: dict[str, Any]) -> dict[str, Any]:
        name = parameters.get("JobName")
        job = self.glue_jobs().get(name)
        if job is None:
            raise StatesError("Glue.EntityNotFoundException", f"no local Glue job named {name!r}")
        started = datetime.now(UTC)
        t0 = time.monotonic()
        try:
            job(glue_arguments(parameters.get("Arguments", {})), self.spark())
        except StatesError:
            raise
        except Exception as exc:
            raise StatesError(
                "States.TaskFailed",
                json.dumps({"JobName": name, "JobRunState": "FAILED", "ErrorMessage": str(exc)}),
            ) from exc
        return {
            "Id": f"jr_local_{uuid.uuid4().hex}",
            "JobName": name,
            "JobRunState": "SUCCEEDED",
            "StartedOn": started.isoformat(),
            "CompletedOn": datetime.now(UTC).isoformat(),
            "ExecutionTime": round(time.monotonic() - t0),
        }

    def _emr(self, parameters: dict[str, Any]) -> dict[str, Any]:
        from segmentation.pipeline import steps

        driver = parameters.get("JobDriver", {}).get("SparkSubmit", {})
        args = cli_arguments(list(driver.get("EntryPointArguments", [])))
        try:
            steps.run_cluster(args, self.spark())
        except StatesError:
            raise
        except Exception as exc:
            raise StatesError(
                "States.TaskFailed",
                json.dumps({"Name": parameters.get("Name"), "State": "FAILED", "Error": str(exc)}),
            ) from exc
        run_id = f"local-{uuid.uuid4().hex[:16]}"
        app = parameters.get("ApplicationId", "local")
        return {
            "ApplicationId": app,
            "JobRunId": run_id,
            "Arn": f"arn:aws:emr-serverless:local:000000000000:/applications/{app}"
            f"/jobruns/{run_id}",
        }

    def _lambda(self, parameters: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        from segmentation_local.lambda_context import LocalContext
        from segmentation_local.lambdas import load_handler

        name = parameters.get("FunctionName")
        function = self.lambdas().get(name)
        if function is None:
            raise StatesError("Lambda.ResourceNotFoundException", f"no local function {name!r}")
        try:
            payload = load_handler(function)(parameters.get("Payload", {}), LocalContext(function))
        except Exception as exc:
            # Lambda reports an unhandled exception as an error named after its type.
            raise StatesError(
                type(exc).__name__,
                json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__}),
            ) from exc
        return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": payload}

    def _sns(self, parameters: dict[str, Any]) -> dict[str, Any]:
        self.notifications.append(parameters)
        if self.topic_publish:  # the deployed topic exists in the emulator: really publish
            from segmentation.awsclients import client

            resp = client("sns", self.settings).publish(
                **{k: v for k, v in parameters.items() if k in {"TopicArn", "Subject", "Message"}}
            )
            print(f"[notify] published {resp['MessageId']}", file=sys.stderr, flush=True)
            return {"MessageId": resp["MessageId"]}
        print(
            f"[notify] {parameters.get('Subject', '')}: {parameters.get('Message', '')}",
            file=sys.stderr,
            flush=True,
        )
        return {"MessageId": str(uuid.uuid4())}


def _walk_tasks(definition: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in definition["States"].values() if s.get("Type") == "Task"]


def deployed_dispatcher(
    settings: Settings, state_machine: str = "segmentation-pipeline"
) -> tuple[dict[str, Any], LocalDispatcher]:
    """The definition Terraform deployed (read back from the emulator's Step Functions) and a
    dispatcher for its resources: each Glue job is mapped to the step its deployed script runs
    (``.../clean.py`` -> clean), each Lambda to the ``lambdas/<dir>`` its deployed name ends with
    (``segmentation-publish`` -> publish), and SNS notifications really go to the deployed topic.
    """
    from segmentation.awsclients import client
    from segmentation_local.lambdas import LAMBDAS_DIR

    sfn = client("stepfunctions", settings)
    arn = state_machine
    if not state_machine.startswith("arn:"):
        machines = [
            m["stateMachineArn"]
            for page in sfn.get_paginator("list_state_machines").paginate()
            for m in page["stateMachines"]
            if m["name"] == state_machine
        ]
        if not machines:
            raise FileNotFoundError(
                f"no state machine named {state_machine!r} at {settings.endpoint_url or 'AWS'}; "
                "apply terraform/envs/local first (make up) or run without --deployed"
            )
        arn = machines[0]
    definition = json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])
    glue = client("glue", settings)
    lam = client("lambda", settings)
    dirs = sorted((p.name for p in LAMBDAS_DIR.iterdir() if p.is_dir()), key=len, reverse=True)
    glue_steps: dict[str, str] = {}
    functions: dict[str, str] = {}
    for task in _walk_tasks(definition):
        params = task.get("Parameters", {})
        if task["Resource"] == GLUE_SYNC:
            job = params["JobName"]
            script = glue.get_job(JobName=job)["Job"]["Command"]["ScriptLocation"]
            step = script.rsplit("/", 1)[-1].removesuffix(".py")
            if step not in GLUE_STEPS:
                raise ValueError(f"Glue job {job!r} runs {script}, not a known pipeline step")
            glue_steps[job] = step
        elif task["Resource"] == LAMBDA_INVOKE:
            fn = params["FunctionName"]
            name = lam.get_function(FunctionName=fn)["Configuration"]["FunctionName"]
            match = next((d for d in dirs if name.replace("-", "_").endswith(d)), None)
            if match is None:
                raise ValueError(f"deployed function {name!r} matches no lambdas/<dir>")
            functions[fn] = match
    return definition, LocalDispatcher(settings, glue_steps, functions, topic_publish=True)


def print_progress(event: str, record: StateRecord) -> None:
    """One line per state start/end/retry, so a long local run shows where it is."""
    if event == "enter" and record.type == "Task":
        print(f"-> {record.name} ...", file=sys.stderr, flush=True)
    elif event == "retry":
        print(
            f"   {record.name}: attempt {record.attempts} failed ({record.error}); retrying",
            file=sys.stderr,
            flush=True,
        )
    elif event == "exit":
        note = f" [{record.error}]" if record.error and record.status != "succeeded" else ""
        nxt = f" -> {record.next}" if record.next else ""
        print(
            f"   {record.name:<24} {record.type:<7} {record.status:<9} "
            f"{record.duration_s:8.2f}s{nxt}{note}",
            file=sys.stderr,
            flush=True,
        )


def run_pipeline(
    execution_input: dict[str, Any],
    settings: Settings | None = None,
    *,
    execution_name: str | None = None,
    dispatcher: Any = None,
    retry_delay_scale: float = 0.0,
    progress: bool = True,
    deployed: str | None = None,
    on_state: Callable[[str, StateRecord], None] | None = None,
) -> ExecutionResult:
    """Execute the pipeline definition locally and return its report.

    ``retry_delay_scale`` multiplies the definition's retry intervals (0 = retry at once: the
    attempts and their order are the definition's, the waiting meant for AWS throttling is not).
    ``deployed`` names (or is the ARN of) the state machine Terraform deployed to the emulator:
    its stored definition is executed instead of a fresh rendering of the template.
    ``on_state`` replaces the progress lines (the console's recorder passes one that writes the
    execution's history, :mod:`segmentation_local.orchestration.executions`).
    """
    settings = settings or get_settings()
    if deployed:
        definition, deployed_dispatch = deployed_dispatcher(settings, deployed)
        dispatcher = dispatcher or deployed_dispatch
    else:
        values = local_values(settings)
        definition = render_definition(values)
        dispatcher = dispatcher or LocalDispatcher.from_values(settings, values)
    machine = StateMachine(
        definition,
        dispatcher,
        name="segmentation-pipeline",
        retry_delay_scale=retry_delay_scale,
        on_state=on_state or (print_progress if progress else None),
    )
    name = execution_name or f"local-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    return machine.execute(execution_input, name)
