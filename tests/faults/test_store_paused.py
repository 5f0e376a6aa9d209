"""Fault: the segment store stops answering mid-publish (moto paused with SIGSTOP; issue 17).

Version v1 is published and served. A publish of v2 starts; after its first batch of items the
emulator is paused. While it is paused the API answers quickly with an error (never hangs past
API Gateway's 29 s) and its health check says 503, and never with v2's half-loaded items; once
the emulator resumes, the publish completes and the API serves v2.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from segmentation.config import Settings, get_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from serving_data import make_stack, write_version

pytestmark = pytest.mark.moto
#: API Gateway's integration timeout: an answer later than this is a 504 there.
GATEWAY_TIMEOUT = 29.0


def call(url: str) -> tuple[int, Any, float]:
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:
            return resp.status, json.loads(resp.read()), time.monotonic() - t0
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null"), time.monotonic() - t0


@pytest.fixture
def own_moto(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, int]]:
    """A moto server of this test alone (it gets paused), and the settings pointing at it."""
    from segmentation_local.motoserver import moto_service
    from segmentation_local.process import start_on_free_port

    port, service = start_on_free_port(lambda p: moto_service(p, tmp_path))
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("SEG_AWS_ENDPOINT_URL", url)
    monkeypatch.delenv("SEG_AWS_SERVICE_ENDPOINTS", raising=False)
    get_settings.cache_clear()
    assert service.process is not None
    try:
        yield url, service.process.pid
    finally:
        os.kill(service.process.pid, signal.SIGCONT)
        service.stop()
        get_settings.cache_clear()


@pytest.fixture
def served(own_moto: tuple[str, int]) -> Iterator[tuple[Settings, str, int]]:
    from segmentation.anonymise import store_key
    from segmentation.serving import api
    from segmentation_local.api_gateway import LocalApi

    settings = get_settings()
    make_stack(settings)
    store_key(settings)
    api.state.reset(settings)
    with LocalApi() as server:
        yield settings, server.url, own_moto[1]
    api.state.reset()


def test_the_api_answers_while_the_store_is_paused_mid_publish_and_recovers(
    served: tuple[Settings, str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from segmentation.anonymise import load_anonymiser
    from segmentation.serving import api
    from segmentation.serving import table as t
    from segmentation.serving.publish import publish

    settings, url, moto_pid = served
    anon = load_anonymiser(settings)
    truth1 = write_version(settings, "v1", 120, anonymiser=anon)
    publish("v1", settings)
    truth2 = write_version(settings, "v2", 120, anonymiser=anon, shift=1)
    status, body, _ = call(f"{url}/users/user-00001/segment")
    assert status == 200 and body["model_version"] == "v1"
    assert body["segment_id"] == truth1["user-00001"]

    paused = threading.Event()
    original = t.BatchWriter.flush

    def flush_then_pause(self: Any) -> None:
        original(self)
        if self.written and not paused.is_set():  # v2's first items are in: the store stops
            os.kill(moto_pid, signal.SIGSTOP)
            paused.set()

    monkeypatch.setattr(t.BatchWriter, "flush", flush_then_pause)
    outcome: dict[str, Any] = {}

    def run_publish() -> None:
        try:
            outcome["result"] = publish("v2", settings)
        except Exception as exc:  # recorded, asserted below
            outcome["error"] = exc

    publisher = threading.Thread(target=run_publish, daemon=True)
    publisher.start()
    assert paused.wait(60), "the publish never wrote its first batch"
    try:
        status, body, seconds = call(f"{url}/health")
        assert status == 503 and body["status"] == "unavailable"
        assert seconds < GATEWAY_TIMEOUT, f"health took {seconds:.1f} s"
        status, body, seconds = call(f"{url}/users/user-00001/segment")
        assert seconds < GATEWAY_TIMEOUT, f"a lookup took {seconds:.1f} s"
        assert status >= 500 and "user-00001" not in json.dumps(body)
    finally:
        os.kill(moto_pid, signal.SIGCONT)

    publisher.join(120)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["result"].model_version == "v2" and outcome["result"].flipped
    api.state.get_store().current(refresh=True)  # skip the warm pointer cache
    status, body, _ = call(f"{url}/users/user-00001/segment")
    assert status == 200 and body["model_version"] == "v2"
    assert body["segment_id"] == truth2["user-00001"]
    status, body, _ = call(f"{url}/health")
    assert status == 200 and body["model_version"] == "v2"


def test_a_lookup_while_the_store_is_unreachable_is_a_503(
    served: tuple[Settings, str, int],
) -> None:
    from segmentation.anonymise import load_anonymiser
    from segmentation.serving.publish import publish

    settings, url, moto_pid = served
    write_version(settings, "v1", 9, anonymiser=load_anonymiser(settings))
    publish("v1", settings)
    os.kill(moto_pid, signal.SIGSTOP)
    try:
        status, _, _ = call(f"{url}/users/user-00001/segment")
    finally:
        os.kill(moto_pid, signal.SIGCONT)
    assert status == 503
