"""A local stand-in for API Gateway (REST, Lambda proxy integration) in front of a handler.

Each HTTP request becomes the proxy event API Gateway would send (path, pathParameters,
queryStringParameters, headers, requestContext...), the real handler file runs, and its
``{statusCode, headers, body}`` answer is written back. It answers nothing itself: every method
goes to the handler (which answers a HEAD without a body, an undeclared method with 405), so
what the API does here is what the Lambda does behind API Gateway. The access log names the
route template, never the concrete path, because the path holds the raw user id.

The one thing it does answer is API Gateway's own: the console's resources (``AUTHORIZED``) have
a Cognito authorizer, so a call to them without a valid analyst ID token gets API Gateway's 401
before any handler runs, and a valid one reaches the handler with the token's claims in
``requestContext.authorizer.claims`` (see :class:`segmentation_local.cognito.TokenVerifier`).
CORS preflights (OPTIONS) pass unauthorised, as API Gateway's do.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from segmentation_local.lambda_context import LocalContext
from segmentation_local.lambdas import load_handler

log = logging.getLogger(__name__)

#: Resources of the REST API (as Terraform declares them): template -> path regex.
RESOURCES: dict[str, re.Pattern[str]] = {
    "/users/{user_id}/segment": re.compile(r"^/users/(?P<user_id>[^/]+)/segment$"),
    "/segments": re.compile(r"^/segments$"),
    "/health": re.compile(r"^/health$"),
    "/contract": re.compile(r"^/contract$"),
    "/uploads": re.compile(r"^/uploads$"),
    "/uploads/{upload_id}": re.compile(r"^/uploads/(?P<upload_id>[^/]+)$"),
    "/runs": re.compile(r"^/runs$"),
    "/runs/{run_id}": re.compile(r"^/runs/(?P<run_id>[^/]+)$"),
    "/models/{model_version}": re.compile(r"^/models/(?P<model_version>[^/]+)$"),
    "/lookups/{user_id}": re.compile(r"^/lookups/(?P<user_id>[^/]+)$"),
    "/served": re.compile(r"^/served$"),
    "/campaigns": re.compile(r"^/campaigns$"),
    "/campaigns/{campaign_id}": re.compile(r"^/campaigns/(?P<campaign_id>[^/]+)$"),
    "/campaigns/{campaign_id}/uplift": re.compile(r"^/campaigns/(?P<campaign_id>[^/]+)/uplift$"),
}
#: Resources behind the Cognito authorizer (terraform/modules/serving declares the same ones).
AUTHORIZED = frozenset(
    {
        "/uploads",
        "/uploads/{upload_id}",
        "/runs",
        "/runs/{run_id}",
        "/models/{model_version}",
        "/lookups/{user_id}",
        "/served",
        "/campaigns",
        "/campaigns/{campaign_id}",
        "/campaigns/{campaign_id}/uplift",
    }
)


def match_resource(path: str) -> tuple[str, dict[str, str] | None]:
    """(resource template, decoded path parameters) for a raw request path."""
    for template, pattern in RESOURCES.items():
        m = pattern.match(path)
        if m:
            params = {k: unquote(v) for k, v in m.groupdict().items()}
            return template, params or None
    return "/{proxy+}", None


def proxy_event(
    method: str, raw_path: str, headers: dict[str, str], body: bytes | None, stage: str = "local"
) -> dict[str, Any]:
    """The API Gateway REST proxy event for one request."""
    split = urlsplit(raw_path)
    resource, path_params = match_resource(split.path)
    query = parse_qs(split.query, keep_blank_values=True)
    multi_headers: dict[str, list[str]] = {}
    for k, v in headers.items():
        multi_headers.setdefault(k, []).append(v)
    now = time.time()
    return {
        "resource": resource,
        "path": unquote(split.path),
        "httpMethod": method,
        "headers": dict(headers) or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": path_params,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/{stage}{split.path}",
            "stage": stage,
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "accountId": "123456789012",
            "apiId": "local",
            "identity": {"sourceIp": "127.0.0.1", "userAgent": headers.get("User-Agent")},
        },
        "body": body.decode("utf-8", "replace") if body else None,
        "isBase64Encoded": False,
    }


def make_server(
    handler: Callable[[dict[str, Any], Any], dict[str, Any]],
    host: str = "127.0.0.1",
    port: int = 0,
    function_name: str = "segment_api",
    verifier: Any = None,
    console_origin: str | None = None,
) -> ThreadingHTTPServer:
    """A threading HTTP server that feeds every request through ``handler``.

    ``verifier`` (a :class:`~segmentation_local.cognito.TokenVerifier`) checks the analyst's
    token on the ``AUTHORIZED`` resources; without one they are refused, as an authorizer with
    no pool would refuse them. ``console_origin`` gets the CORS header on that 401, as the REST
    API's UNAUTHORIZED gateway response has it on AWS, so the console can read the refusal."""

    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes; with Nagle on, keep-alive clients wait
        # for the delayed ACK (~40 ms) on every response.
        disable_nagle_algorithm = True
        server_version = "segmentation-local-apigw"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            event = proxy_event(self.command, self.path, dict(self.headers.items()), body)
            self._resource = event["resource"]
            if self._resource in AUTHORIZED and self.command != "OPTIONS":
                claims = self._authorize()
                if claims is None:
                    return self._answer(self._unauthorized())
                event["requestContext"]["authorizer"] = {"claims": claims}
            try:
                result = handler(event, LocalContext(function_name))
            except Exception as exc:  # as API Gateway: a failed integration is a 502
                log.error(
                    "handler failed on %s %s: %s", self.command, self._resource, type(exc).__name__
                )
                result = {
                    "statusCode": 502,
                    "body": json.dumps({"message": "Internal server error"}),
                }
            self._answer(result)

        def _authorize(self) -> dict[str, Any] | None:
            from segmentation_local.cognito import InvalidToken

            if verifier is None:
                return None
            try:
                return verifier.claims(self.headers.get("Authorization"))
            except InvalidToken as exc:
                log.info("unauthorized %s %s: %s", self.command, self._resource, exc)
                return None

        def _unauthorized(self) -> dict[str, Any]:
            headers = {"Content-Type": "application/json"}
            if console_origin and self.headers.get("Origin") == console_origin:
                headers["Access-Control-Allow-Origin"] = console_origin
            return {
                "statusCode": 401,
                "headers": headers,
                "body": json.dumps({"message": "Unauthorized"}),
            }

        def _answer(self, result: dict[str, Any]) -> None:
            payload = result.get("body") or ""
            data = (
                base64.b64decode(payload)
                if result.get("isBase64Encoded")
                else str(payload).encode("utf-8")
            )
            self.send_response(int(result.get("statusCode", 200)))
            sent = set()
            for k, values in (result.get("multiValueHeaders") or {}).items():
                for v in values:
                    self.send_header(k, str(v))
                sent.add(k.lower())
            for k, v in (result.get("headers") or {}).items():
                if k.lower() not in sent:
                    self.send_header(k, str(v))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def __getattr__(self, name: str) -> Any:
            # Every method goes to the handler, which answers 405 itself for one a route lacks
            # (as it does on AWS, where the resources' ANY method forwards them): the adapter
            # adds no answer of its own, not even http.server's 501 for TRACE.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            # The concrete path carries the raw user id: log the resource template instead.
            log.info("%s %s %s", self.command, getattr(self, "_resource", "?"), code)

        def log_message(self, format: str, *args: Any) -> None:
            # http.server's arguments hold the request line, i.e. the raw id: keep the words
            log.debug("http: %s", format.replace("%s", "<...>").replace("%d", "<n>"))

        def send_error(
            self, code: int, message: str | None = None, explain: str | None = None
        ) -> None:
            # http.server puts the malformed request line (e.g. an unencoded space inside a
            # user id) in the status line and the body: answer with the code's own words only
            super().send_error(code, None, None)

    return ThreadingHTTPServer((host, port), RequestHandler)


class LocalApi:
    """The segment API Lambda behind a local API Gateway, in a background thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        verifier: Any = None,
        console_origin: str | None = None,
    ) -> None:
        self.server = make_server(
            load_handler("segment_api"),
            host,
            port,
            verifier=verifier,
            console_origin=console_origin,
        )
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> LocalApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve_forever(host: str, port: int) -> None:
    server = make_server(load_handler("segment_api"), host, port)
    print(
        f"segment API on http://{host}:{server.server_address[1]} (Ctrl-C stops)",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
