"""Fixtures of the unit tests: a plain local SparkSession (no S3, no moto) for the Spark rules."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

ROOT = Path(__file__).resolve().parents[2]


def _stop_jvm() -> None:
    """End the JVM this fixture started: pyspark keeps it for the next session, whose launch
    options (the s3a jars of the integration tests' session) it would then silently lack."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    if gateway is None:
        return
    gateway.shutdown()
    proc = getattr(gateway, "proc", None)
    if proc is not None:  # the JVM exits when its stdin closes
        proc.stdin.close()
        proc.wait(timeout=30)
    SparkContext._gateway = None
    SparkContext._jvm = None


@pytest.fixture(scope="package")
def spark() -> Iterator[SparkSession]:
    """One local Spark for the unit tests that need one (start-up costs seconds).

    A session already running in this process (the integration tests', with s3a) is shared and
    left running; one started here is stopped, JVM and all, once the unit tests are done.
    """
    os.environ.setdefault("PYSPARK_PYTHON", str(ROOT / ".venv" / "bin" / "python"))
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        yield active
        return
    session = (
        SparkSession.builder.master("local[1]")
        .appName("segmentation-unit-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    yield session
    session.stop()
    _stop_jvm()
