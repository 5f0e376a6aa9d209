"""Shared fixtures: fake credentials for every test, and one moto server per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# No test may ever reach a real AWS account: pin fake credentials before boto3 is imported anywhere.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_SESSION_TOKEN": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }
)
os.environ.pop("AWS_PROFILE", None)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Endpoint URL of a moto server (with the project's patches) private to this test session."""
    from segmentation_local.motoserver import moto_service
    from segmentation_local.process import start_on_free_port

    logs = tmp_path_factory.mktemp("moto")
    port, service = start_on_free_port(lambda p: moto_service(p, logs))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        service.stop()


@pytest.fixture
def moto_env(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the settings and the SDK at the session's moto server for one test."""
    import requests

    requests.post(f"{moto_server}/moto-api/reset", timeout=10)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("SEG_AWS_ENDPOINT_URL", moto_server)
    from segmentation.config import get_settings

    get_settings.cache_clear()
    yield moto_server
    get_settings.cache_clear()
