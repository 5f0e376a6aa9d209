"""Assignment between weekly runs: users active since the published model was built get a
provisional segment of that version within a day, instead of a 404 until the next weekly run.

One run (daily, ``glue_jobs/assign.py``; locally ``segmentation assign``):

1. **The model**: the version the segments table's ``META/CURRENT`` pointer names, as the cluster
   step wrote it to the lake: its document (the feature space: features, shrinkage, log1p, the
   scaler) and its points (:class:`~segmentation.model_document.ModelPoints`: the K-Means centres
   or the DBSCAN core points with eps). No re-fit, and nothing from MLflow.
2. **The new events, cleaned by the clean step's rules**: the raw/hot objects the run ledger has
   not cleaned yet are planned, read and cleaned exactly as the next clean run will
   (:func:`~.clean.plan_run`, :func:`~.clean.clean_events`, :func:`~.clean.changed_days`: the
   touched days +-1 rebuilt from their objects +-2, the other days as curated holds them), and
   nothing is committed: the weekly run owns curated. The result is the curated view the next
   clean will commit.
3. **The features** of the users with a new event (a row of a new object that won its dedup),
   over the window ending with ``snapshot_date``, by the features step's own
   :func:`~.features.compute_features` on that view restricted to them: the features the weekly
   step would compute for them over the same window.
4. **The assignment**, by the registered model's own rule (:class:`~.model.SegmentModel`): the
   nearest centre, or the nearest core point within eps (else noise).
5. **Provisional items** in the published version (:mod:`segmentation.serving.provisional`):
   every user new to the version, and every user of the weekly fit whose segment the new events
   changed. A user of the weekly fit still in the same segment keeps the weekly item alone (it is
   the fit's assignment; a provisional copy would only hide that). The users of the previous run
   no longer provisional (changed back) lose their item; the summary item counts them per
   segment. The lake record (``segments/provisional/model_version=<v>/``: the users, their
   features and assignments) is written first, so publish can expire every item it names.

A run does nothing (and says why) when nothing is published, when no object is new, or when the
ledger has moved past the curated version the model was built from: then a weekly run is between
its clean and its publish (or its version is held by the drift gate), and the version it brings
replaces these assignments anyway.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from segmentation.awsclients import client
from segmentation.lake import PARTITION_COLUMN, LakePaths
from segmentation.ledger import Ledger, Manifest
from segmentation.model_document import ModelDocument, ModelPoints, SegmentProfile
from segmentation.pipeline import compaction, lakeio
from segmentation.pipeline import curated as lake_curated
from segmentation.pipeline.clean import (
    RunPlan,
    changed_days,
    clean_events,
    plan_run,
    read_objects,
)
from segmentation.pipeline.clean_rules import NEW, window_bounds
from segmentation.pipeline.clustering import NOISE, DbscanModel
from segmentation.pipeline.explain import reasons_json
from segmentation.pipeline.feature_space import FeatureSpace
from segmentation.pipeline.features import (
    COUNT_COLUMNS,
    FEATURE_COLUMNS,
    compute_features,
    read_catalog,
)
from segmentation.pipeline.model import SegmentModel
from segmentation.pipeline.params import AssignParams
from segmentation.pipeline.profiles import NOISE_NAME
from segmentation.pipeline.schemas import CURATED_COLUMNS
from segmentation.serving import provisional as prov
from segmentation.serving import table as t

log = logging.getLogger(__name__)

#: The lake record's schema: the assignment, then the features it was computed from.
RECORD_SCHEMA = T.StructType(
    [
        T.StructField("user_anon_id", T.StringType()),
        T.StructField("segment_id", T.IntegerType()),
        T.StructField("segment_name", T.StringType()),
        T.StructField("segment_key", T.StringType()),
        T.StructField("weekly_segment_key", T.StringType()),
        T.StructField("assigned_at", T.StringType()),
        T.StructField("run_id", T.StringType()),
        T.StructField("reasons", T.StringType()),
        *(T.StructField(c, T.DoubleType()) for c in (*FEATURE_COLUMNS, *COUNT_COLUMNS)),
    ]
)
assert tuple(RECORD_SCHEMA.names[: len(prov.RECORD_COLUMNS)]) == prov.RECORD_COLUMNS


class ModelPointsMissing(FileNotFoundError):
    """The published version has no points the assignment could apply."""


@dataclass(frozen=True)
class PublishedModel:
    """The published version as the lake holds it, ready to assign raw features."""

    document: ModelDocument
    points: ModelPoints
    model: SegmentModel

    @property
    def version(self) -> str:
        return self.document.model_version

    def assign(self, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """The scaled matrix and the segment id of each row of raw features."""
        x = self.model.scale(features)
        return x, self.model.assign_scaled(x)

    def reasons(self, features: pd.DataFrame, x: np.ndarray, labels: np.ndarray) -> list[str]:
        """Each user's reasons as the weekly map has them: the margin to the nearest other
        segment's centre, told against the version's users' averages."""
        columns = list(self.points.columns)
        if self.document.algorithm == "kmeans":
            centres, ids = np.asarray(self.points.points), list(self.points.labels)
        else:  # DBSCAN: the segments' centres are their members' means (the profiles' z)
            with_z = [s for s in self.document.segments if s.segment_id != NOISE and s.z_scores]
            centres = np.array([[s.z_scores[c] for c in columns] for s in with_z])
            ids = [s.segment_id for s in with_z]
            centres = centres.reshape(len(ids), len(columns))
        means = np.array([self.points.population_means.get(c, 0.0) for c in columns])
        return reasons_json(features, x, labels, columns, centres, ids, means=means)

    def name(self, segment_id: int) -> str:
        profile = self.document.segment(segment_id)
        return profile.name if profile else NOISE_NAME

    def key(self, segment_id: int) -> str | None:
        profile = self.document.segment(segment_id)
        if profile is not None and profile.segment_key:
            return profile.segment_key
        return "noise" if segment_id == NOISE else None


def segment_model(document: ModelDocument, points: ModelPoints) -> SegmentModel:
    """The registered model's assignment rule over the version's space and points."""
    space = FeatureSpace.of_document(document)
    if space is None:
        raise ModelPointsMissing(
            f"model version {document.model_version} has no scaler in its document; expected "
            "a document the cluster step wrote (schema 2 or later)"
        )
    if list(space.columns) != list(points.columns):
        raise ValueError(
            f"model points of {document.model_version} are over {', '.join(points.columns)} but "
            f"its feature space is {', '.join(space.columns)}; expected the same features"
        )
    x = np.asarray(points.points, dtype=float).reshape(len(points.points), len(points.columns))
    labels = np.asarray(points.labels, dtype=np.int64)
    centres, dbscan = None, None
    if document.algorithm == "kmeans":
        if list(labels) != list(range(len(labels))):
            raise ValueError(
                f"model points of {document.model_version}: K-Means centres must be segments "
                f"0..{len(labels) - 1} in order, got {list(labels)}"
            )
        centres = x
    else:
        if points.eps is None:
            raise ValueError(f"model points of {document.model_version}: DBSCAN without eps")
        min_samples = int(document.params.get("min_samples") or 2)
        dbscan = DbscanModel(points.eps, min_samples, x, labels, np.empty(0, dtype=np.int64))
    return SegmentModel(
        algorithm=document.algorithm,
        columns=list(space.columns),
        mean=space.mean,
        std=space.std,
        names={s.segment_id: s.name for s in document.segments},
        centers=centres,
        dbscan=dbscan,
        space=space,
    )


def points_of_document(document: ModelDocument) -> ModelPoints:
    """A K-Means version written before its points were: its segments' z-scores are its centres
    (each segment's members' mean in the scaled space, to 4 decimals), which is what Lloyd's
    iterations converge to. DBSCAN's core points cannot be recovered from the document."""
    space = FeatureSpace.of_document(document)
    ids = sorted(s.segment_id for s in document.segments)
    if (
        document.algorithm != "kmeans"
        or space is None
        or ids != list(range(len(ids)))
        or any(not s.z_scores for s in document.segments)
    ):
        raise ModelPointsMissing(
            f"no model points for {document.model_version} (written before the cluster step "
            f"stored them) and its document cannot stand in for them ({document.algorithm}); "
            "re-run the weekly pipeline to publish a version that has them"
        )
    columns = list(space.columns)
    return ModelPoints(
        model_version=document.model_version,
        algorithm="kmeans",
        columns=columns,
        points=[[document.segment(i).z_scores[c] for c in columns] for i in ids],  # type: ignore[union-attr]
        labels=ids,
    )


def published_pointer(settings: Any, segments_table: str) -> dict[str, Any] | None:
    """The segments table's ``META/CURRENT`` item (None before the first publish)."""
    resp = client("dynamodb", settings).get_item(
        TableName=segments_table, Key=t.serialize(t.CURRENT_KEY), ConsistentRead=True
    )
    return t.deserialize(resp["Item"]) if "Item" in resp else None


def load_published(spark: SparkSession, paths: LakePaths, version: str) -> PublishedModel:
    """The version's document and points from the segments zone."""
    doc_uri = paths.profiles(version)
    if not lakeio.exists(spark, doc_uri):
        raise FileNotFoundError(
            f"the published version {version} has no model document at {doc_uri}; expected "
            "the cluster step's profiles.json"
        )
    document = ModelDocument.from_json(lakeio.read_text(spark, doc_uri), doc_uri)
    points_uri = paths.model_points(version)
    if lakeio.exists(spark, points_uri):
        points = ModelPoints.from_json(lakeio.read_text(spark, points_uri), points_uri)
    else:
        log.warning("assign: no %s; the document's z-scores stand in as centres", points_uri)
        points = points_of_document(document)
    return PublishedModel(document, points, segment_model(document, points))


def built_from(spark: SparkSession, paths: LakePaths, document: ModelDocument) -> int | None:
    """The curated version the model's features were computed from (its features report), or
    None when the report is gone."""
    uri = paths.features_report(document.pipeline_run_id)
    if not lakeio.exists(spark, uri):
        return None
    version = lakeio.read_json(spark, uri).get("curated_version")
    return int(version) if version is not None else None


def active_users_features(
    spark: SparkSession,
    paths: LakePaths,
    args: AssignParams,
    manifest: Manifest,
    plan: RunPlan,
) -> pd.DataFrame:
    """The features (in user id order) of the users with a new event, over the window, from
    the committed curated days and the planned days cleaned afresh."""
    planned = sorted(plan.write_days)
    window = window_bounds(args.snapshot_date, args.window_days)
    first_day = date.fromordinal(args.snapshot_date.toordinal() - args.window_days + 1).isoformat()
    last_day = args.snapshot_date.isoformat()
    catalog = read_catalog(spark, paths)
    events = read_objects(spark, paths, plan.inputs)
    with clean_events(events, args.iqr_k, args.session_gap_minutes, args.fence_min_rows) as cleaned:
        days = changed_days(plan, planned, cleaned.dedup.new_winner_days)
        fresh = cleaned.curated.where(F.col(PARTITION_COLUMN).isin(*days))
        users = fresh.where(F.col(NEW)).select("user_anon_id").distinct()
        parts = [fresh.select(*CURATED_COLUMNS)]
        kept = lake_curated.read_curated(spark, paths, manifest, first_day, last_day)
        if kept is not None:
            day = F.col(PARTITION_COLUMN).cast("string")
            parts.append(kept.where(~day.isin(*days)).select(*CURATED_COLUMNS))
        view = parts[0] if len(parts) == 1 else parts[0].unionByName(parts[1])
        mine = view.join(F.broadcast(users), "user_anon_id", "left_semi")
        feats = compute_features(mine, catalog, window, args.session_gap_minutes)
        pdf = feats.toPandas()
        log.info("assign: %d days cleaned afresh (%s)", len(days), ", ".join(days))
    return pdf.sort_values("user_anon_id", kind="stable").reset_index(drop=True)


def weekly_segments(
    spark: SparkSession, paths: LakePaths, version: str, users: pd.Series
) -> pd.DataFrame:
    """The weekly fit's segment of each of ``users`` that it holds (user_anon_id, segment_id,
    segment_key)."""
    uri = paths.segment_map(version)
    empty = pd.DataFrame({"user_anon_id": [], "segment_id": [], "segment_key": []})
    if users.empty or not lakeio.exists(spark, uri):
        return empty
    wanted = spark.createDataFrame(pd.DataFrame({"user_anon_id": users}), "user_anon_id string")
    seg_map = spark.read.parquet(uri)
    key = F.col("segment_key") if "segment_key" in seg_map.columns else F.lit(None)
    return (
        seg_map.select("user_anon_id", "segment_id", key.cast("string").alias("segment_key"))
        .join(F.broadcast(wanted), "user_anon_id", "left_semi")
        .toPandas()
    )


def decide(
    model: PublishedModel,
    features: pd.DataFrame,
    weekly: pd.DataFrame,
    assigned_at: str,
    run_id: str,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The lake record (rows of :data:`RECORD_SCHEMA`) of the users to hold provisionally: those
    the weekly fit lacks, and those whose segment changed; and the counts of the decision."""
    x, labels = model.assign(features)
    before = dict(zip(weekly["user_anon_id"], weekly["segment_id"].astype(int), strict=True))
    before_key = dict(zip(weekly["user_anon_id"], weekly["segment_key"], strict=True))
    in_weekly = features["user_anon_id"].map(lambda u: u in before).to_numpy(dtype=bool)
    was = features["user_anon_id"].map(lambda u: before.get(u, NOISE - 1)).to_numpy()
    changed = in_weekly & (was != labels)
    keep = ~in_weekly | changed
    chosen = features[keep].reset_index(drop=True)
    ids = labels[keep]
    record = pd.DataFrame(
        {
            "user_anon_id": chosen["user_anon_id"],
            "segment_id": ids.astype("int32"),
            "segment_name": [model.name(int(s)) for s in ids],
            "segment_key": [model.key(int(s)) for s in ids],
            "weekly_segment_key": [before_key.get(u) for u in chosen["user_anon_id"]],
            "assigned_at": assigned_at,
            "run_id": run_id,
            "reasons": model.reasons(chosen, x[keep], ids) if len(chosen) else [],
        }
    )
    for c in (*FEATURE_COLUMNS, *COUNT_COLUMNS):
        record[c] = chosen[c].astype(float) if c in chosen else 0.0
    counts = {
        "active_users": len(features),
        "new_users": int((~in_weekly).sum()),
        "changed_users": int(changed.sum()),
        "unchanged_users": int((in_weekly & ~changed).sum()),
    }
    return record, counts


def previous_record_users(spark: SparkSession, paths: LakePaths, version: str) -> set[str]:
    uri = paths.provisional(version)
    if not lakeio.exists(spark, uri):
        return set()
    rows = spark.read.parquet(uri).select("user_anon_id").collect()
    return {r["user_anon_id"] for r in rows}


def write_record(spark: SparkSession, record: pd.DataFrame, uri: str) -> None:
    df = spark.createDataFrame(record[RECORD_SCHEMA.names], RECORD_SCHEMA)
    df.coalesce(1).write.mode("overwrite").parquet(uri)


def write_items(
    ddb: Any,
    table: str,
    version: str,
    record: pd.DataFrame,
    gone: set[str],
    counts: dict[str, int],
) -> dict[str, int]:
    """The provisional items of the record, the previous run's users no longer in it deleted,
    then the summary; returns the users per segment."""
    writer = t.BatchWriter(ddb, table)
    for row in record[list(prov.RECORD_COLUMNS)].to_dict("records"):
        writer.put(prov.user_item(row, version))
    for anon in sorted(gone):
        writer.delete(prov.provisional_key(anon, version))
    writer.flush()
    by_segment = {int(k): int(v) for k, v in record["segment_id"].value_counts().items()}
    assigned_at = str(record["assigned_at"].iloc[0]) if len(record) else _now()
    run_id = str(record["run_id"].iloc[0]) if len(record) else ""
    summary = prov.summary_item(
        version, assigned_at, run_id, by_segment, counts["new_users"], counts["changed_users"]
    )
    ddb.put_item(TableName=table, Item=t.serialize(summary))
    return by_segment


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def run(spark: SparkSession, args: AssignParams, paths: LakePaths) -> dict[str, Any]:
    """The assignment step; returns its JSON-able result."""
    started = time.monotonic()
    settings = paths.settings
    base: dict[str, Any] = {
        "step": "assign",
        "run_id": args.run_id,
        "snapshot_date": args.snapshot_date.isoformat(),
        "window_days": args.window_days,
    }

    def noop(reason: str, **extra: Any) -> dict[str, Any]:
        log.info("assign: nothing done: %s", reason)
        return {
            **base,
            **extra,
            "noop": True,
            "reason": reason,
            "seconds": round(time.monotonic() - started, 3),
        }

    pointer = published_pointer(settings, args.segments_table)
    if pointer is None:
        return noop(f"nothing is published in {args.segments_table} yet (run the pipeline first)")
    version = str(pointer["model_version"])
    model = load_published(spark, paths, version)
    base.update(model_version=version, algorithm=model.document.algorithm)
    ledger = Ledger(client("dynamodb", settings), args.ledger_table)
    manifest = lake_curated.current_manifest(spark, paths, ledger)
    base["curated_version"] = manifest.version
    origin = built_from(spark, paths, model.document)
    if origin is not None and manifest.version > origin:
        return noop(
            f"the run ledger is at curated version {manifest.version}, past version {origin} "
            f"the served model {version} was built from: a weekly run is between its clean and "
            "its publish (or its version is held); its version replaces these assignments"
        )
    for zone in args.input_zones:  # a missing zone bucket is named, not taken for "no events"
        lakeio.exists(spark, paths.events(zone))
    listed = lake_curated.list_event_objects(spark, paths, list(args.input_zones))
    leftover = compaction.leftovers(manifest, listed)
    for name in (*leftover.retired, *leftover.orphans):  # the clean step's to delete, not ours
        listed.pop(name)
    plan = plan_run(manifest, listed)
    if not plan.new:
        return noop(f"no raw/hot object is new since curated version {manifest.version}")
    features = active_users_features(spark, paths, args, manifest, plan)
    base["objects_new"] = len(plan.new)
    if features.empty:
        return noop("the new objects hold no new event of the window")
    weekly = weekly_segments(spark, paths, version, features["user_anon_id"])
    assigned_at = _now()
    record, counts = decide(model, features, weekly, assigned_at, args.run_id)
    previous = previous_record_users(spark, paths, version)
    gone = previous - set(record["user_anon_id"])
    now_pointer = published_pointer(settings, args.segments_table)
    if now_pointer is None or now_pointer.get("model_version") != version:
        return noop(
            f"the served version moved from {version} to "
            f"{now_pointer and now_pointer.get('model_version')} during the run; nothing written",
            **counts,
        )
    record_uri = paths.provisional(version)
    write_record(spark, record, record_uri)
    by_segment = write_items(
        client("dynamodb", settings), args.segments_table, version, record, gone, counts
    )
    log.info(
        "assign: %d active users -> %d provisional in %s (%d new, %d changed; %d unchanged)",
        counts["active_users"],
        len(record),
        version,
        counts["new_users"],
        counts["changed_users"],
        counts["unchanged_users"],
    )
    return {
        **base,
        **counts,
        "noop": False,
        "provisional_users": len(record),
        "withdrawn_users": len(gone),
        "by_segment": {str(k): v for k, v in sorted(by_segment.items())},
        "by_segment_label": segment_labels(model.document.segments, by_segment),
        "assigned_at": assigned_at,
        "model_snapshot_date": model.document.snapshot_date.isoformat(),
        "output": record_uri,
        "seconds": round(time.monotonic() - started, 3),
    }


def segment_labels(segments: Iterable[SegmentProfile], counts: dict[int, int]) -> dict[str, int]:
    """Users per segment under the name people know it by (``S3 at-risk / lapsed``): the id is
    a number within one model version, the key and name are what campaigns are bound to."""
    label = {s.segment_id: " ".join(p for p in (s.segment_key, s.name) if p) for s in segments}
    return {label.get(k, f"segment {k}"): n for k, n in sorted(counts.items())}


def describe(result: dict[str, Any]) -> str:
    """The run in one line, for people (the CLI, the demo's report, the job's log)."""
    if result.get("noop"):
        return f"assign: nothing done ({result['reason']})"
    by = result.get("by_segment_label") or {f"id {k}": v for k, v in result["by_segment"].items()}
    segments = ", ".join(f"{k}: {v:,}" for k, v in by.items())
    return (
        f"assign: {result['provisional_users']} users assigned provisionally to "
        f"{result['model_version']} ({result['new_users']} new, {result['changed_users']} "
        f"changed segment; {result['unchanged_users']} active users kept their weekly one) from "
        f"{result['objects_new']} new objects, window {result['window_days']} days to "
        f"{result['snapshot_date']}; by segment {segments}"
    )
