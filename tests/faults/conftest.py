"""Fixtures of the fault tests: a Kafka-protocol broker (Tansu) of this test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from segmentation_local.broker import broker_service
    from segmentation_local.process import free_port

    port = free_port()
    with broker_service(port, tmp_path_factory.mktemp("broker")):
        yield f"127.0.0.1:{port}"
