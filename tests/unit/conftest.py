"""Fixtures of the unit tests: a plain local SparkSession (no S3, no moto) for the Spark rules."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


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


_started: list[SparkSession] = []  # the session this conftest started, while it runs


def _session() -> SparkSession:
    os.environ.setdefault("PYSPARK_PYTHON", str(ROOT / ".venv" / "bin" / "python"))
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:  # ours, or another suite's (with s3a): shared, left to its owner
        return active
    session = (
        SparkSession.builder.master("local[1]")
        .appName("segmentation-unit-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    _started.append(session)
    return session


def _stop_started() -> None:
    while _started:
        _started.pop().stop()
        _stop_jvm()


@pytest.fixture(scope="module")
def spark() -> SparkSession:
    """One local Spark for the unit tests that need one (start-up costs seconds), started by the
    first of them and stopped, JVM and all, after the last unit test that runs before any other
    test: a session left running would be handed to the integration tests' fixture, which needs
    s3a. A session already running in this process (the integration tests') is shared."""
    return _session()


@pytest.hookimpl(trylast=True)  # after the fixtures' own teardown, which may still use Spark
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if nextitem is None or HERE not in Path(nextitem.path).parents:
        _stop_started()
