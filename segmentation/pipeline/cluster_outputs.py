"""What the cluster step leaves in the lake: the segment map (one row per user) and the model
document (everything else about the version), both under the model version's prefix.

Publish reads both (:mod:`segmentation.serving.lake_reader`); the document is built here, once,
from the fit, and the same object goes to MLflow and to the lake.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from segmentation.lake import LakePaths
from segmentation.model_document import (
    Comparison,
    EpsSweepRow,
    FeatureBins,
    FeatureDescription,
    KSweepRow,
    ModelDocument,
    ModelPoints,
    RetiredSegment,
    Scaler,
    SegmentProfile,
)
from segmentation.pipeline import lakeio
from segmentation.pipeline.explain import reasons_json, segment_centres
from segmentation.pipeline.features import FEATURES
from segmentation.pipeline.fit import FitResult
from segmentation.pipeline.profiles import NOISE_NAME
from segmentation.pipeline.tables import SEGMENT_MAP_SCHEMA

#: Users per part file of the segment map (Spark writes one file per partition).
USERS_PER_FILE = 2_000_000
#: Segment-map column: the user's reasons as JSON (:mod:`.explain`; publish stores them).
REASONS = "reasons"

SEGMENT_MAP_SCHEMA_V = T.StructType(
    [*SEGMENT_MAP_SCHEMA.fields, T.StructField("model_version", T.StringType())]
)


def build_document(
    result: FitResult,
    *,
    params: dict[str, Any],
    model_version: str,
    snapshot_date: date,
    pipeline_run_id: str,
    mlflow_run_id: str,
    registered_model: str | None,
    data_warnings: list[str] | None = None,
    identity: Identified | None = None,
) -> ModelDocument:
    """``identity``: the keyed profiles and what the matching found; without it (a caller that
    does not match) the fit's profiles go in as they are."""
    identity = identity or Identified(list(result.profiles))
    cols = list(result.model.columns)
    return ModelDocument(
        model_version=model_version,
        algorithm=result.algorithm,
        snapshot_date=snapshot_date,
        pipeline_run_id=pipeline_run_id,
        mlflow_run_id=mlflow_run_id,
        registered_model=registered_model,
        n_users=result.n_users,
        params=params,
        metrics=result.scores,
        k_sweep=[KSweepRow(**row) for row in result.k_sweep],
        eps_sweep=[EpsSweepRow(**row) for row in result.eps_sweep],
        features=[FeatureDescription(**f.__dict__) for f in FEATURES],
        segments=identity.profiles,
        data_warnings=data_warnings or [],
        scaler=Scaler(
            mean={c: float(v) for c, v in zip(cols, result.mean, strict=True)},
            std={c: float(v) for c, v in zip(cols, result.std, strict=True)},
        ),
        feature_space=result.space.document() if result.space is not None else None,
        min_segment_users=result.floor,
        merged_segments=list(result.merged),
        fit_notes=list(result.notes),
        previous_model_version=identity.previous_model_version,
        next_key=identity.next_key,
        retired_segments=identity.retired,
        comparison=identity.comparison,
        feature_bins=identity.feature_bins,
    )


@dataclass
class Identified:
    """The profiles with their durable keys (:mod:`.segment_identity`) and the comparison with
    the previous version."""

    profiles: list[SegmentProfile]
    retired: list[RetiredSegment] = field(default_factory=list)
    next_key: int = 1
    previous_model_version: str | None = None
    comparison: Comparison | None = None
    #: user_anon_id -> key in the previous version (empty: no predecessor)
    before: dict[str, str] = field(default_factory=dict)
    feature_bins: dict[str, FeatureBins] = field(default_factory=dict)


def assignments(result: FitResult, identity: Identified) -> pd.DataFrame:
    """Every user's segment: id, name and key, whether the user changed key since the previous
    version (null for a user new in this one), and the features driving the assignment."""
    pdf = result.labeled.toPandas()
    names = {p.segment_id: p.name for p in identity.profiles}
    keys = {p.segment_id: p.segment_key for p in identity.profiles}
    out = pd.DataFrame(
        {
            "user_anon_id": pdf["user_anon_id"],
            "segment_id": pdf["prediction"].astype("int32"),
            "segment_name": pdf["prediction"].map(names).fillna(NOISE_NAME),
            "segment_key": pdf["prediction"].map(keys),
        }
    )
    before = out["user_anon_id"].map(identity.before) if identity.before else None
    moved = pd.array([None] * len(out), dtype="boolean")
    if before is not None:
        known = before.notna().to_numpy()
        moved[known] = (before[known] != out["segment_key"][known]).to_numpy()
    out["moved_since_previous"] = moved
    if result.space is not None:
        x = result.space.transform(pdf)
        labels = pdf["prediction"].to_numpy()
        centres, ids = segment_centres(labels, x, result.centers)
        out[REASONS] = reasons_json(pdf, x, labels, list(result.space.columns), centres, ids)
    else:
        out[REASONS] = None
    return out


def write_segment_map(
    spark: SparkSession, frame: pd.DataFrame, model_version: str, paths: LakePaths
) -> str:
    """The :func:`assignments` of every user under the model version; returns the URI."""
    uri = paths.segment_map(model_version)
    df = spark.createDataFrame(frame.assign(model_version=model_version), SEGMENT_MAP_SCHEMA_V)
    (
        df.select(*SEGMENT_MAP_SCHEMA.names, "model_version")
        .coalesce(max(1, math.ceil(len(frame) / USERS_PER_FILE)))
        .write.mode("overwrite")
        .parquet(uri)
    )
    return uri


def write_document(spark: SparkSession, document: ModelDocument, paths: LakePaths) -> str:
    """The model document next to its segment map; returns the URI."""
    uri = paths.profiles(document.model_version)
    lakeio.write_text(spark, uri, document.to_json())
    return uri


def build_points(result: FitResult, model_version: str) -> ModelPoints | None:
    """The fit's centres (K-Means) or core points (DBSCAN, after the size floor relabelled the
    small clusters' cores as noise), and the users' feature averages; None without a space."""
    space = result.space
    if space is None:
        return None
    columns = list(space.columns)
    pdf = result.labeled.select(*columns).toPandas()
    means = {c: float(v) for c, v in zip(columns, pdf.mean(axis=0).to_numpy(), strict=True)}
    if result.algorithm == "kmeans":
        assert result.centers is not None
        points, labels, eps = result.centers, list(range(len(result.centers))), None
    else:
        assert result.dbscan is not None
        points, labels = result.dbscan.core_points, result.dbscan.core_labels.tolist()
        eps = float(result.dbscan.eps)
    return ModelPoints(
        model_version=model_version,
        algorithm=result.algorithm,
        columns=columns,
        points=[[float(v) for v in row] for row in points],
        labels=[int(s) for s in labels],
        eps=eps,
        population_means=means,
    )


def write_points(spark: SparkSession, points: ModelPoints, paths: LakePaths) -> str:
    """The version's assignment points beside its document; returns the URI."""
    uri = paths.model_points(points.model_version)
    lakeio.write_text(spark, uri, points.to_json())
    return uri
