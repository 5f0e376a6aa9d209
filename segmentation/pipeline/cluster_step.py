"""Cluster: features -> segments (segment map + model document), tracked in MLflow.

The step composes three parts that each do one thing: the fit (:mod:`.fit`: features in,
labels, centres, metrics and profiles out), its tracking (:mod:`.tracking`: the MLflow run and
the registered model) and its outputs (:mod:`.cluster_outputs`: the segment map and the model
document in the segments zone). The model version is known only once the model is registered, so
the outputs are written inside the MLflow run, which ends FAILED if they cannot be.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from segmentation.lake import LakePaths
from segmentation.model_document import ModelDocument
from segmentation.pipeline import lakeio
from segmentation.pipeline.cluster_outputs import (
    Identified,
    assignments,
    build_document,
    build_points,
    write_document,
    write_points,
    write_segment_map,
)
from segmentation.pipeline.drift import feature_bins, feature_psi
from segmentation.pipeline.feature_space import FeatureSpace
from segmentation.pipeline.features import COUNT_COLUMNS, FEATURE_COLUMNS
from segmentation.pipeline.fit import FitParams, FitResult, fit
from segmentation.pipeline.params import ClusterParams
from segmentation.pipeline.profiles import data_kind
from segmentation.pipeline.segment_history import previous_assignment, previous_document
from segmentation.pipeline.segment_identity import compare_versions, identify_profiles
from segmentation.pipeline.tracking import Tracker, code_version, log_document, log_fit, log_model

log = logging.getLogger(__name__)
COLS = list(FEATURE_COLUMNS)


def read_features(spark: SparkSession, uri: str) -> DataFrame:
    if not lakeio.exists(spark, uri):
        raise FileNotFoundError(
            f"no features at {uri}; expected the features step's output for this --snapshot_date"
        )
    df = spark.read.parquet(uri)
    missing = [c for c in ["user_anon_id", *COLS] if c not in df.columns]
    if missing:
        raise ValueError(
            f"features at {uri} lack column(s) {', '.join(missing)}; expected user_anon_id and "
            + ", ".join(COLS)
        )
    counts = [c for c in COUNT_COLUMNS if c in df.columns]  # absent in older features
    return df.select("user_anon_id", *[F.col(c).cast("double") for c in [*COLS, *counts]])


def _attach_run_reports(
    spark: SparkSession, tracker: Tracker, paths: LakePaths, run_id: str
) -> list[str]:
    """The clean and features reports of this pipeline run, as MLflow artifacts; returns the
    features step's warnings (what the data lacked), which the model document carries."""
    warnings: list[str] = []
    for name, uri in (
        ("quality_report.json", paths.quality_report(run_id)),
        ("features_report.json", paths.features_report(run_id)),
    ):
        if lakeio.exists(spark, uri):
            report = lakeio.read_json(spark, uri)
            tracker.json_artifact(name, report)
            if name == "features_report.json":
                warnings = [str(w) for w in report.get("warnings", [])]
    return warnings


def identify(
    spark: SparkSession,
    paths: LakePaths,
    result: FitResult,
    model_version: str,
    args: ClusterParams,
    previous: ModelDocument | None,
    before: dict[str, str] | None = None,
) -> Identified:
    """Keys for the new segments, matched to the previous version's (None: the first run), and
    the comparison. ``before``: the previous assignment when the caller already read it (warm
    start); else it is read here."""
    space = result.space
    assert space is not None
    columns = list(space.columns)
    now = result.labeled.toPandas()
    labels = now["prediction"].to_numpy()
    prev_space = FeatureSpace.of_document(previous) if previous is not None else None
    new_centres: dict[int, np.ndarray] = {}
    x_prev = None
    if prev_space is not None:
        try:
            x_prev = prev_space.transform(now)
        except ValueError as exc:  # e.g. its shrinkage needs counts these features lack
            log.warning("cluster: this run's users cannot be read in the previous space: %s", exc)
    if x_prev is not None:
        for p in result.profiles:
            members = labels == p.segment_id
            if p.means and members.any():
                new_centres[p.segment_id] = x_prev[members].mean(axis=0)
    profiles, retired, next_key = identify_profiles(
        result.profiles,
        previous,
        model_version,
        new_centres,
        args.match_max_distance,
        args.rename_distance,
        data_kind(columns),
    )
    identity = Identified(profiles, retired, next_key)
    identity.feature_bins = feature_bins(space.transform(now), columns)
    if previous is None:
        log.info("cluster: no previous model version; every segment gets a new key")
        return identity
    identity.previous_model_version = previous.model_version
    identity.before = before if before is not None else previous_assignment(spark, paths, previous)
    keys = {p.segment_id: p.segment_key for p in profiles}
    current = dict(zip(now["user_anon_id"], now["prediction"].map(keys), strict=True))
    before_features = list(prev_space.columns) if prev_space else []
    added = [c for c in columns if c not in before_features]
    removed = [c for c in before_features if c not in columns]
    if added or removed:
        log.warning("cluster: the feature set changed: +%s -%s", added, removed)
    psi = (
        feature_psi(previous, prev_space.unscaled(now), list(prev_space.columns))
        if prev_space is not None and x_prev is not None
        else {}
    )
    identity.comparison = compare_versions(previous, profiles, identity.before, current).model_copy(
        update={"feature_psi": psi, "features_added": added, "features_removed": removed}
    )
    log.info(
        "cluster: matched to %s: ARI %s on %d common users, %d retired keys",
        previous.model_version,
        identity.comparison.ari,
        identity.comparison.common_users,
        len(retired),
    )
    return identity


def run(spark: SparkSession, args: ClusterParams, paths: LakePaths) -> dict[str, Any]:
    snapshot_date = args.snapshot_date
    snapshot = snapshot_date.isoformat()
    run_id = args.run_id
    features_uri = paths.features(snapshot)
    # read once, before the fit: the matching needs it, K-Means its k and (warm start) centres
    previous = previous_document(spark, paths)
    before = None
    if args.warm_start and args.algorithm == "kmeans":
        before = previous_assignment(spark, paths, previous) if previous else {}
        if previous is None:
            log.info("cluster: warm start asked for, but no previous version: a cold start")
    previous_k = None
    if previous is not None and previous.algorithm == "kmeans":
        previous_k = sum(1 for s in previous.segments if s.segment_id >= 0)
    result = fit(
        read_features(spark, features_uri),
        FitParams.from_args(args),
        features_uri,
        before,
        previous_k,
    )
    algorithm = result.algorithm
    params = {"algorithm": algorithm, "snapshot_date": snapshot, **result.params}
    registered = f"segmentation-{algorithm}" if args.register_model else None
    tags = {
        "pipeline_run_id": run_id,
        "snapshot_date": snapshot,
        "data_snapshot": features_uri,
        "code_version": code_version(),
        "algorithm": algorithm,
        "lake_prefix": args.lake_prefix,
    }
    tracker = Tracker(args.mlflow_tracking_uri, args.mlflow_experiment)
    try:
        with tracker.started(f"{algorithm}-{snapshot}-{run_id}", tags) as mlflow_run_id:
            log_fit(tracker, result, params)
            data_warnings = _attach_run_reports(spark, tracker, paths, run_id)
            tracker.json_artifact(
                "feature_space.json",
                {"notes": result.notes, **(result.space.describe() if result.space else {})},
            )
            model_version = log_model(tracker, result, params, registered, f"{algorithm}-{run_id}")
            identity = identify(spark, paths, result, model_version, args, previous, before)
            if identity.comparison is not None:
                tracker.metrics(
                    {
                        "ari_vs_previous": identity.comparison.ari,
                        "largest_share_shift": identity.comparison.largest_share_shift,
                        "common_users": identity.comparison.common_users,
                        **{f"psi_{k}": v for k, v in identity.comparison.feature_psi.items()},
                    }
                )
            document = build_document(
                result,
                params=params,
                model_version=model_version,
                snapshot_date=snapshot_date,
                pipeline_run_id=run_id,
                mlflow_run_id=mlflow_run_id,
                registered_model=registered,
                data_warnings=data_warnings,
                identity=identity,
            )
            log_document(tracker, document)
            map_uri = write_segment_map(spark, assignments(result, identity), model_version, paths)
            points = build_points(result, model_version)
            points_uri = write_points(spark, points, paths) if points is not None else None
            profiles_uri = write_document(spark, document, paths)
    finally:
        result.release()

    return {
        "step": "cluster",
        "run_id": run_id,
        "algorithm": algorithm,
        "model_version": model_version,
        "mlflow_run_id": mlflow_run_id,
        "registered_model": registered,
        "n_users": result.n_users,
        "k": params.get("k"),
        "k_rule": params.get("k_rule"),
        "k_sweep": result.k_sweep,
        "eps": params.get("eps"),
        "metrics": result.scores,
        "features_used": list(result.space.columns) if result.space else COLS,
        "features_left_out": dict(result.space.left_out) if result.space else {},
        "segment_floor": result.floor,
        "segments_merged": [m.model_dump() for m in result.merged],
        "notes": result.notes,
        "segments": [
            {
                "segment_id": p.segment_id,
                "segment_key": p.segment_key,
                "name": p.name,
                "size": p.size,
            }
            for p in document.segments
        ],
        "previous_model_version": document.previous_model_version,
        "comparison": document.comparison.model_dump() if document.comparison else None,
        "segment_map": map_uri,
        "profiles": profiles_uri,
        "model_points": points_uri,
    }
