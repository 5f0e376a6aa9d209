"""The embedded moto server's per-service lanes: one request at a time per control-plane service."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from segmentation.local.motoserver import SerialPerService, signing_service


def signed(service: str) -> dict[str, Any]:
    return {
        "HTTP_AUTHORIZATION": (
            f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261201/us-east-1/{service}/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=abc"
        )
    }


def test_signing_service_from_header_presigned_query_or_none() -> None:
    assert signing_service(signed("ec2")) == "ec2"
    assert signing_service(signed("LakeFormation")) == "lakeformation"
    query = (
        "X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKID%2F20261201%2Fus-east-1%2Fs3%2Faws4_request"
    )
    assert signing_service({"QUERY_STRING": query}) == "s3"
    assert signing_service({}) is None
    assert signing_service({"HTTP_AUTHORIZATION": "AWS AKID:signature"}) is None  # SigV2


class Recorder:
    """A WSGI app that records how many requests per service run inside it at once."""

    def __init__(self, barrier: threading.Barrier | None = None) -> None:
        self.barrier = barrier
        self.active: Counter[str | None] = Counter()
        self.peak: Counter[str | None] = Counter()
        self.closed = 0
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        service = signing_service(environ)
        with self._lock:
            self.active[service] += 1
            self.peak[service] = max(self.peak[service], self.active[service])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return self._body(service)

    def _body(self, service: str | None) -> Any:
        # The work happens while the body is produced, as with a streamed response.
        try:
            if self.barrier is not None:
                self.barrier.wait()  # breaks (an error) unless all parties are inside at once
            time.sleep(0.02)
            yield b"part-1;"
            yield (service or "unsigned").encode()
        finally:
            with self._lock:
                self.active[service] -= 1
                self.closed += 1


def run_concurrently(app: SerialPerService, environs: list[dict[str, Any]]) -> list[bytes]:
    def call(environ: dict[str, Any]) -> bytes:
        return b"".join(app(environ, lambda status, headers: None))

    with ThreadPoolExecutor(len(environs)) as pool:
        return list(pool.map(call, environs))


def test_control_plane_requests_run_one_at_a_time_per_service() -> None:
    inner = Recorder()
    app = SerialPerService(inner)
    environs = [signed("ec2")] * 6 + [signed("lakeformation")] * 6 + [{}] * 4
    bodies = run_concurrently(app, environs)

    assert inner.peak["ec2"] == 1 and inner.peak["lakeformation"] == 1 and inner.peak[None] == 1
    assert bodies.count(b"part-1;ec2") == 6 and bodies.count(b"part-1;unsigned") == 4
    assert inner.closed == len(environs)  # every body was consumed and closed inside its lane


def test_data_plane_services_stay_concurrent() -> None:
    inner = Recorder(threading.Barrier(12, timeout=30))
    app = SerialPerService(inner)
    bodies = run_concurrently(app, [signed("s3")] * 6 + [signed("sqs")] * 6)

    assert inner.peak["s3"] == 6 and inner.peak["sqs"] == 6
    assert bodies.count(b"part-1;s3") == 6
