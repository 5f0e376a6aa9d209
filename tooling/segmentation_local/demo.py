"""The local end-to-end demo: data in, segments out, looked up through the API.

``segmentation demo`` (and ``make demo``) runs, on this machine and with progress on every long
step:

1. the embedded services: moto server (the AWS), the Kafka-protocol broker, the MLflow server;
2. provisioning: ``terraform apply`` of terraform/envs/local against moto (or, with
   ``provision="python"``, the quick equivalent in :mod:`segmentation_local.bootstrap`), then the
   HMAC key (``keygen``);
3. a synthetic data set (segmentation_local.synthetic);
4. ingest through both doors: the last ``stream_days`` of events through Kafka -> poller -> the
   ingest Lambda; the history as a CSV uploaded to landing -> the batch ingest Lambda; the catalog
   to the raw zone;
5. the pipeline, by executing the state machine definition locally (clean -> features -> cluster
   -> publish);
6. the segment API (the Lambda behind the local API Gateway): a few users looked up, an unknown
   one, ``/segments``;
7. a report (segments: size, name, profile, actions; metrics; the MLflow run), then everything
   it started is stopped (unless ``keep_serving``).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from segmentation_local.doors import land_file, split_events, stream_file
from segmentation_local.ports import environment, pick_ports
from segmentation_local.process import Service
from segmentation_local.provisioning import provision_stack

if TYPE_CHECKING:
    from segmentation.model_document import ModelDocument

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class DemoConfig:
    users: int = 2000
    days: int = 90
    seed: int = 42
    stream_days: int = 7
    execution_input: dict[str, Any] = field(default_factory=dict)
    state_dir: Path = ROOT / ".local" / "demo"
    provision: str = "terraform"  # terraform | python
    free_ports: bool = False
    lookups: int = 5
    keep_serving: bool = False
    quiet: bool = False
    #: Called with the result while every service still runs (tests inspect the live stack).
    on_ready: Callable[[DemoResult], None] | None = None
    terraform_timeout: float = 900.0
    #: Consecutive weekly snapshots the state machine runs for (the first ``7 * (n - 1)`` days
    #: before the data set's end): from the second on, a newcomer sees keys held across runs,
    #: the run-over-run comparison and the monitor's figures. 1: a single run (the benches).
    snapshots: int = 2
    #: Users the served model has never seen, streamed through Kafka after the last run and
    #: assigned provisionally by the between-run job (``segmentation assign``); 0: skipped.
    new_users: int = 5


@dataclass
class DemoResult:
    """What the demo did and saw; the e2e test asserts on it."""

    api_url: str = ""
    dataset_dir: Path | None = None
    user_ids: list[str] = field(default_factory=list)
    ingest: dict[str, Any] = field(default_factory=dict)
    execution: dict[str, Any] = field(default_factory=dict)
    model: ModelDocument | None = None
    lookups: list[dict[str, Any]] = field(default_factory=list)
    segments: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    mlflow_url: str = ""
    #: The clean step of the execution (:func:`clean_summary`): new rows, time, curated's size.
    clean: dict[str, Any] = field(default_factory=dict)
    #: The run before the served one (``snapshots`` >= 2): its execution and model document.
    previous_execution: dict[str, Any] = field(default_factory=dict)
    previous_model: ModelDocument | None = None
    previous_clean: dict[str, Any] = field(default_factory=dict)
    #: Executes the state machine again on the live stack (same settings, dispatcher and Spark
    #: session; the input is merged over the demo's): for ``on_ready`` callbacks (the benches).
    rerun: Callable[[dict[str, Any]], Any] | None = field(default=None, repr=False)
    #: The between-run assignment after the last run (its step result) and the new users'
    #: lookups (raw ids only under ``_asked``; never in the report).
    assignment: dict[str, Any] = field(default_factory=dict)
    new_lookups: list[dict[str, Any]] = field(default_factory=list)
    new_user_ids: list[str] = field(default_factory=list)


class Progress:
    """Numbered steps with their durations, printed as they happen."""

    def __init__(self, total: int, quiet: bool = False) -> None:
        self.total, self.n, self.quiet = total, 0, quiet
        self.timings: dict[str, float] = {}

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, file=sys.stderr, flush=True)

    @contextlib.contextmanager
    def step(self, title: str) -> Iterator[None]:
        self.n += 1
        self.say(f"[{self.n}/{self.total}] {title} ...")
        t0 = time.monotonic()
        yield
        took = time.monotonic() - t0
        self.timings[title] = round(took, 2)
        self.say(f"[{self.n}/{self.total}] {title}: done in {took:.1f} s")


def _call(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def run_demo(config: DemoConfig) -> DemoResult:
    """Run the whole local demo; every process it starts is stopped before it returns.

    Library output (Spark's log, MLflow's warnings, py4j) goes to ``<state_dir>/logs/demo.log``
    and ``demo.spark.log``, not the terminal. The demo points this process's settings at its
    own services; the caller's environment is restored afterwards, so running it inside a
    longer-lived process (tests, a notebook) leaves no stale endpoints or log levels behind.
    """
    from segmentation_local.quiet import library_output_to

    saved = dict(os.environ)
    log_file = config.state_dir / "logs" / "demo.log"
    try:
        with library_output_to(log_file):
            result = _run_demo(config)
        if not config.quiet:
            print(f"library output (Spark, MLflow, py4j, warnings): {log_file}", file=sys.stderr)
        return result
    finally:
        os.environ.clear()
        os.environ.update(saved)
        from segmentation.config import get_settings

        get_settings.cache_clear()


def _run_demo(config: DemoConfig) -> DemoResult:
    if config.snapshots not in (1, 2):
        raise ValueError(f"snapshots must be 1 or 2, got {config.snapshots}")
    if config.snapshots == 2 and not 0 < config.stream_days < config.days:
        raise ValueError(
            f"two snapshots need 0 < stream_days < days, got {config.stream_days} and {config.days}"
        )
    two = config.snapshots == 2
    progress = Progress((10 if two else 8) + (1 if config.new_users else 0), config.quiet)
    say = progress.say
    result = DemoResult()
    config.state_dir.mkdir(parents=True, exist_ok=True)
    ports = pick_ports(config.free_ports)
    os.environ.update(environment(ports))
    from segmentation.config import get_settings

    get_settings.cache_clear()
    settings = get_settings()
    services: list[Service] = []
    api = None
    spark = None
    try:
        with progress.step("start moto server, Kafka broker"):
            from segmentation_local.broker import broker_service, create_topic
            from segmentation_local.motoserver import moto_service

            logs = config.state_dir / "logs"
            services.append(moto_service(ports["moto"], logs).start())
            services.append(broker_service(ports["broker"], logs).start())
            create_topic(settings.kafka_bootstrap, settings.kafka_topic)
            say(f"    moto {settings.endpoint_url}, broker {settings.kafka_bootstrap}")

        with progress.step(f"provision the local AWS ({config.provision})"):
            provision_stack(
                settings, config.provision, config.state_dir, say, config.terraform_timeout
            )

        with progress.step("start MLflow server"):
            from segmentation_local.mlflow_server import mlflow_service

            mlflow = mlflow_service(settings, config.state_dir / "mlflow", ports["mlflow"])
            services.append(mlflow.start())
            say(f"    MLflow {settings.mlflow_tracking_uri}")

        with progress.step(f"generate {config.users} users x {config.days} days of events"):
            from segmentation_local.synthetic.params import GenerateParams
            from segmentation_local.synthetic.service import generate_to

            params = GenerateParams(users=config.users, days=config.days, seed=config.seed)
            dataset = config.state_dir / "data"
            shutil.rmtree(dataset, ignore_errors=True)
            summary, _ = generate_to(params, dataset)
            result.dataset_dir = dataset
            import pyarrow.parquet as pq

            result.user_ids = [
                str(u) for u in pq.read_table(dataset / "users.parquet", columns=["user_id"])[0]
            ]
            say(f"    {summary['counts']['events']:,} events of {len(result.user_ids):,} users")

        if two:
            with progress.step(
                f"ingest: history via landing (all but the last {config.stream_days} days)"
            ):
                split, split_s = _prepare_ingest(settings, dataset, params, config)
                result.ingest = {"split_seconds": split_s}
                result.ingest.update(_ingest(settings, split, config, say, ("landing",)))
        else:
            with progress.step("ingest: recent events via Kafka, history via landing"):
                split, split_s = _prepare_ingest(settings, dataset, params, config)
                result.ingest = {"split_seconds": split_s}
                result.ingest.update(_ingest(settings, split, config, say))

        from segmentation.serving.lake_reader import read_model_document
        from segmentation_local.orchestration.asl import local_values
        from segmentation_local.orchestration.local_runner import (
            LocalDispatcher,
            deployed_dispatcher,
            run_pipeline,
        )

        deployed = None
        if config.provision == "terraform":
            # Follow the definition Terraform deployed, read back from the emulator.
            deployed = "segmentation-pipeline"
            _, dispatcher = deployed_dispatcher(settings, deployed)
            say("    executing the deployed state machine 'segmentation-pipeline'")
        else:
            dispatcher = LocalDispatcher.from_values(settings, local_values(settings))
        snapshots = [params.end_date]
        window_days = config.days
        if two:  # the first run sees the history; the second, a stream batch later, all of it
            snapshots.insert(0, params.end_date - timedelta(days=config.stream_days))
            # both windows full and of one length, as week after week in production: the
            # features (counts over the window) then compare like with like
            window_days = config.days - config.stream_days
        for i, snapshot in enumerate(snapshots):
            if i:
                with progress.step(f"ingest: the last {config.stream_days} days via Kafka"):
                    result.ingest.update(_ingest(settings, split, config, say, ("stream",)))
            title = (
                "run the state machine locally (clean, features, cluster, monitor, publish)"
                if i == 0
                else "run it again on the new days (clean what is new, keys held, monitor)"
            )
            with progress.step(f"{title}; snapshot {snapshot.isoformat()}"):
                payload = {
                    "snapshot_date": snapshot.isoformat(),
                    "window_days": window_days,
                    **config.execution_input,
                }
                execution = run_pipeline(
                    payload, settings, dispatcher=dispatcher, deployed=deployed
                )
                spark = dispatcher._spark
                if execution.status != "SUCCEEDED":
                    raise RuntimeError(
                        f"pipeline execution failed: {execution.error}: {execution.cause}"
                    )
                if result.execution:
                    result.previous_execution, result.previous_model = (
                        result.execution,
                        result.model,
                    )
                result.execution = execution.to_dict()
                if result.clean:
                    result.previous_clean = result.clean
                result.clean = clean_summary(settings, result.execution)
                result.model = read_model_document(settings, execution.output["model_version"])
                say(f"    model {result.model.model_version}: {_keys_line(result.model)}")

        def rerun(extra: dict[str, Any], _payload: dict[str, Any] = payload) -> Any:
            nonlocal spark
            again = run_pipeline(
                {**_payload, **extra}, settings, dispatcher=dispatcher, deployed=deployed
            )
            spark = dispatcher._spark  # a retried task may have started a new session
            return again

        result.rerun = rerun
        if config.new_users:
            with progress.step(
                f"{config.new_users} new users via Kafka; assign them between runs "
                "(segmentation assign)"
            ):
                result.new_user_ids, result.assignment = _assign_new_users(
                    settings, params, config, window_days, dispatcher.spark(), say
                )
                spark = dispatcher._spark
        if result.model.mlflow_run_id:
            result.mlflow_url = (
                f"{settings.mlflow_tracking_uri}/#/runs/{result.model.mlflow_run_id}"
            )

        with progress.step("serve the segment API and look users up"):
            from segmentation_local.api_gateway import LocalApi

            api = LocalApi(port=ports["api"]).__enter__()
            result.api_url = api.url
            rng = random.Random(config.seed)
            for uid in rng.sample(result.user_ids, min(config.lookups, len(result.user_ids))):
                status, body = _call(f"{api.url}/users/{quote(uid)}/segment")
                result.lookups.append({"status": status, **body, "_asked": uid})
            for uid in result.new_user_ids:
                status, body = _call(f"{api.url}/users/{quote(uid)}/segment")
                result.new_lookups.append({"status": status, **body, "_asked": uid})
            status, body = _call(f"{api.url}/users/not-a-known-user/segment")
            result.lookups.append({"status": status, **body, "_asked": "not-a-known-user"})
            _, result.segments = _call(f"{api.url}/segments")

        with progress.step("report"):
            print(render_report(result), flush=True)
        result.timings = progress.timings
        if config.on_ready is not None:
            config.on_ready(result)
        if config.keep_serving:
            say(f"API on {result.api_url}, MLflow on {settings.mlflow_tracking_uri}; Ctrl-C stops")
            with _console(config.state_dir, settings, say), contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(1)
        return result
    finally:
        if api is not None:
            api.__exit__(None, None, None)
        if spark is not None:
            with contextlib.suppress(Exception):
                spark.stop()
        for service in reversed(services):
            service.stop()
        say("stopped every service the demo started")


def _prepare_ingest(
    settings: Any, dataset: Path, params: Any, config: DemoConfig
) -> tuple[dict[str, Any], float]:
    """The generator's events split for the two doors (the last ``stream_days`` to stream, the
    history as a CSV) and the catalog uploaded; returns the split and its seconds."""
    from segmentation.awsclients import client
    from segmentation.ingest.catalog import upload_catalog

    work = config.state_dir / "ingest"
    work.mkdir(exist_ok=True)
    t0 = time.monotonic()
    split = split_events(dataset, config.stream_days, params.window_end, work)
    upload_catalog(dataset / "catalog.parquet", client("s3", settings), settings)
    return split, round(time.monotonic() - t0, 2)


def _ingest(
    settings: Any,
    split: dict[str, Any],
    config: DemoConfig,
    say: Callable[[str], None],
    doors: tuple[str, ...] = ("stream", "landing"),
) -> dict[str, Any]:
    """The split events through the two doors: the stream through Kafka -> poller -> ingest
    Lambda, the history as a landing CSV -> batch ingest Lambda; ``doors`` picks which of them
    this call opens (the two-snapshot demo streams after its first run)."""
    out: dict[str, Any] = {}
    if "landing" in doors:
        out.update(_ingest_landing(settings, split, say))
    if "stream" in doors:
        out.update(_ingest_stream(settings, split, config, say))
    return out


def _ingest_stream(
    settings: Any, split: dict[str, Any], config: DemoConfig, say: Callable[[str], None]
) -> dict[str, Any]:
    say(f"    streaming {split['streamed']:,} events of the last {config.stream_days} days")
    t0 = time.monotonic()
    produced, poll = stream_file(settings, split["stream_file"], progress=not config.quiet)
    stream_s = time.monotonic() - t0
    say(f"    ingest Lambda: {poll.records:,} records in {poll.batches} batches ({stream_s:.1f} s)")
    return {
        "stream_seconds": round(stream_s, 2),
        "streamed": produced.sent,
        "stream_failed": produced.failed,
        "polled": poll.records,
    }


def _assign_new_users(
    settings: Any,
    params: Any,
    config: DemoConfig,
    window_days: int,
    spark: Any,
    say: Callable[[str], None],
) -> tuple[list[str], dict[str, Any]]:
    """A week of events of users the served version never saw, streamed through Kafka into the
    hot zone, then the between-run assignment (the step ``segmentation assign`` runs)."""
    import pandas as pd

    from segmentation.contract import COLUMNS
    from segmentation.pipeline.assign import describe
    from segmentation.pipeline.steps import run_step
    from segmentation_local.synthetic.generator import generate
    from segmentation_local.synthetic.params import DefectRates, GenerateParams

    fresh = GenerateParams(
        users=config.new_users,
        days=7,
        end_date=params.end_date,
        seed=config.seed + 1,
        catalog_size=50,
        defects=DefectRates.none(),
    )
    events = generate(fresh).events.to_pandas()
    for col in ("user_id", "event_id", "session_id"):  # ids no earlier event had
        events[col] = "new-" + events[col].astype(str)
    events["timestamp"] = pd.to_datetime(events["timestamp"], utc=True).dt.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    path = config.state_dir / "new-users.csv"
    events[list(COLUMNS)].to_csv(path, index=False)
    produced, _ = stream_file(settings, path)
    say(f"    {produced.sent:,} events of {config.new_users} new users through Kafka")
    result = run_step(
        "assign",
        {
            "lake_prefix": settings.lake_prefix,
            "snapshot_date": params.end_date.isoformat(),
            "window_days": str(window_days),
        },
        spark,
    )
    say("    " + describe(result))
    return sorted(events["user_id"].unique()), result


def assignment_lines(result: DemoResult) -> list[str]:
    """The between-run assignment in the report: the step's line and the new users' answers."""
    if not result.assignment:
        return []
    from segmentation.pipeline.assign import describe

    provisional = [look for look in result.new_lookups if look.get("provisional")]
    lines = ["", describe(result.assignment)]
    lines.append(
        f"  new users looked up: {len(provisional)} of {len(result.new_lookups)} served "
        "provisionally (GET /users/{user_id}/segment: provisional true, assigned_at); "
        f"/segments counts {result.segments.get('provisional_users', 0)} apart from the fit's sizes"
    )
    return lines


def _ingest_landing(
    settings: Any, split: dict[str, Any], say: Callable[[str], None]
) -> dict[str, Any]:
    t0 = time.monotonic()
    key = "incoming/history.csv"
    say(
        f"    uploading {split['history_rows']:,} historical events to "
        f"s3://{settings.bucket('landing')}/{key}"
    )
    report = land_file(settings, split["history_file"], key)
    batch_s = time.monotonic() - t0
    say(
        f"    batch ingest Lambda: {report.get('rows_total', 0):,} rows, "
        f"{report.get('rows_rejected', 0):,} quarantined ({batch_s:.1f} s with the upload)"
    )
    return {
        "batch_seconds": round(batch_s, 2),
        "history_rows": split["history_rows"],
        "batch_report": report,
    }


def clean_summary(settings: Any, execution: dict[str, Any]) -> dict[str, Any]:
    """What the execution's clean step did, from the lake: its quality report (at
    ``LakePaths(settings).quality_report(run_id)``, absent when clean had nothing new) and the
    committed ledger manifest (and the one before the run: the objects it found already cleaned);
    the time is the ``CleanEvents`` state's duration (locally too the state's output holds only
    the Glue job run id)."""
    from botocore.exceptions import ClientError

    from segmentation.awsclients import client
    from segmentation.lake import LEDGER, LakePaths
    from segmentation.ledger import Ledger, Manifest

    def s3_text(uri: str) -> str:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()

    output = execution.get("output") or {}
    run_id = output.get("run_id") or (output.get("params") or {}).get("run_id")
    seconds = next(
        (s["duration_s"] for s in execution.get("states", []) if s["name"] == "CleanEvents"), None
    )
    s3 = client("s3", settings)
    out: dict[str, Any] = {"run_id": run_id, "seconds": seconds, "noop": True}
    if run_id:
        try:
            report = json.loads(s3_text(LakePaths(settings).quality_report(run_id)))
        except ClientError:  # a no-op run writes no report
            report = None
        if report is not None:
            quarantined = report.get("quarantined") or {}
            out.update(
                noop=False,
                rebuild=bool(report.get("rebuild")),
                rows_in=int(report.get("rows_in", 0)),
                new_rows=int(report.get("new_rows_out", 0)),
                objects_new=int(report.get("objects_new", 0)),
                quarantined=sum(quarantined.values())
                if isinstance(quarantined, dict)
                else int(quarantined),
                against_history=int((report.get("duplicates") or {}).get("against_history", 0)),
                days_written=len(report.get("days_written") or []),
                objects_before=0,
            )
            before = int(report.get("version", 1)) - 1  # the head the run started from
            listed = s3.list_objects_v2(
                Bucket=settings.bucket("curated"), Prefix=f"{LEDGER}/manifest-{before:06d}-"
            ).get("Contents", [])
            if before and listed:
                previous = Manifest.from_json(
                    s3_text(settings.zone_uri("curated", listed[0]["Key"]))
                )
                out["objects_before"] = len(previous.objects)
    head = Ledger(client("dynamodb", settings), settings.ledger_table).head()
    if head.manifest_uri:
        manifest = Manifest.from_json(s3_text(settings.zone_uri("curated", head.manifest_uri)))
        out.update(
            version=manifest.version,
            curated_rows=sum(int(p["rows"]) for p in manifest.partitions.values()),
            curated_days=len(manifest.partitions),
            objects_cleaned=len(manifest.objects),
        )
    return out


def clean_line(clean: dict[str, Any]) -> str:
    """``clean: 4,632,924 new rows from 97 new objects (0 already cleaned), 31.2 s; ...``

    Already cleaned: the objects the ledger held when the run started (compaction may since have
    merged objects, so the count after the run is not the sum)."""
    took = f"{clean['seconds']:.1f} s" if clean.get("seconds") is not None else "? s"
    if clean.get("noop", True):
        head = f"clean: nothing new (no-op), {took}"
    else:
        rows, objects = f"{clean.get('rows_in', 0):,}", f"{clean.get('objects_new', 0):,}"
        if clean.get("rebuild"):
            head = f"clean (full rebuild): {rows} rows from {objects} objects, {took}"
        else:
            head = (
                f"clean: {rows} new rows from {objects} new objects "
                f"({clean.get('objects_before', 0):,} already cleaned), {took}"
            )
    if "version" not in clean:
        return head
    return (
        f"{head}; curated holds {clean.get('curated_rows', 0):,} rows in "
        f"{clean.get('curated_days', 0)} days (version {clean['version']})"
    )


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _keys_line(model: ModelDocument) -> str:
    return ", ".join(f"{seg.segment_key} {seg.name} ({seg.size:,})" for seg in model.segments)


def run_over_run_lines(result: DemoResult) -> list[str]:
    """What changed between the demo's two runs: keys held, new and retired, the adjusted Rand
    index on the users in both, the largest share shift and PSI, and what the monitor said."""
    m, prev = result.model, result.previous_model
    if m is None or prev is None:
        return []
    c = m.comparison
    lines = [
        f"run over run: {prev.model_version} (snapshot {prev.snapshot_date}) -> "
        f"{m.model_version} (snapshot {m.snapshot_date})"
    ]
    before = {s.segment_key: s for s in prev.segments}
    held = [s for s in m.segments if s.segment_key in before]
    new = [s for s in m.segments if s.segment_key not in before]
    lines.append(
        f"  keys held: {len(held)} of {len(prev.segments)}; new: {len(new)}; retired: "
        f"{len(m.retired_segments)}"
    )
    for seg in m.segments:
        old = before.get(seg.segment_key)
        if old is None:
            lines.append(f"    {seg.segment_key} {seg.name}: new, {seg.size:,} users")
            continue
        renamed = f" (was {seg.renamed_from})" if seg.renamed_from else ""
        lines.append(
            f"    {seg.segment_key} {seg.name}{renamed}: {old.size:,} -> {seg.size:,} users, "
            f"since {seg.since}"
        )
    for gone in m.retired_segments:
        lines.append(f"    {gone.segment_key} {gone.name}: retired ({gone.last_size:,} users)")
    if c is not None:
        psi = max(c.feature_psi.items(), key=lambda kv: kv[1], default=None)
        lines.append(
            f"  {c.common_users:,} users in both: adjusted Rand index {_fmt(c.ari)}; largest "
            f"share shift {c.largest_share_shift:.1%}"
            + (f"; largest PSI {psi[1]:.3f} ({psi[0]})" if psi else "")
        )
    mon = (result.execution.get("output") or {}).get("steps", {}).get("monitor") or {}
    if mon:
        crossed = mon.get("crossed") or []
        gate = "pointer flipped" if mon.get("flip") else "pointer held (drift_gate hold)"
        lines.append(
            "monitor: " + ("; ".join(crossed) if crossed else "no threshold crossed") + f"; {gate}"
        )
        figs = mon.get("figures") or {}
        shown = ", ".join(f"{k} {_fmt(v)}" for k, v in figs.items() if v is not None)
        if shown:
            lines.append(f"  figures (CloudWatch namespace Segmentation): {shown}")
    return lines


def render_report(result: DemoResult) -> str:
    """The human-readable report (no raw user ids: lookups are shown by position only)."""
    lines = ["", "=" * 78, "segmentation demo report", "=" * 78]
    ing = result.ingest
    batch = ing.get("batch_report", {})
    lines.append(
        f"ingest: {ing.get('polled', 0):,} events streamed through Kafka; "
        f"{batch.get('rows_total', 0):,} historical rows via landing "
        f"({batch.get('rows_rejected', 0):,} quarantined)"
    )
    if result.previous_clean:
        lines.append(f"first run, {clean_line(result.previous_clean)}")
    if result.clean:
        lines.append(("second run, " if result.previous_clean else "") + clean_line(result.clean))
    lines.append("pipeline (local execution of step_functions/segmentation_pipeline.asl.json):")
    for s in result.execution.get("states", []):
        if s["type"] == "Task":
            lines.append(f"  {s['name']:<18} {s['status']:<10} {s['duration_s']:7.1f} s")
    m = result.model
    if m is not None:
        lines.append(
            f"model: {m.model_version}  algorithm {m.algorithm}  "
            f"users {m.n_users}  params {json.dumps(m.params)}"
        )
        if m.metrics:
            lines.append("metrics: " + ", ".join(f"{k} {_fmt(v)}" for k, v in m.metrics.items()))
        for warning in m.data_warnings:
            lines.append(f"warning: {warning}")
        if m.feature_space is not None:
            fs = m.feature_space
            lines.append(
                f"features: {len(fs.features)} in the model"
                + (f" (log1p: {', '.join(fs.log1p)})" if fs.log1p else "")
                + (f"; {len(fs.shrinkage)} shares shrunk by event count" if fs.shrinkage else "")
            )
            for name, why in fs.left_out.items():
                lines.append(f"  left out: {name}: {why}")
        for note in m.fit_notes:
            lines.append(f"fit: {note}")
    ror = run_over_run_lines(result)
    if ror:
        lines.append("")
        lines.extend(ror)
    lines.append("")
    lines.append(f"segments (from {result.api_url}/segments):")
    for seg in result.segments.get("segments", []):
        lines.append(
            f"  [{seg.get('segment_key') or seg['segment_id']}] {seg['segment_name']:<28} "
            f"{seg['size']:>6} users "
            f"({seg['share']:.1%})"
        )
        if seg.get("summary"):
            lines.append(f"      {seg['summary']}")
        for action in seg.get("recommended_actions", [])[:3]:
            lines.append(f"      - {action}")
    lines.append("")
    lines.append("lookups (GET /users/{user_id}/segment):")
    for i, look in enumerate(result.lookups, 1):
        who = "an unknown user" if look["_asked"] == "not-a-known-user" else f"user #{i}"
        if look["status"] == 200:
            lines.append(f"  {who}: {look['status']} -> {look['segment_name']}")
        else:
            lines.append(f"  {who}: {look['status']} {look.get('message', '')}")
    lines += assignment_lines(result)
    if result.mlflow_url:
        lines.append("")
        lines.append(
            f"MLflow run: {result.mlflow_url} (while the services run; --serve keeps them)"
        )
    lines.append("=" * 78)
    return "\n".join(lines)


def _console(state_dir: Path, settings: Any, say: Callable[[str], None]) -> Any:
    """The web console beside the kept services, with an analyst to sign in as."""
    from segmentation_local.cognito import add_analyst
    from segmentation_local.console import LocalConsole

    console = LocalConsole(state_dir / "console", settings)
    email = f"analyst-{random.randrange(10**6):06d}@example.com"
    password = add_analyst(email, settings)
    say(f"web console on {console.url}: sign in as {email}, one-time password {password}")
    return console
