"""Fixtures of the ingest tests: a real broker (Tansu), and the lake buckets and HMAC key on the
session's moto server."""

from __future__ import annotations

import io
import logging
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

LAKE_ZONES = ("landing", "raw", "hot", "quarantine")


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap address of a Tansu broker private to this test session."""
    from segmentation_local.broker import broker_service
    from segmentation_local.process import free_port

    port = free_port()
    with broker_service(port, tmp_path_factory.mktemp("broker")):
        yield f"127.0.0.1:{port}"


@pytest.fixture
def topic(broker: str) -> str:
    """A fresh topic per test, so tests share the broker but not data or offsets."""
    from segmentation_local.broker import create_topic

    name = f"raw-events-{uuid.uuid4().hex[:8]}"
    create_topic(broker, name, partitions=3)
    return name


@pytest.fixture
def lake(moto_env: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Settings pointing at moto with the zone buckets and the HMAC secret created."""
    from segmentation.anonymise import store_key
    from segmentation.awsclients import client
    from segmentation.config import get_settings

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    settings = get_settings()
    s3 = client("s3", settings)
    for zone in LAKE_ZONES:
        s3.create_bucket(Bucket=settings.bucket(zone))
    assert store_key(settings) == "created"
    return settings


@pytest.fixture(scope="session")
def ingest_module() -> Any:
    from segmentation_local.lambdas import load_module

    return load_module("ingest")


@pytest.fixture(scope="session")
def batch_module() -> Any:
    from segmentation_local.lambdas import load_module

    return load_module("batch_ingest")


@pytest.fixture
def captured_logs(ingest_module: Any, batch_module: Any) -> Iterator[io.StringIO]:
    """Every log line of both Lambdas (Powertools JSON) and of the poller, into one buffer."""
    buffer = io.StringIO()
    loggers = [m.logger for m in (ingest_module, batch_module)]
    handlers = [lg.registered_handler for lg in loggers]
    # The modules are imported once per session (like a warm Lambda), maybe under another
    # POWERTOOLS_LOG_LEVEL: capture every level so the scan really sees every line.
    levels = [lg.log_level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    for h in handlers:  # no setStream(): it flushes the old stream, which pytest may have closed
        h.stream = buffer
    plain = logging.StreamHandler(buffer)
    root = logging.getLogger()
    root.addHandler(plain)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        root.removeHandler(plain)
        root.setLevel(old_level)
        for h in handlers:
            h.stream = sys.stdout
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
