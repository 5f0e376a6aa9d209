"""The console's API end to end on moto: the real segment_api handler behind the local API
Gateway, analysts signed in against moto's Cognito (tokens verified against the pool's keys),
uploads through a presigned PUT and the landing watcher's batch ingest, runs through the local
executions recorder (the real ASL; scripted task outcomes, no Spark)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from serving_data import make_stack, write_version

from segmentation.anonymise import load_anonymiser, store_key
from segmentation.awsclients import client
from segmentation.config import Settings, get_settings
from segmentation.pipeline.params import InvalidInput, validate_execution_input
from segmentation_local.cognito import add_analyst, ensure_pool
from segmentation_local.console import LocalConsole
from segmentation_local.orchestration.local_runner import run_pipeline

pytestmark = pytest.mark.moto
ROOT = Path(__file__).resolve().parents[2]


class GatedRunner:
    """The local runner with scripted outcomes; each run waits for ``release`` first. The
    definition is rendered with the state machine tests' values (lake prefix "unit"), which
    their Script is keyed by."""

    def __init__(self) -> None:
        import sys

        sys.path.insert(0, str(ROOT / "tests" / "unit"))
        from test_state_machine import Script

        self.script_cls = Script
        self.release = threading.Event()

    def __call__(self, execution_input: dict[str, Any], name: str, on_state: Any) -> Any:
        self.release.wait(20)
        return run_pipeline(
            execution_input,
            Settings(lake_prefix="unit"),
            execution_name=name,
            dispatcher=self.script_cls(),
            on_state=on_state,
        )


@pytest.fixture
def settings(moto_env: str) -> Iterator[Settings]:
    s = get_settings()
    make_stack(s)
    store_key(s)
    yield s


@pytest.fixture
def console(settings: Settings, tmp_path: Path) -> Iterator[tuple[LocalConsole, GatedRunner]]:
    runner = GatedRunner()
    with LocalConsole(tmp_path, settings, runner=runner) as local:
        yield local, runner
    runner.release.set()


def sign_in(settings: Settings, email: str = "ana@example.com") -> str:
    """An analyst's ID token, the way the console gets it (InitiateAuth, then the new password)."""
    password = add_analyst(email, settings)
    pool = ensure_pool(settings)
    idp = client("cognito-idp", settings)
    first = idp.initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    assert first["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    done = idp.respond_to_auth_challenge(
        ClientId=pool.client_id,
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=first["Session"],
        ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": "N3w-Passw0rd!x"},
    )
    return str(done["AuthenticationResult"]["IdToken"])


def call(
    url: str, method: str = "GET", body: Any = None, token: str | None = None, **headers: str
) -> tuple[int, Any, dict[str, str]]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", token)
    for k, v in headers.items():
        request.add_header(k, v)
    try:
        with urllib.request.urlopen(request, timeout=20) as resp:
            text = resp.read().decode()
            return resp.status, json.loads(text) if text else None, dict(resp.headers)
    except urllib.error.HTTPError as err:
        text = err.read().decode()
        return err.code, json.loads(text) if text else None, dict(err.headers)


def wait_for(check: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_console_routes_refuse_unsigned_and_forged_calls(
    settings: Settings, console: tuple[LocalConsole, GatedRunner]
) -> None:
    local, _ = console
    api = local.api.url
    for method, path in [
        ("POST", "/runs"),
        ("GET", "/runs"),
        ("GET", "/runs/x"),
        ("POST", "/uploads"),
        ("GET", "/uploads/" + "0" * 32),
        ("GET", "/models/v1"),
        ("GET", "/lookups/user-00001"),
        ("GET", "/served"),
        ("POST", "/campaigns"),
        ("GET", "/campaigns"),
    ]:
        status, body, _ = call(api + path, method, {} if method == "POST" else None)
        assert (status, body) == (401, {"message": "Unauthorized"}), path
    token = sign_in(settings)
    head, payload, _signature = token.split(".")
    forged = f"{head}.{payload}.{'A' * 40}"
    assert call(api + "/runs", "POST", {}, token=forged)[0] == 401
    assert call(api + "/runs", "POST", {}, token="Bearer " + forged)[0] == 401
    assert call(api + "/runs", "GET", token=token)[0] == 200
    # a token of another client of the pool is not the console's
    pool = ensure_pool(settings)
    idp = client("cognito-idp", settings)
    other = idp.create_user_pool_client(
        UserPoolId=pool.user_pool_id,
        ClientName="other",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]["ClientId"]
    answer = idp.initiate_auth(
        ClientId=other,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ana@example.com", "PASSWORD": "N3w-Passw0rd!x"},
    )
    assert call(api + "/runs", "GET", token=answer["AuthenticationResult"]["IdToken"])[0] == 401
    # the public routes stay public
    assert call(api + "/contract")[0] == 200


@pytest.mark.parametrize(
    "payload",
    [{"k": 1}, {"algorithm": "kmeans-x"}, {"eps": 0}, {"min_samples": "5"}, {"k_maxx": 3}],
)
def test_a_bad_run_input_is_refused_with_the_pipeline_message(
    settings: Settings, console: tuple[LocalConsole, GatedRunner], payload: dict[str, Any]
) -> None:
    local, _ = console
    token = sign_in(settings)
    status, body, _ = call(local.api.url + "/runs", "POST", payload, token=token)
    with pytest.raises(InvalidInput) as expected:
        validate_execution_input(payload)
    assert (status, body["message"]) == (400, str(expected.value))
    assert call(local.api.url + "/runs", "GET", token=token)[1] == {"runs": []}


def test_a_run_is_started_refused_while_running_and_followed(
    settings: Settings, console: tuple[LocalConsole, GatedRunner]
) -> None:
    local, runner = console
    api = local.api.url
    token = sign_in(settings)
    status, started, _ = call(api + "/runs", "POST", {"algorithm": "dbscan"}, token=token)
    assert status == 202
    run_id = started["run_id"]
    status, conflict, _ = call(api + "/runs", "POST", {"k": 3}, token=token)
    assert status == 409 and conflict["running_id"] == run_id
    assert run_id in conflict["message"]
    status, listing, _ = call(api + "/runs", token=token)
    assert [(r["run_id"], r["status"]) for r in listing["runs"]] == [(run_id, "RUNNING")]

    runner.release.set()
    detail = wait_for(
        lambda: (d := call(f"{api}/runs/{run_id}", token=token)[1])["status"] != "RUNNING" and d
    )
    assert detail["status"] == "SUCCEEDED", detail
    assert detail["input"] == {"algorithm": "dbscan"}
    steps = [s["step"] for s in detail["states"] if s["step"]]
    assert steps == ["clean", "features", "cluster", "monitor", "publish"]
    assert all(s["status"] == "succeeded" for s in detail["states"])
    assert detail["model_version"]
    assert call(f"{api}/runs/no-such-run", token=token)[0] == 404
    assert call(f"{api}/runs/bad%20id", token=token)[0] == 400


CSV = (
    "user_id,timestamp,event_type,amount\n"
    "u-1,2026-09-14T20:31:07Z,play,\n"
    "u-2,not-a-date,play,\n"
    "u-3,2026-09-14T20:31:07Z,dance,\n"
    "u-4,2026-09-14T21:00:00Z,purchase,7.99\n"
)


def test_an_upload_is_ingested_and_its_bad_rows_reported(
    settings: Settings, console: tuple[LocalConsole, GatedRunner]
) -> None:
    local, _ = console
    api = local.api.url
    token = sign_in(settings)
    for bad in [
        {"filename": "events.xlsx", "size": 10},
        {"filename": "events.csv", "size": settings.upload_max_bytes + 1},
        {"filename": "events.csv", "size": 0},
        {"filename": "events.csv"},
    ]:
        status, body, _ = call(api + "/uploads", "POST", bad, token=token)
        assert status == 400 and "expected" in body["message"], bad
    status, ticket, _ = call(
        api + "/uploads", "POST", {"filename": "my events.csv", "size": len(CSV)}, token=token
    )
    assert status == 201 and ticket["method"] == "PUT"
    upload = f"{api}/uploads/{ticket['upload_id']}"
    assert call(upload, token=token)[1]["status"] == "waiting"
    # the browser's PUT, cross-origin from the console
    put = requests.put(
        ticket["url"], data=CSV.encode(), headers={"Origin": local.origin}, timeout=10
    )
    assert put.status_code == 200, put.text
    report = wait_for(
        lambda: (r := call(upload, token=token)[1])["status"] in {"processed", "failed"} and r
    )
    assert report["status"] == "processed", report
    assert (report["rows_ok"], report["rows_rejected"]) == (2, 2)
    assert report["filename"] == "my_events.csv"
    faults = {(e["line"], e["column"]) for e in report["errors"]}
    assert faults == {(3, "timestamp"), (4, "event_type")}
    assert "u-2" not in json.dumps(report) and "u-3" not in json.dumps(report)
    assert call(f"{api}/uploads/not-an-id", token=token)[0] == 400


def test_cors_is_the_console_origin_only(
    settings: Settings, console: tuple[LocalConsole, GatedRunner]
) -> None:
    local, _ = console
    api = local.api.url
    preflight = {
        "Origin": local.origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    status, _, headers = call(api + "/runs", "OPTIONS", **preflight)
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == local.origin
    assert "Authorization" in headers["Access-Control-Allow-Headers"]
    status, _, headers = call(api + "/runs", "OPTIONS", **{**preflight, "Origin": "http://evil"})
    assert "Access-Control-Allow-Origin" not in headers
    # the 401 carries the header too, so the page can read the refusal
    status, _, headers = call(api + "/runs", "POST", {}, Origin=local.origin)
    assert status == 401 and headers["Access-Control-Allow-Origin"] == local.origin
    status, _, headers = call(api + "/contract", Origin=local.origin)
    assert headers["Access-Control-Allow-Origin"] == local.origin


def test_the_site_serves_the_page_its_config_and_the_parameter_schema(
    settings: Settings, console: tuple[LocalConsole, GatedRunner]
) -> None:
    local, _ = console
    config = requests.get(local.url + "config.json", timeout=10).json()
    assert config["api_url"] == local.api.url
    assert config["cognito"]["client_id"] == ensure_pool(settings).client_id
    schema = requests.get(local.url + "params.schema.json", timeout=10).json()
    assert schema == json.loads((ROOT / "docs" / "params.schema.json").read_text())
    page = requests.get(local.url, timeout=10)
    assert page.status_code == 200 and '<script type="module"' in page.text
    assert requests.get(local.url + "js/", timeout=10).status_code == 404


def test_spec_declares_the_console_routes_answers_and_security() -> None:
    spec = json.loads((ROOT / "docs" / "openapi.json").read_text())
    declared = {
        (path, method, code)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        for code in op["responses"]
        if not path.startswith(("/users/", "/segments", "/health"))
    }
    assert declared == {
        ("/contract", "get", "200"),
        *(("/uploads", "post", c) for c in ("201", "400", "401")),
        *(("/uploads/{upload_id}", "get", c) for c in ("200", "400", "401")),
        *(("/runs", "post", c) for c in ("202", "400", "401", "409")),
        *(("/runs", "get", c) for c in ("200", "401")),
        *(("/runs/{run_id}", "get", c) for c in ("200", "400", "401", "404")),
        *(("/models/{model_version}", "get", c) for c in ("200", "400", "401", "404")),
        *(("/lookups/{user_id}", "get", c) for c in ("200", "400", "401", "404", "503")),
        *(("/served", "get", c) for c in ("200", "401", "503")),
        *(("/campaigns", "post", c) for c in ("201", "400", "401", "503")),
        *(("/campaigns", "get", c) for c in ("200", "401", "503")),
        *(
            ("/campaigns/{campaign_id}" + tail, "get", c)
            for tail in ("", "/uplift")
            for c in ("200", "400", "401", "404", "503")
        ),
    }
    secured = {
        (path, method)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if op.get("security") == [{"analyst": []}]
    }
    from segmentation_local.api_gateway import AUTHORIZED

    assert {path for path, _ in secured} == set(AUTHORIZED)
    assert "security" not in spec["paths"]["/contract"]["get"]
    body = spec["paths"]["/runs"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert (
        body["properties"]
        == json.loads((ROOT / "docs" / "params.schema.json").read_text())["properties"]
    )
    # every schema is used by some answer (the segment API's own test checks its five)
    used = json.dumps(spec["paths"])
    nested = json.dumps(spec["components"]["schemas"])
    for name in spec["components"]["schemas"]:
        assert f"#/components/schemas/{name}" in used + nested, name


def test_analyst_add_creates_a_user_who_signs_in_with_the_printed_password(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from segmentation_local.cli import main

    assert main(["analyst", "add", "new@example.com"]) == 0
    out = capsys.readouterr().out
    password = out.split("one-time password: ", 1)[1].split()[0]
    pool = ensure_pool(settings)
    answer = client("cognito-idp", settings).initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "new@example.com", "PASSWORD": password},
    )
    assert answer["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert main(["analyst", "add", "not-an-email"]) == 2
    assert "expected an e-mail address" in capsys.readouterr().err


def test_the_lookup_box_and_the_served_version_answer_a_signed_in_analyst(
    settings: Settings, console: tuple[LocalConsole, GatedRunner]
) -> None:
    """On AWS the API-key routes are closed to the page (its config is public, it holds no
    key): the console asks /lookups/{id} and /served, behind the analysts' authorizer, and gets
    what /users/{id}/segment and /segments answer, without the raw id."""
    from segmentation.serving.publish import publish

    local, _ = console
    api = local.api.url
    truth = write_version(settings, "v1", 9, anonymiser=load_anonymiser(settings))
    publish("v1", settings)
    token = sign_in(settings)
    status, found, _ = call(api + "/lookups/user-00004", token=token)
    assert status == 200 and found["segment_id"] == truth["user-00004"]
    assert found["model_version"] == "v1" and "user-00004" not in json.dumps(found)
    direct = requests.get(api + "/users/user-00004/segment", timeout=20).json()
    assert found == direct
    assert call(api + "/lookups/nobody-known", token=token)[0] == 404
    assert call(api + "/lookups/" + "x" * 300, token=token)[0] == 400
    status, served, _ = call(api + "/served", token=token)
    assert status == 200 and served == requests.get(api + "/segments", timeout=20).json()
    assert served["users"] == 9
