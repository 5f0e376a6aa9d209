"""What the cluster step leaves in the lake: the segment map (one row per user) and the model
document (everything else about the version), both under the model version's prefix.

Publish reads both (:mod:`segmentation.serving.lake_reader`); the document is built here, once,
from the fit, and the same object goes to MLflow and to the lake.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from segmentation.lake import LakePaths
from segmentation.model_document import (
    EpsSweepRow,
    FeatureDescription,
    KSweepRow,
    ModelDocument,
)
from segmentation.pipeline import lakeio
from segmentation.pipeline.features import FEATURES
from segmentation.pipeline.fit import FitResult
from segmentation.pipeline.profiles import NOISE_NAME

#: Users per part file of the segment map (Spark writes one file per partition).
USERS_PER_FILE = 2_000_000


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
) -> ModelDocument:
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
        segments=result.profiles,
        data_warnings=data_warnings or [],
    )


def _name_expr(names: dict[int, str]) -> Any:
    expr = F.lit(NOISE_NAME)
    for seg, name in names.items():
        expr = F.when(F.col("prediction") == seg, F.lit(name)).otherwise(expr)
    return expr


def write_segment_map(result: FitResult, model_version: str, paths: LakePaths) -> str:
    """user_anon_id, segment_id, segment_name, model_version of every user; returns the URI."""
    uri = paths.segment_map(model_version)
    (
        result.labeled.select(
            "user_anon_id",
            F.col("prediction").cast("int").alias("segment_id"),
            _name_expr(result.names).alias("segment_name"),
            F.lit(model_version).alias("model_version"),
        )
        .coalesce(max(1, math.ceil(result.n_users / USERS_PER_FILE)))
        .write.mode("overwrite")
        .parquet(uri)
    )
    return uri


def write_document(spark: SparkSession, document: ModelDocument, paths: LakePaths) -> str:
    """The model document next to its segment map; returns the URI."""
    uri = paths.profiles(document.model_version)
    lakeio.write_text(spark, uri, document.to_json())
    return uri
