"""The segment API end to end on moto (DynamoDB + Secrets Manager): real handler file, real local
API Gateway adapter, ids HMAC'd with the key ingest uses."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest
from serving_data import make_stack, write_version

from segmentation.anonymise import load_anonymiser, store_key
from segmentation.config import Settings, get_settings
from segmentation.serving import api
from segmentation.serving.publish import publish
from segmentation_local.api_gateway import LocalApi, proxy_event
from segmentation_local.process import free_port, http_ok

pytestmark = pytest.mark.moto
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def settings(moto_env: str) -> Iterator[Settings]:
    s = get_settings()
    make_stack(s)
    store_key(s)
    api.state.reset(s)
    yield s
    api.state.reset()


@pytest.fixture
def local_api(settings: Settings) -> Iterator[str]:
    with LocalApi() as server:
        yield server.url


def call(url: str) -> tuple[int, Any, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            text = resp.read().decode()
            return resp.status, json.loads(text), text
    except urllib.error.HTTPError as err:
        text = err.read().decode()
        return err.code, json.loads(text), text


def test_before_any_publish(local_api: str) -> None:
    assert call(f"{local_api}/health")[:2] == (200, {"status": "ok", "model_version": None})
    status, body, _ = call(f"{local_api}/segments")
    assert status == 503 and "no segments published" in body["message"]
    assert call(f"{local_api}/users/user-00001/segment")[0] == 503


def test_every_user_resolves_to_its_segment(settings: Settings, local_api: str) -> None:
    truth = write_version(settings, "v1", 60, anonymiser=load_anonymiser(settings))
    publish("v1", settings)
    for raw, seg in truth.items():
        status, body, text = call(f"{local_api}/users/{quote(raw)}/segment")
        assert status == 200, text
        assert body["segment_id"] == seg and body["model_version"] == "v1"
        assert body["recommended_actions"] and body["summary"] and body["profile"]
        assert raw not in text
    status, body, _ = call(f"{local_api}/segments")
    assert status == 200 and body["model_version"] == "v1" and body["users"] == 60
    assert [s["size"] for s in body["segments"]] == [20, 20, 20]
    assert body["segments"][2]["segment_name"] == "Premium buyers"
    assert abs(sum(s["share"] for s in body["segments"]) - 1) < 1e-5
    assert call(f"{local_api}/health")[1] == {"status": "ok", "model_version": "v1"}


def test_lookup_follows_the_published_version(settings: Settings, local_api: str) -> None:
    anon = load_anonymiser(settings)
    write_version(settings, "v1", 9, anonymiser=anon)
    publish("v1", settings)
    truth2 = write_version(settings, "v2", 9, anonymiser=anon, shift=1)
    publish("v2", settings)
    api.state.get_store().current(refresh=True)  # skip the warm-Lambda pointer cache
    status, body, _ = call(f"{local_api}/users/user-00000/segment")
    assert status == 200 and body["model_version"] == "v2"
    assert body["segment_id"] == truth2["user-00000"]


def test_segments_and_users_carry_their_durable_keys(settings: Settings, local_api: str) -> None:
    """/segments gives each segment's key, since and previous size; a user's segment its key and
    whether the user moved since the previous version (true / false / null for a new user)."""
    anon = load_anonymiser(settings)
    truth1 = write_version(settings, "v1", 9, anonymiser=anon)
    publish("v1", settings)
    status, body, _ = call(f"{local_api}/segments")
    assert status == 200 and body["previous_model_version"] is None
    assert [(s["segment_key"], s["since"], s["previous_size"]) for s in body["segments"]] == [
        ("S1", "v1", None),
        ("S2", "v1", None),
        ("S3", "v1", None),
    ]
    status, body, _ = call(f"{local_api}/users/user-00001/segment")
    assert (body["segment_key"], body["moved_since_previous"]) == ("S2", None)

    # v2: users 0-8 again (0-5 in the same segment, 6-8 moved) and 9-11 new
    moved = {u: (truth1[u] + 1) % 3 for u in ("user-00006", "user-00007", "user-00008")}
    truth2 = write_version(
        settings, "v2", 12, anonymiser=anon, previous=("v1", truth1), placed=moved
    )
    publish("v2", settings)
    api.state.get_store().current(refresh=True)  # skip the warm-Lambda pointer cache
    status, body, _ = call(f"{local_api}/segments")
    assert body["model_version"] == "v2" and body["previous_model_version"] == "v1"
    assert [(s["segment_key"], s["since"], s["previous_size"]) for s in body["segments"]] == [
        ("S1", "v1", 3),
        ("S2", "v1", 3),
        ("S3", "v1", 3),
    ]
    answers = {}
    for raw, sid in truth2.items():
        status, body, text = call(f"{local_api}/users/{raw}/segment")
        assert status == 200 and body["segment_key"] == f"S{sid + 1}"
        assert raw not in text
        answers[raw] = body["moved_since_previous"]
    assert answers == {
        **{f"user-{i:05d}": False for i in range(6)},
        **dict.fromkeys(moved, True),
        **{f"user-{i:05d}": None for i in range(9, 12)},
    }


def test_a_user_gets_the_reasons_of_the_assignment_in_plain_sentences(
    settings: Settings, local_api: str
) -> None:
    """Publish stores each user's driving features; the API says them as sentences with the
    user's own values and the average, and never the id asked for."""
    anon = load_anonymiser(settings)
    write_version(settings, "v1", 6, anonymiser=anon, reasons=True)
    publish("v1", settings)
    status, body, text = call(f"{local_api}/users/user-00003/segment")
    assert status == 200
    assert body["reasons"] == [
        "Spent 103.00 EUR in the window (average 57.30 EUR).",
        "Last active 3.0 days before the snapshot (average 20).",
    ]
    assert "user-00003" not in text and anon.anon("user-00003") not in text
    # a version published without reasons: an empty list, not an error
    write_version(settings, "v2", 6, anonymiser=anon)
    publish("v2", settings)
    api.state.get_store().current(refresh=True)
    status, body, _ = call(f"{local_api}/users/user-00003/segment")
    assert status == 200 and body["reasons"] == []


def test_a_version_published_without_keys_serves_them_as_null(
    settings: Settings, local_api: str
) -> None:
    """A map and document from before stable keys still serve: the new fields are null."""
    truth = write_version(settings, "v1", 6, anonymiser=load_anonymiser(settings), schema=1)
    publish("v1", settings)
    status, body, _ = call(f"{local_api}/segments")
    assert status == 200 and body["previous_model_version"] is None
    assert body["segments"][0]["segment_name"] == "Binge watchers"
    for s in body["segments"]:
        assert (s["segment_key"], s["since"], s["previous_size"]) == (None, None, None)
    status, body, _ = call(f"{local_api}/users/user-00002/segment")
    assert status == 200 and body["segment_id"] == truth["user-00002"]
    assert (body["segment_key"], body["moved_since_previous"]) == (None, None)


@pytest.mark.parametrize(
    ("user_id", "status"),
    [
        ("unknown-user", 404),
        ("user%2000001", 400),  # inner whitespace
        ("%20%20", 400),  # whitespace only
        ("x" * 129, 400),
        ("%20user-00001%20", 200),  # stripped like the contract strips it
        ("x" * 128, 404),
    ],
)
def test_invalid_and_unknown_ids(
    settings: Settings, local_api: str, user_id: str, status: int
) -> None:
    write_version(settings, "v1", 3, anonymiser=load_anonymiser(settings))
    publish("v1", settings)
    got, body, text = call(f"{local_api}/users/{user_id}/segment")
    assert got == status, text
    if status == 400:
        assert body["message"] == "user_id must be 1-128 non-whitespace characters"
    raw = user_id.replace("%20", " ").strip()
    if raw:
        assert raw not in text


def test_proxy_event_shape() -> None:
    event = proxy_event("GET", "/users/a%20b/segment?x=1&x=2", {"Host": "h"}, None)
    assert event["resource"] == "/users/{user_id}/segment"
    assert event["pathParameters"] == {"user_id": "a b"}
    assert event["path"] == "/users/a b/segment"
    assert event["queryStringParameters"] == {"x": "2"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"]}
    assert event["requestContext"]["resourcePath"] == "/users/{user_id}/segment"
    assert event["requestContext"]["httpMethod"] == "GET"


def test_unknown_route_is_404(local_api: str) -> None:
    assert call(f"{local_api}/nope")[0] == 404


def _raw_request(port: int, request_line: str) -> bytes:
    """Send a request line as given (e.g. an unencoded space in the path) and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(f"{request_line}\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("powertools_dev", ["false", "true"])
def test_serve_command_never_logs_raw_ids(
    settings: Settings, tmp_path: Path, powertools_dev: str
) -> None:
    """`segmentation serve` in its own process, debug logging on (and Powertools' dev mode,
    which makes its resolver print events): raw ids appear in no output and no answer, a
    malformed request line included."""
    truth = write_version(settings, "v1", 5, anonymiser=load_anonymiser(settings))
    publish("v1", settings)
    port = free_port()
    log_path = tmp_path / "serve.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
        "SEG_API_PORT": str(port),
        "POWERTOOLS_DEV": powertools_dev,
        "POWERTOOLS_DEBUG": powertools_dev,  # Powertools' own DEBUG lines name paths and args
    }
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "segmentation_local.cli", "-v", "serve"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            probe = http_ok(f"http://127.0.0.1:{port}/health")
            deadline = time.monotonic() + 30
            while not probe() and time.monotonic() < deadline:
                time.sleep(0.2)
            asked = [*truth, "never-published-user", "bad id"]
            for raw in asked:
                call(f"http://127.0.0.1:{port}/users/{quote(raw)}/segment")
            malformed = "secret-user 77"  # an unencoded space: not a valid request line
            answer = _raw_request(port, f"GET /users/{malformed}/segment HTTP/1.1")
            asked.append(malformed)
            assert answer.startswith(b"HTTP/1.1 400 ") and b"secret-user" not in answer
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    output = log_path.read_text()
    assert "GET /users/{user_id}/segment 200" in output  # the access log is there...
    assert '"found"' in output  # ...and so are the Lambda's structured logs
    for raw in asked:
        assert raw not in output and quote(raw) not in output


def test_openapi_spec_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text()
    assert json.loads(committed) == json.loads(api.openapi_json()), (
        "docs/openapi.json is stale: run `segmentation serve --openapi > docs/openapi.json`"
    )


def send(url: str, method: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and raw body of one request (any method, error statuses included)."""
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers.items()), err.read()


def test_head_health_answers_like_get_without_a_body(settings: Settings, local_api: str) -> None:
    for published in (False, True):
        if published:
            write_version(settings, "v1", 3, anonymiser=load_anonymiser(settings))
            publish("v1", settings)
        got, got_headers, got_body = send(f"{local_api}/health", "GET")
        head, head_headers, head_body = send(f"{local_api}/health", "HEAD")
        assert (head, got) == (200, 200) and got_body and head_body == b""
        assert head_headers["Content-Type"] == got_headers["Content-Type"] == "application/json"
    # the Lambda itself leaves the body out, so API Gateway relays the same answer
    event = proxy_event("HEAD", "/health", {"Host": "h"}, None)
    answer = api.resolve(event, None)
    assert answer["statusCode"] == 200 and answer["body"] == ""


#: (raw path segment, status): one rule for every kind of whitespace, as the contract strips it
WHITESPACE_KINDS = [
    ("%09user-00001%09", 200),  # TAB around: stripped
    ("%C2%A0user-00001%C2%A0", 200),  # NBSP around
    ("%E3%80%80user-00001%0A", 200),  # ideographic space, LF
    ("%C2%85user-00001%E2%80%A8", 200),  # NEL, line separator
    ("user%09-00001", 400),  # inside: refused
    ("user%C2%A0-00001", 400),
    ("%E2%80%8Buser-00001", 400),  # ZWSP is no whitespace: not stripped, and invisible
    ("user-00001%E2%80%8B", 400),
    ("user%E2%80%8B-00001", 400),
    ("%EF%BB%BFuser-00001", 400),  # BOM
    ("%00user-00001", 400),  # control characters are never stripped
    ("%1Cuser-00001", 400),  # Python calls U+001C whitespace; the contract does not
    ("%09%C2%A0%E2%80%83", 400),  # whitespace only
    ("%09" + "x" * 128 + "%C2%A0", 404),  # 128 characters once stripped
    ("%09" + "x" * 129 + "%09", 400),
]


@pytest.mark.parametrize(("segment", "status"), WHITESPACE_KINDS)
def test_every_kind_of_whitespace_follows_one_rule(
    settings: Settings, local_api: str, segment: str, status: int
) -> None:
    """Before, a space was stripped while TAB, NBSP or ZWSP fell through to a router 404."""
    truth = write_version(settings, "v1", 3, anonymiser=load_anonymiser(settings))
    publish("v1", settings)
    got, body, text = call(f"{local_api}/users/{segment}/segment")
    assert got == status, text
    if status == 200:
        assert body["segment_id"] == truth["user-00001"]
    if status == 400:
        assert body == {"statusCode": 400, "message": api.INVALID_ID}
    assert "user-00001" not in text and "xxxxxxxx" not in text


def test_spec_pattern_is_the_rule_the_api_enforces(settings: Settings, local_api: str) -> None:
    """The committed spec's pattern accepts a raw id exactly when the API does not answer 400."""
    spec = json.loads((ROOT / "docs" / "openapi.json").read_text())
    params = spec["paths"]["/users/{user_id}/segment"]["get"]["parameters"]
    param = next(p for p in params if p["name"] == "user_id")
    assert param["schema"]["minLength"] == 1
    pattern = re.compile(param["schema"]["pattern"])
    write_version(settings, "v1", 3, anonymiser=load_anonymiser(settings))
    publish("v1", settings)
    samples = [unquote(s) for s, _ in WHITESPACE_KINDS]
    samples += ["x", "x" * 128, "x" * 129, "a b", " a ", "\u3000", "\x7f", "\u202e", "é€", "a/b"]
    for raw in samples:
        got = call(f"{local_api}/users/{quote(raw, safe='')}/segment")[0]
        assert (got != 400) == bool(pattern.fullmatch(raw)), (repr(raw), got)


def test_ids_of_any_allowed_character_are_found(settings: Settings, local_api: str) -> None:
    """An id ingest accepted is found, whatever characters it holds: the router no longer
    narrows what reaches the id rule (a `/`, `?`, `#` or `%` percent-encoded)."""
    odd = ["a/b", "q?x#y", "pct%20id", "é€ü", "semi;colon", "[x]{y}|z^", 'quo"te\\s']
    truth = write_version(settings, "v1", 9, anonymiser=load_anonymiser(settings), custom_ids=odd)
    publish("v1", settings)
    for raw in odd:
        got, body, text = call(f"{local_api}/users/{quote(raw, safe='')}/segment")
        assert got == 200, (raw, text)
        assert body["segment_id"] == truth[raw] and raw not in text


def test_spec_declares_only_answers_the_api_gives() -> None:
    """No 422 (Powertools' request validation is off: the id's rule answers 400), and no schema
    that no answer uses."""
    spec = json.loads((ROOT / "docs" / "openapi.json").read_text())
    declared = {
        (path, method, code)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        for code in op["responses"]
        if path.startswith(("/users/", "/segments", "/health"))  # the console's: its own test
    }
    assert declared == {
        ("/users/{user_id}/segment", "get", code) for code in ("200", "400", "404", "503")
    } | {("/segments", "get", c) for c in ("200", "503")} | {
        ("/health", m, c) for m in ("get", "head") for c in ("200", "503")
    }
    assert "422" not in json.dumps(spec)
    assert set(spec["components"]["schemas"]) >= {
        "ApiError",
        "Health",
        "Segment",
        "SegmentList",
        "UserSegment",
    }


def test_a_method_a_route_lacks_is_405(settings: Settings, local_api: str) -> None:
    for url, method, allow in [
        ("/segments", "POST", "GET"),
        ("/health", "DELETE", "GET, HEAD"),
        ("/users/user-00001/segment", "TRACE", "GET"),
        ("/users/user-00001/segment", "HEAD", "GET"),
    ]:
        got, headers, body = send(f"{local_api}{url}", method)
        assert (got, headers.get("Allow")) == (405, allow), (url, method)
        if method != "HEAD":
            assert json.loads(body) == {"statusCode": 405, "message": "Method not allowed"}
        assert b"user-00001" not in body
    got, _, body = send(f"{local_api}/users/user-00001/other", "GET")
    assert got == 404 and json.loads(body)["message"] == "Not found"
