"""What the tests that run the pipeline on an emulated AWS share: the settings of one test's lake
(its own prefix, MLflow on a sqlite file, Spark sized for a test, a session of its own) and a
data set put through the landing zone the way a user's upload goes (the batch ingest Lambda).

One place, so the fault, backtest and LocalStack tests cannot drift apart in how they set the
stack up, and a new setting the steps need is added once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from segmentation.awsclients import client
from segmentation.config import Settings, get_settings


def active_spark() -> Any:
    """The live Spark session of this process, if any (a stopped one does not count)."""
    from pyspark.sql import SparkSession

    from segmentation.spark import session_alive

    active = SparkSession.getActiveSession()
    return active if active is not None and session_alive(active) else None


def stop_active_spark() -> None:
    """Stop this process's session: a session of another endpoint must not be reused (its s3a
    endpoint is fixed when it starts)."""
    if (active := active_spark()) is not None:
        active.stop()


@contextmanager
def pipeline_settings(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    prefix: str,
    experiment: str,
    env: dict[str, str] | None = None,
    artifacts: Callable[[Settings], str] | None = None,
) -> Iterator[Settings]:
    """The settings of one test's stack (``env`` first: the endpoints), its MLflow experiment
    created (artifacts under ``tmp_path`` unless ``artifacts`` names a lake location), and a
    Spark session of its own, stopped again at the end."""
    import mlflow

    tracking = f"sqlite:///{tmp_path}/mlflow.db"
    for name, value in {
        **(env or {}),
        "SEG_LAKE_PREFIX": prefix,
        "PYSPARK_PYTHON": sys.executable,
        "SEG_SPARK_SHUFFLE_PARTITIONS": "2",
        "SEG_SPARK_LOG_FILE": str(tmp_path / "spark.log"),
        "SEG_MLFLOW_TRACKING_URI": tracking,
        "SEG_MLFLOW_EXPERIMENT": experiment,
        "POWERTOOLS_METRICS_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    settings = get_settings()
    location = artifacts(settings) if artifacts else str(tmp_path / "artifacts")
    mlflow.MlflowClient(tracking).create_experiment(experiment, artifact_location=location)
    stop_active_spark()
    try:
        yield settings
    finally:
        stop_active_spark()
        get_settings.cache_clear()


def ingest_landing(
    settings: Settings, events: Path, key: str, catalog: Path | None = None
) -> dict[str, Any]:
    """Upload ``events`` to the landing zone at ``key`` (and the title ``catalog`` first, when
    given), run the batch ingest Lambda's handler on it, and return its report."""
    from segmentation.ingest.catalog import upload_catalog
    from segmentation_local.doors import land_file

    if catalog is not None:
        upload_catalog(catalog, client("s3", settings), settings)
    return land_file(settings, events, key)
