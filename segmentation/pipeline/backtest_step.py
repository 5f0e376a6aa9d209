"""The backtest as a pipeline step: a model version's segments against the RFM cells, on what
their users did after the version's snapshot.

The step's ``snapshot_date`` is the **end** of the horizon: the state machine runs it after
publish with the run's own day and ``horizon_days`` H, because the ASL cannot subtract days.
So the step picks the version itself: the newest one whose snapshot T is at least H days before
``snapshot_date`` (or the ``model_version`` given), and reads, from the lake the pipeline wrote:

* the features of T (``LakePaths.features``): RFM's recency, frequency and monetary;
* the version's segment map;
* the curated events of (T, T + H] through the run ledger's committed manifest (never a
  listing of curated), reduced in Spark to one row per user and event type, so only that
  small table reaches the driver.

It computes the figures (:func:`segmentation.pipeline.backtest.backtest`), logs them as an
MLflow run tagged with the model version (and tags the registered version with the run), and
writes them as JSON beside the version's ``profiles.json``
(``profiles/model_version=<v>/backtest-<H>d.json``). The step's result is the headline:
which version, its snapshot, the horizon, the variance explained per outcome for the segments
and for RFM, the group counts, the MLflow run and the report's URI.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from segmentation.lake import PROFILES, LakePaths
from segmentation.model_document import ModelDocument, ModelDocumentError
from segmentation.pipeline import lakeio
from segmentation.pipeline.backtest import Backtest

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from segmentation.pipeline.params import BacktestParams

log = logging.getLogger(__name__)

#: The feature columns the RFM baseline is built from (the segments come from the segment map).
RFM_COLUMNS = ("recency_days", "frequency", "monetary")
#: The groupings' names in the result and the MLflow metrics (``r2_<slug>_<outcome>``).
SLUGS = {"segments": "segments", "RFM 5x5x5": "rfm"}


@dataclass(frozen=True)
class Candidate:
    """A model version found in the segments zone: its snapshot and when its document was
    written (milliseconds; what tells two versions of one snapshot apart)."""

    model_version: str
    snapshot_date: date
    written: int
    registered_model: str | None = None


def choose_version(candidates: list[Candidate], latest_snapshot: date, root: str) -> Candidate:
    """The newest version (by snapshot, then by when it was written) whose snapshot is on or
    before ``latest_snapshot``; FileNotFoundError saying what there is when none is."""
    old_enough = [c for c in candidates if c.snapshot_date <= latest_snapshot]
    if not old_enough:
        found = sorted({c.snapshot_date.isoformat() for c in candidates})
        have = f"the versions there are of {', '.join(found)}" if found else "there is none"
        raise FileNotFoundError(
            f"no model version of snapshot {latest_snapshot} or earlier in {root} ({have}); "
            f"run the pipeline with --snapshot-date {latest_snapshot} (or earlier) first"
        )
    return max(old_enough, key=lambda c: (c.snapshot_date, c.written, c.model_version))


def model_versions(spark: SparkSession, paths: LakePaths) -> list[Candidate]:
    """Every readable model document of the segments zone (an unreadable one is logged and left
    out: an old schema must not block the backtest of the versions after it)."""
    root = paths.settings.zone_uri("segments", PROFILES, scheme=paths.scheme)
    if not lakeio.exists(spark, root):
        return []
    fs, path = lakeio.fs_path(spark, root)
    out = []
    for status in fs.listStatus(path):
        if not status.getPath().getName().startswith("model_version="):
            continue
        doc = status.getPath().suffix("/profiles.json")
        if not fs.exists(doc):
            continue
        try:
            document = ModelDocument.from_json(lakeio.read_text(spark, doc.toString()), str(doc))
        except ModelDocumentError as exc:
            log.warning("left out of the backtest's choice: %s", exc)
            continue
        out.append(
            Candidate(
                document.model_version,
                document.snapshot_date,
                int(fs.getFileStatus(doc).getModificationTime()),
                document.registered_model,
            )
        )
    return out


def given_version(spark: SparkSession, paths: LakePaths, model_version: str) -> Candidate:
    uri = paths.profiles(model_version)
    if not lakeio.exists(spark, uri):
        raise FileNotFoundError(
            f"model version {model_version!r} has no model document at {uri}; expected a "
            "version the cluster step wrote (the profiles/model_version=... folders)"
        )
    document = ModelDocument.from_json(lakeio.read_text(spark, uri), uri)
    return Candidate(document.model_version, document.snapshot_date, 0, document.registered_model)


def horizon_activity(events: DataFrame, start: int, end: int) -> DataFrame:
    """The horizon's events ``start <= event_ts < end`` (epoch seconds) as one row per user and
    event type: ``user_anon_id, event_type, events, amount`` (the amounts summed, null when
    none). The outcomes (:func:`segmentation.pipeline.backtest.outcomes`) read the same from
    this as from the events themselves, and it is small enough for the driver."""
    from pyspark.sql import functions as F

    epoch = F.col("event_ts").cast("long")
    return (
        events.where((epoch >= start) & (epoch < end))
        .groupBy("user_anon_id", "event_type")
        .agg(F.count(F.lit(1)).alias("events"), F.sum("amount").alias("amount"))
    )


def plain(value: Any) -> Any:
    """JSON-safe copy: numpy scalars as Python numbers, NaN / infinity as null."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()  # numpy scalar
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass
class BacktestRun:
    """What one backtest did: the version, its horizon, the figures and where they went."""

    version: Candidate
    chosen: str
    horizon_end: date
    horizon_days: int
    days_with_events: int
    result: Backtest
    run_id: str
    mlflow_run_id: str | None = None
    report_uri: str | None = None

    @property
    def first_day(self) -> date:
        return self.version.snapshot_date + timedelta(days=1)

    @property
    def last_day(self) -> date:
        return self.version.snapshot_date + timedelta(days=self.horizon_days)

    def summary(self) -> dict[str, Any]:
        """The step's result: the headline, small enough for a job's output line."""
        groupings = {SLUGS.get(g.name, g.name): g for g in self.result.groupings}
        return plain(
            {
                "step": "backtest",
                "run_id": self.run_id,
                "model_version": self.version.model_version,
                "chosen": self.chosen,
                "snapshot_date": self.version.snapshot_date.isoformat(),
                "horizon_days": self.horizon_days,
                "horizon": [self.first_day.isoformat(), self.last_day.isoformat()],
                "horizon_days_with_events": self.days_with_events,
                "users": self.result.users,
                "groups": {k: g.groups for k, g in groupings.items()},
                "r2": {k: dict(g.r2) for k, g in groupings.items()},
                "overall": self.result.overall,
                "mlflow_run_id": self.mlflow_run_id,
                "report": self.report_uri,
            }
        )

    def report(self) -> dict[str, Any]:
        """The lake's JSON: the headline and both groupings' tables."""
        head = self.summary()
        head.pop("step")
        return plain({"kind": "backtest", **head, **self.result.to_dict()})


def evaluate(spark: SparkSession, params: BacktestParams, paths: LakePaths) -> BacktestRun:
    """Choose the version, read its inputs, compute the figures, log and write them."""
    from segmentation.awsclients import client
    from segmentation.ledger import Ledger
    from segmentation.pipeline.backtest import backtest, log_to_mlflow, registry_tags
    from segmentation.pipeline.clean_rules import window_bounds
    from segmentation.pipeline.curated import current_manifest, read_curated

    horizon = params.horizon_days
    latest = params.snapshot_date - timedelta(days=horizon)
    if params.model_version:
        version = given_version(spark, paths, params.model_version)
        chosen = "given"
        if version.snapshot_date > latest:
            raise ValueError(
                f"model version {version.model_version} is of snapshot {version.snapshot_date}: "
                f"its {horizon}-day horizon ends on {version.snapshot_date + timedelta(horizon)}, "
                f"after snapshot_date {params.snapshot_date}; expected a version of "
                f"{latest} or earlier"
            )
    else:
        root = paths.settings.zone_uri("segments", PROFILES, scheme=paths.scheme)
        version = choose_version(model_versions(spark, paths), latest, root)
        chosen = f"newest of snapshot {latest} or earlier"
    snapshot = version.snapshot_date
    first, last = snapshot + timedelta(days=1), snapshot + timedelta(days=horizon)
    log.info(
        "backtest of %s (snapshot %s; %s) over %s .. %s",
        version.model_version,
        snapshot,
        chosen,
        first,
        last,
    )

    features_uri = paths.features(snapshot.isoformat())
    map_uri = paths.segment_map(version.model_version)
    for what, uri in (("features", features_uri), ("segment map", map_uri)):
        if not lakeio.exists(spark, uri):
            raise FileNotFoundError(
                f"no {what} of model version {version.model_version} (snapshot {snapshot}) at "
                f"{uri}; expected the outputs of the run that fitted it"
            )
    features = (
        spark.read.parquet(features_uri)
        .select("user_anon_id", *RFM_COLUMNS)
        .toPandas()
        .set_index("user_anon_id")
    )
    segments = (
        spark.read.parquet(map_uri)
        .select("user_anon_id", "segment_name")
        .toPandas()
        .set_index("user_anon_id")["segment_name"]
    )
    ledger = Ledger(client("dynamodb", paths.settings), params.ledger_table)
    manifest = current_manifest(spark, paths, ledger)
    events = read_curated(spark, paths, manifest, first.isoformat(), last.isoformat())
    start, end = window_bounds(last, horizon)  # (T, T + H] as whole UTC days
    activity = None if events is None else horizon_activity(events, start, end).toPandas()
    if activity is None or activity.empty:
        raise ValueError(
            f"no curated events in {first} .. {last}, the {horizon} days after model version "
            f"{version.model_version}'s snapshot {snapshot}: the horizon needs those days "
            "ingested and cleaned (locally: generate a continuation, ingest it, run clean)"
        )
    days = sum(1 for d in manifest.partitions if first.isoformat() <= d <= last.isoformat())
    if days < horizon:
        log.warning(
            "curated holds events on %d of the horizon's %d days (%s .. %s): the figures cover "
            "only those",
            days,
            horizon,
            first,
            last,
        )
    result = backtest(features, segments, activity, horizon, params.splits, params.seed)
    run = BacktestRun(version, chosen, params.snapshot_date, horizon, days, result, params.run_id)

    if params.mlflow:
        run.mlflow_run_id = log_to_mlflow(
            result,
            params.mlflow_tracking_uri,
            params.mlflow_experiment,
            version.model_version,
            snapshot.isoformat(),
            tags={"pipeline_run_id": params.run_id, "horizon_end": last.isoformat()},
        )
        tags = registry_tags(result, run.mlflow_run_id)
        _tag_registered(params.mlflow_tracking_uri, version, tags)
    run.report_uri = paths.backtest_report(version.model_version, horizon)
    lakeio.write_json(spark, run.report_uri, run.report())
    return run


def _tag_registered(tracking_uri: str, version: Candidate, tags: dict[str, str]) -> None:
    """Tag the registered model version (``<registered>-v<n>``) with its backtest; a version
    never registered, or gone from the registry, is left alone (logged)."""
    registered = version.registered_model
    number = version.model_version.removeprefix(f"{registered}-v") if registered else ""
    if not number.isdigit():
        return
    import mlflow
    from mlflow.exceptions import MlflowException

    registry = mlflow.MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    try:
        for key, value in tags.items():
            registry.set_model_version_tag(registered, number, key, value)
    except MlflowException as exc:
        log.warning("registered model %s v%s not tagged: %s", registered, number, exc)


def run(spark: SparkSession, params: BacktestParams, paths: LakePaths) -> dict[str, Any]:
    """The step: the backtest's headline (see the module docstring)."""
    return evaluate(spark, params, paths).summary()
