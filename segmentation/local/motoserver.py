"""The embedded AWS: moto in server mode, with this project's patches applied first.

Run as ``python -m segmentation.local.motoserver --port 5000``. The patches (see
:mod:`segmentation.local.moto_patches`) restore AWS behaviour moto lacks; they are applied in this
process before the server starts, which is why moto is not launched through its own CLI.

moto's backends are not thread-safe (a security group's rules, a database's LF-tags are lists
rebuilt by read-modify-write), and ``terraform apply`` / ``destroy`` send up to 20 requests at
once: racing requests to one service lost updates and made destroy fail now and then ("rule does
not exist", a 500 from Lake Formation). :class:`SerialPerService` runs the requests to one service
one at a time; S3 and SQS, the data planes (Spark's parallel reads, SQS long polls), stay
concurrent.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from segmentation.local.process import Service, http_ok

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Services whose requests keep running concurrently: per-object / per-message data planes, and
#: SQS's long polls, which would otherwise hold the service for their whole wait.
CONCURRENT_SERVICES = frozenset({"s3", "sqs"})

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": False}, "lambda": {"use_docker": False}}


def moto_service(port: int, log_dir: Path) -> Service:
    """A :class:`Service` running this module on ``port``."""
    return Service(
        name="moto",
        argv=[sys.executable, "-m", "segmentation.local.motoserver", "--port", str(port)],
        ready=http_ok(f"http://127.0.0.1:{port}/moto-api/"),
        log_path=log_dir / "moto.log",
        env={"MOTO_PORT": str(port)},
    )


def signing_service(environ: dict[str, Any]) -> str | None:
    """The service a SigV4 request was signed for (header or presigned query), else None."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    credential = auth.split("Credential=", 1)[1].split(",", 1)[0] if "Credential=" in auth else ""
    if not credential and "X-Amz-Credential" in environ.get("QUERY_STRING", ""):
        credential = parse_qs(environ["QUERY_STRING"]).get("X-Amz-Credential", [""])[0]
    parts = credential.split("/")  # key / date / region / service / aws4_request
    return parts[3].lower() if len(parts) == 5 else None


class SerialPerService:
    """WSGI middleware: one request at a time per AWS service (unsigned requests share a lane).

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
            body = self._app(environ, start_response)
            try:
                return [b"".join(body)]
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("MOTO_PORT", "5000")))
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))

    try:
        from segmentation.local import moto_patches
    except ImportError:  # patches are optional: a plain moto still serves most services
        moto_patches = None
    if moto_patches is not None:
        moto_patches.apply()

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    app = SerialPerService(DomainDispatcherApplication(create_backend_app))
    server = make_server(
        args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler
    )
    print(f"moto server on http://{args.host}:{args.port}", flush=True)
    try:
        server.serve_forever()  # run until killed
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
