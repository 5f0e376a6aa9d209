"""Fixtures of the Spark pipeline tests: one local SparkSession (s3a on the session's moto server)
for the whole test session, and per-test settings pointing at a fresh lake prefix."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from segmentation.config import Settings

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def spark(moto_server: str):
    """One local Spark for all pipeline tests (start-up costs seconds; sharing keeps it cheap)."""
    os.environ.setdefault("PYSPARK_PYTHON", str(ROOT / ".venv" / "bin" / "python"))
    from segmentation.spark import get_spark

    settings = Settings(aws_endpoint_url=moto_server, spark_shuffle_partitions=2)
    session = get_spark("segmentation-tests", settings)
    yield session
    session.stop()


@pytest.fixture
def lake(moto_env: str, spark) -> Iterator[Settings]:
    """Settings of a fresh lake (unique bucket prefix, all zone buckets created) on moto."""
    from lakedata import make_buckets

    settings = Settings(aws_endpoint_url=moto_env, lake_prefix=f"t{uuid.uuid4().hex[:10]}")
    make_buckets(settings)
    yield settings
