"""The WSGI layers in front of the embedded moto server: per-service lanes, replayed answers."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from segmentation_local.moto_wsgi import (
    ReplayLostResponses,
    SerialPerService,
    sdk_attempt,
    signing_service,
)


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


# --- replaying lost answers -------------------------------------------------------------------
def attempt(service: str, invocation: str | None, number: int) -> dict[str, Any]:
    environ = signed(service)
    if invocation is not None:
        environ["HTTP_AMZ_SDK_INVOCATION_ID"] = invocation
        environ["HTTP_AMZ_SDK_REQUEST"] = f"attempt={number}; max=3"
    return environ


class Counting:
    """A WSGI app answering with a fixed status and a body that counts its calls."""

    def __init__(self, status: str = "200 OK", gate: threading.Event | None = None) -> None:
        self.status = status
        self.calls = 0
        self.gate = gate
        self.started = threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.calls += 1
        self.started.set()
        if self.gate is not None:
            self.gate.wait(timeout=30)
        start_response(self.status, [("Content-Type", "application/json"), ("X-Call", "1")])
        return [f'{{"call": {self.calls}}}'.encode()]


def call(app: Any, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list, exc_info: Any = None) -> None:
        seen["status"], seen["headers"] = status, headers

    body = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], body


def test_sdk_attempt_reads_the_retry_headers() -> None:
    assert sdk_attempt(attempt("ec2", "inv-1", 2)) == ("inv-1", 2)
    assert sdk_attempt({"HTTP_AMZ_SDK_INVOCATION_ID": "inv-2"}) == ("inv-2", 1)
    assert sdk_attempt({"HTTP_AMZ_SDK_REQUEST": "attempt=2; max=3"}) is None
    assert sdk_attempt(signed("ec2")) is None


def test_a_retry_of_a_call_that_succeeded_gets_the_first_answer() -> None:
    inner = Counting()
    app = ReplayLostResponses(inner, log=lambda line: None)
    first = call(app, attempt("lakeformation", "inv-1", 1))
    again = call(app, attempt("lakeformation", "inv-1", 2))

    assert inner.calls == 1 and app.replayed == 1
    assert again == first and first[2] == b'{"call": 1}'


def test_failed_new_unsigned_and_data_plane_calls_run_again() -> None:
    failing = Counting("500 Internal Server Error")
    app = ReplayLostResponses(failing, log=lambda line: None)
    call(app, attempt("ec2", "inv-1", 1))
    assert call(app, attempt("ec2", "inv-1", 2))[2] == b'{"call": 2}'  # a 5xx is not kept

    inner = Counting()
    app = ReplayLostResponses(inner, log=lambda line: None)
    call(app, attempt("ec2", "inv-a", 1))
    call(app, attempt("ec2", "inv-b", 2))  # another call's retry
    call(app, attempt("ec2", None, 1))
    call(app, attempt("ec2", None, 1))
    call(app, attempt("s3", "inv-s3", 1))
    call(app, attempt("s3", "inv-s3", 2))  # S3 answers are not kept
    assert inner.calls == 6 and app.replayed == 0


def test_only_the_latest_answers_are_kept() -> None:
    inner = Counting()
    app = ReplayLostResponses(inner, capacity=2, log=lambda line: None)
    for invocation in ("inv-1", "inv-2", "inv-3"):
        call(app, attempt("iam", invocation, 1))
    call(app, attempt("iam", "inv-1", 2))  # evicted: runs again
    call(app, attempt("iam", "inv-3", 2))  # kept: replayed
    assert inner.calls == 4 and app.replayed == 1


def test_a_retry_waits_for_the_attempt_still_running() -> None:
    gate = threading.Event()
    inner = Counting(gate=gate)
    app = ReplayLostResponses(inner, log=lambda line: None)
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(call, app, attempt("glue", "inv-1", 1))
        assert inner.started.wait(timeout=30)
        retry = pool.submit(call, app, attempt("glue", "inv-1", 2))
        time.sleep(0.05)
        assert not retry.done()  # held until the first attempt has answered
        gate.set()
        assert retry.result(timeout=30) == first.result(timeout=30)
    assert inner.calls == 1 and app.replayed == 1


@pytest.mark.moto
def test_the_project_moto_server_replays_a_lost_create(moto_env: str) -> None:
    """On the real server: a CreateDatabase retried after its answer was lost succeeds once."""
    glue = boto3.client("glue", endpoint_url=moto_env, region_name="us-east-1")
    number = {"attempt": 1}

    def same_invocation(request: Any, **_: Any) -> None:
        request.headers["amz-sdk-invocation-id"] = "lost-answer-test"
        request.headers["amz-sdk-request"] = f"attempt={number['attempt']}; max=3"

    glue.meta.events.register("before-send.glue.CreateDatabase", same_invocation)
    glue.create_database(DatabaseInput={"Name": "replayed_db"})
    number["attempt"] = 2
    glue.create_database(DatabaseInput={"Name": "replayed_db"})  # the retry: no AlreadyExists
    number["attempt"] = 1
    glue.meta.events.unregister("before-send.glue.CreateDatabase", same_invocation)
    with pytest.raises(ClientError) as err:  # a new call does run, and finds the database
        glue.create_database(DatabaseInput={"Name": "replayed_db"})
    assert err.value.response["Error"]["Code"] == "AlreadyExistsException"
    assert [d["Name"] for d in glue.get_databases()["DatabaseList"]] == ["replayed_db"]
