"""WSGI layers in front of moto's server app, for clients that send many requests at once.

``terraform apply`` / ``destroy`` against moto send up to 20 requests at a time, and destroy
failed now and then (the local-apply test: 2 of 12 runs without these layers, on CI too; none of
9 with them and the ``lakeformation-repeated-grants`` patch, three runs at a time):

- **Lost responses.** Now and then the AWS provider's HTTP client drops a connection after moto
  has done the work but before it has read the answer (moto's log: the reset arrives while
  werkzeug drains the connection after the response), and the SDK sends the same request again:
  a second RemoveLFTagsFromResource / RevokeSecurityGroupEgress / DeregisterResource then fails
  on what the first one already removed. :class:`ReplayLostResponses` answers such a repeat with
  the first attempt's answer, which is what the client was waiting for.
- **Racing requests.** moto's backends are not thread-safe (a security group's rules, a
  database's LF-tags are lists rebuilt by read-modify-write). :class:`SerialPerService` runs the
  requests to one service one at a time.

S3 and SQS, the data planes (Spark's parallel reads, SQS long polls), pass through both untouched.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Services whose requests keep running concurrently: per-object / per-message data planes, and
#: SQS's long polls, which would otherwise hold the service for their whole wait.
CONCURRENT_SERVICES = frozenset({"s3", "sqs"})


def signing_service(environ: dict[str, Any]) -> str | None:
    """The service a SigV4 request was signed for (header or presigned query), else None."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    credential = auth.split("Credential=", 1)[1].split(",", 1)[0] if "Credential=" in auth else ""
    if not credential and "X-Amz-Credential" in environ.get("QUERY_STRING", ""):
        credential = parse_qs(environ["QUERY_STRING"]).get("X-Amz-Credential", [""])[0]
    parts = credential.split("/")  # key / date / region / service / aws4_request
    return parts[3].lower() if len(parts) == 5 else None


def sdk_attempt(environ: dict[str, Any]) -> tuple[str, int] | None:
    """(invocation id, attempt number) from the AWS SDKs' retry headers, else None.

    Every attempt of one SDK call carries the same ``amz-sdk-invocation-id`` and an
    ``amz-sdk-request: attempt=N; max=M`` (botocore and the Go SDK both send them).
    """
    invocation = environ.get("HTTP_AMZ_SDK_INVOCATION_ID")
    request = environ.get("HTTP_AMZ_SDK_REQUEST", "")
    if not invocation:
        return None
    fields = dict(part.strip().split("=", 1) for part in request.split(";") if "=" in part)
    try:
        return invocation, int(fields.get("attempt", "1"))
    except ValueError:
        return invocation, 1


def _read_all(body: Iterable[bytes]) -> bytes:
    try:
        return b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()


class SerialPerService:
    """One request at a time per AWS service (unsigned requests share a lane).

    The response body is read inside the lane, so a backend's state is never touched by two
    requests at once; requests to different services still overlap.
    """

    def __init__(self, app: WSGIApp, concurrent: frozenset[str] = CONCURRENT_SERVICES) -> None:
        self._app = app
        self._concurrent = concurrent
        self._lanes: dict[str | None, threading.Lock] = {}
        self._lanes_lock = threading.Lock()

    def _lane(self, service: str | None) -> threading.Lock:
        with self._lanes_lock:
            return self._lanes.setdefault(service, threading.Lock())

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        service = signing_service(environ)
        if service in self._concurrent:
            return self._app(environ, start_response)
        with self._lane(service):
            return [_read_all(self._app(environ, start_response))]


class ReplayLostResponses:
    """Answer an SDK's retry of a call that already succeeded with the answer it never read.

    A client retries a call only when it did not get an answer it could use; if moto's answer
    to an earlier attempt was a success, the client lost it, and doing the call again would act
    twice (or fail on what the first attempt removed). Only successes (2xx) are kept, so a
    retry after a throttle or a 5xx runs again; the last ``capacity`` answers are kept (they are
    control-plane answers: small).
    """

    def __init__(
        self,
        app: WSGIApp,
        capacity: int = 4096,
        bypass: frozenset[str] = CONCURRENT_SERVICES,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self._app = app
        self._capacity = capacity
        self._bypass = bypass
        self._log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self._answers: OrderedDict[str, tuple[str, list[tuple[str, str]], bytes]] = OrderedDict()
        self._running: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self.replayed = 0

    def _kept(self, invocation: str) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """The answer kept for ``invocation``, once any attempt of it still running is done."""
        with self._lock:
            running = self._running.get(invocation)
        if running is not None:  # the client gave up on an attempt moto is still working on
            running.wait(timeout=300)
        with self._lock:
            return self._answers.get(invocation)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        attempt = sdk_attempt(environ)
        service = signing_service(environ)
        if attempt is None or service in self._bypass:
            return self._app(environ, start_response)
        invocation, number = attempt
        kept = self._kept(invocation) if number > 1 else None
        if kept is not None:
            status, headers, body = kept
            with self._lock:
                self.replayed += 1
            self._log(
                f"moto_wsgi: attempt {number} of {service} call {invocation}: replayed the "
                f"answer ({status}) its earlier attempt lost"
            )
            start_response(status, headers)
            return [body]

        seen: dict[str, Any] = {}

        def recording_start_response(status: str, headers: list, exc_info: Any = None) -> Any:
            seen["status"], seen["headers"] = status, list(headers)
            return start_response(status, headers, exc_info)

        done = threading.Event()
        with self._lock:
            self._running[invocation] = done
        try:
            body = _read_all(self._app(environ, recording_start_response))
            if seen.get("status", "").startswith("2"):
                with self._lock:
                    self._answers[invocation] = (seen["status"], seen["headers"], body)
                    self._answers.move_to_end(invocation)
                    while len(self._answers) > self._capacity:
                        self._answers.popitem(last=False)
        finally:
            with self._lock:
                if self._running.get(invocation) is done:
                    del self._running[invocation]
            done.set()
        return [body]


def layered(app: WSGIApp) -> WSGIApp:
    """moto's app behind both layers (replay outermost: a replayed answer takes no lane)."""
    return ReplayLostResponses(SerialPerService(app))
