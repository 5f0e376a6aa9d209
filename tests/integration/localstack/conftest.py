"""LocalStack for the tests of this folder: one server per test session, on a free port, its state
under the session's tmp dir. It comes from ``make setup`` (mk/localstack.mk); where pyenv has no
Python 3.13.0 it cannot exist and these tests skip, except under CI, where they fail."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class LocalStack:
    url: str
    sfn_mock_config: Path


@pytest.fixture(scope="session")
def localstack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    from segmentation_local import localstack as ls
    from segmentation_local.process import start_on_free_port

    if not ls.installed():
        reason = f"LocalStack is not installed at {ls.VENV} (`make setup` installs it there)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run it")
        pytest.skip(f"{reason}: pyenv has no Python 3.13.0 on this machine")
    data = tmp_path_factory.mktemp("localstack")
    mocks = data / "sfn-mocks.json"
    port, service = start_on_free_port(
        lambda p: ls.localstack_service(p, data / f"state-{p}", sfn_mock_config=mocks)
    )
    try:
        yield LocalStack(ls.endpoint(port), mocks)
    finally:
        service.stop()
