"""`segmentation up` / `down`: the background stack starts provisioned and stops completely."""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.moto, pytest.mark.broker]


def test_up_then_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from segmentation_local.stack import down, running, up

    for var in list(os.environ):
        if var.startswith(("SEG_", "MLFLOW_")) or var == "AWS_ENDPOINT_URL":
            monkeypatch.delenv(var)
    state = tmp_path / "stack"
    try:
        info = up(state, provision="python", free_ports=True)
        alive = running(state)
        assert set(alive) == {"moto", "broker", "mlflow"}
        env = dict(
            line.removeprefix("export ").split("=", 1)
            for line in (state / "stack.env").read_text().splitlines()
        )
        assert env["SEG_AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{info['ports']['moto']}"
        with urllib.request.urlopen(f"{env['SEG_MLFLOW_TRACKING_URI']}/health", timeout=10) as r:
            assert r.status == 200
        from segmentation.awsclients import client
        from segmentation.config import get_settings

        get_settings.cache_clear()
        settings = get_settings()
        client("secretsmanager", settings).describe_secret(SecretId=settings.hmac_secret_name)
        with pytest.raises(RuntimeError, match="already up"):
            up(state, provision="python", free_ports=True)
    finally:
        stopped = down(state)
        get_settings.cache_clear()
    assert set(stopped) == {"moto", "broker", "mlflow"}
    for pid in alive.values():  # they are this test's children: reap them (no zombies left)
        assert os.waitpid(pid, 0)[0] == pid
    assert running(state) == {}
    assert down(state) == []
