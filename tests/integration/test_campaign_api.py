"""Campaigns on moto: defined by a signed-in analyst through the real segment_api handler behind
the local API Gateway (Cognito tokens verified), arms answered by the lookups, membership frozen
at the start (by a read, or by the publish that replaces the version), and the uplift report
route."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from serving_data import make_stack, write_version
from test_console_api import call, sign_in

from segmentation import anonymise
from segmentation.anonymise import load_anonymiser, store_key
from segmentation.awsclients import client
from segmentation.campaign import store as campaign_store
from segmentation.campaign.arms import arm_of, load_arm_key, store_arm_key
from segmentation.config import Settings, get_settings
from segmentation.serving import campaigns
from segmentation.serving import table as t
from segmentation.serving.publish import publish
from segmentation_local.console import LocalConsole

pytestmark = pytest.mark.moto
ROOT = Path(__file__).resolve().parents[2]
USERS = 30


@pytest.fixture
def settings(moto_env: str) -> Iterator[Settings]:
    s = get_settings()
    make_stack(s)
    campaign_store.ensure_table(client("dynamodb", s), s)
    store_key(s)
    store_arm_key(s)
    yield s


@pytest.fixture
def console(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, str, dict[str, int]]]:
    truth = write_version(settings, "v1", USERS, anonymiser=load_anonymiser(settings))
    publish("v1", settings)
    with LocalConsole(tmp_path, settings) as local:
        yield local.api.url, sign_in(settings), truth


def campaign_body(**change: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    body = {
        "name": "Autumn push",
        "segment_keys": ["S1", "S3"],
        "holdout": 0.4,
        "start": (now - timedelta(days=1)).isoformat(),
        "end": (now + timedelta(days=13)).isoformat(),
    }
    return {**body, **change}


def test_campaign_routes_need_a_signed_in_analyst(console) -> None:
    api, _, _ = console
    for method, path in [
        ("POST", "/campaigns"),
        ("GET", "/campaigns"),
        ("GET", "/campaigns/c-0123456789ab"),
        ("GET", "/campaigns/c-0123456789ab/uplift"),
    ]:
        status, body, _ = call(api + path, method, {} if method == "POST" else None)
        assert (status, body) == (401, {"message": "Unauthorized"}), path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"segment_keys": ["S1", "S9"]}, "segment_keys: S9 is not a segment of the served version "
         "v1; expected some of S1, S2, S3"),
        ({"holdout": 1.5}, "holdout: got 1.5, expected a number > 0 and < 1"),
        ({"end": "2020-01-01T00:00:00Z"}, "end: got \"2020-01-01T00:00:00Z\", expected an ISO "
         "8601 time after start"),
        ({"segment_keys": "S1"}, "segment_keys: got \"S1\", expected a list of 1-50 distinct"),
    ],
)  # fmt: skip
def test_a_bad_campaign_is_refused_with_what_was_expected_and_not_stored(
    console, change: dict[str, Any], message: str
) -> None:
    api, token, _ = console
    status, body, _ = call(api + "/campaigns", "POST", campaign_body(**change), token=token)
    assert status == 400 and message in body["message"], body
    assert call(api + "/campaigns", token=token)[1] == {"campaigns": []}


def test_a_started_campaign_is_frozen_at_once_and_every_member_gets_one_arm(
    settings: Settings, console
) -> None:
    api, token, truth = console
    status, created, _ = call(api + "/campaigns", "POST", campaign_body(), token=token)
    assert status == 201, created
    cid = created["campaign_id"]
    assert created["status"] == "running" and created["model_version"] == "v1"
    assert created["frozen_at"] and created["created_by"] == "ana@example.com"
    assert call(f"{api}/campaigns/{cid}", token=token)[1] == created
    assert [c["campaign_id"] for c in call(api + "/campaigns", token=token)[1]["campaigns"]] == [
        cid
    ]

    anon = load_anonymiser(settings)
    key = load_arm_key(settings)
    arms: dict[str, str | None] = {}
    for raw, segment in truth.items():
        found = requests.get(f"{api}/users/{raw}/segment", params={"campaign": cid}, timeout=20)
        assert found.status_code == 200 and raw not in found.text
        arm = found.json()["arm"]
        in_target = segment in (0, 2)  # S1 and S3 (serving_data.KEYS)
        assert (arm is not None) == in_target, (raw, segment, arm)
        if in_target:
            assert arm == arm_of(key, cid, anon.anon(raw), 0.4)
        arms[raw] = arm
        # without ?campaign the answer is as before (no arm)
        assert requests.get(f"{api}/users/{raw}/segment", timeout=20).json()["arm"] is None
    assert set(arms.values()) == {"treatment", "control", None}
    # the same on a second call, through the console's lookup, and after a key-cached restart
    raw = next(r for r, a in arms.items() if a)
    again = call(f"{api}/lookups/{raw}?campaign={cid}", token=token)[1]["arm"]
    anonymise._PROVIDERS.clear()
    campaigns.state.reset(settings)
    after = requests.get(f"{api}/users/{raw}/segment?campaign={cid}", timeout=20).json()["arm"]
    assert again == after == arms[raw]
    # and in another process that reads the key from Secrets Manager itself
    code = (
        "import json, sys\n"
        "from segmentation.anonymise import load_anonymiser\n"
        "from segmentation.campaign.arms import arm_of, load_arm_key\n"
        "a, k = load_anonymiser(), load_arm_key()\n"
        "ids = json.loads(sys.stdin.read())\n"
        f"print(json.dumps({{r: arm_of(k, {cid!r}, a.anon(r), 0.4) for r in ids}}))\n"
    )  # fmt: skip
    members = [r for r, a in arms.items() if a]
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(members),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert json.loads(out.stdout) == {r: arms[r] for r in members}

    status, body, _ = call(f"{api}/users/user-00001/segment?campaign=c-000000000000")
    assert (status, body["message"]) == (404, "no such campaign")
    status, body, _ = call(f"{api}/users/user-00001/segment?campaign=nope")
    assert status == 400 and "c- and 12 hex digits" in body["message"]
    assert call(f"{api}/campaigns/c-000000000000", token=token)[0] == 404
    assert call(f"{api}/campaigns/not-an-id", token=token)[0] == 400


def test_a_campaign_defined_before_its_start_is_frozen_by_the_publish_that_replaces_the_version(
    settings: Settings, console
) -> None:
    """Scheduled: no version yet (arms follow the served one). Its start passes; the next
    publish freezes it to the version served until then, and keeps that version's items past
    the usual retention while the campaign runs."""
    api, token, _ = console
    now = datetime.now(UTC)
    body = campaign_body(start=(now + timedelta(seconds=2)).isoformat())
    status, created, _ = call(api + "/campaigns", "POST", body, token=token)
    assert status == 201 and created["status"] == "scheduled" and created["model_version"] is None
    cid = created["campaign_id"]
    time.sleep(2.5)
    # v2 moves every user to another segment; the campaign keeps v1's members
    write_version(settings, "v2", USERS, anonymiser=load_anonymiser(settings), shift=1)
    publish("v2", settings)
    frozen = call(f"{api}/campaigns/{cid}", token=token)[1]
    assert frozen["model_version"] == "v1" and frozen["status"] == "running"
    dynamo = client("dynamodb", settings)
    anon = load_anonymiser(settings).anon("user-00000")  # in S1 (segment 0) in v1
    item = t.deserialize(
        dynamo.get_item(TableName=settings.segments_table, Key=t.serialize(t.user_key(anon, "v1")))[
            "Item"
        ]
    )
    end = datetime.fromisoformat(body["end"])
    assert item["expires_at"] >= int(
        (end + timedelta(days=settings.segments_retention_days)).timestamp()
    )
    arm = requests.get(f"{api}/users/user-00000/segment?campaign={cid}", timeout=20).json()
    assert arm["model_version"] == "v2" and arm["segment_key"] == "S2"  # served now
    assert arm["arm"] in {"treatment", "control"}  # a member at the start (S1 in v1)


def test_a_read_after_the_start_freezes_to_the_version_served(settings: Settings) -> None:
    write_version(settings, "v1", 9, anonymiser=load_anonymiser(settings))
    publish("v1", settings)
    from segmentation.campaign.model import Campaign, new_campaign_id

    store = campaign_store.CampaignStore(settings)
    now = datetime.now(UTC)
    later = Campaign(
        name="later",
        segment_keys=["S2"],
        holdout=0.1,
        start=now + timedelta(days=1),
        end=now + timedelta(days=8),
        campaign_id=new_campaign_id(),
        created_at=now,
    )
    assert store.create(later, now).model_version is None
    assert store.get(later.campaign_id, now).model_version is None  # not started: not frozen
    frozen = store.get(later.campaign_id, now + timedelta(days=2))
    assert frozen.model_version == "v1" and frozen.status_at(now + timedelta(days=2)) == "running"
    # a second reader after another publish finds it frozen already
    write_version(settings, "v2", 9, anonymiser=load_anonymiser(settings), shift=1)
    publish("v2", settings)
    assert store.get(later.campaign_id, now + timedelta(days=3)).model_version == "v1"
    assert (
        store.get(later.campaign_id, now + timedelta(days=9)).status_at(now + timedelta(days=9))
        == "ended"
    )


def test_the_uplift_route_answers_the_latest_report(settings: Settings, console) -> None:
    import pandas as pd

    from segmentation.campaign.outcomes import write_report
    from segmentation.campaign.uplift import UpliftReport, compute

    api, token, _ = console
    cid = call(api + "/campaigns", "POST", campaign_body(), token=token)[1]["campaign_id"]
    status, body, _ = call(f"{api}/campaigns/{cid}/uplift", token=token)
    assert status == 404 and f"segmentation uplift --campaign {cid}" in body["message"]
    members = pd.DataFrame(
        {"user_anon_id": list("abcd"), "segment_key": "S1", "arm": ["treatment", "control"] * 2}
    )
    outcome = pd.DataFrame({"bought_again": [1.0, 0.0, 1.0, 1.0], "spend": [5.0, 0, 3, 2]},
                           index=pd.Index(list("abcd"), name="user_anon_id"))  # fmt: skip
    rows, overall = compute(members, outcome, ["S1"])
    now = datetime.now(UTC)
    report = UpliftReport(
        campaign_id=cid, name="Autumn push", model_version="v1", holdout=0.4, start=now,
        end=now + timedelta(days=1), computed_at=now, window_days=1, curated_days=1,
        segments=rows, overall=overall,
    )  # fmt: skip
    write_report(settings, report)
    status, body, _ = call(f"{api}/campaigns/{cid}/uplift", token=token)
    assert status == 200 and body["segments"][0]["users_treatment"] == 2
    assert UpliftReport.model_validate(body) == report


def test_spec_declares_the_campaign_routes_and_parameter() -> None:
    from segmentation.serving.api import openapi_json

    spec = json.loads(openapi_json())
    assert {"/campaigns", "/campaigns/{campaign_id}", "/campaigns/{campaign_id}/uplift"} <= set(
        spec["paths"]
    )
    assert set(spec["paths"]["/campaigns"]) == {"get", "post"}
    body = spec["paths"]["/campaigns"]["post"]["requestBody"]["content"]["application/json"]
    assert set(body["schema"]["properties"]) == {"name", "segment_keys", "holdout", "start", "end"}
    for path in ("/users/{user_id}/segment", "/lookups/{user_id}"):
        names = {p["name"]: p["in"] for p in spec["paths"][path]["get"]["parameters"]}
        assert names.get("campaign") == "query", path
    user = spec["components"]["schemas"]["UserSegment"]["properties"]["arm"]
    assert {"treatment", "control"} <= set(json.dumps(user).replace('"', " ").split())


def test_keygen_campaigns_creates_the_arm_key_once(moto_env: str, capsys) -> None:
    from segmentation_local.cli import main

    settings = get_settings()
    assert main(["keygen", "--campaigns"]) == 0
    assert f"secret {settings.campaign_secret_name!r} created" in capsys.readouterr().out
    key = load_arm_key(settings, force_fetch=True)
    assert main(["keygen", "--campaigns"]) == 0
    assert "already exists; kept it" in capsys.readouterr().out
    assert load_arm_key(settings, force_fetch=True) == key
    with pytest.raises(anonymise.KeyNotFoundError, match="hmac"):  # the other key is apart
        load_anonymiser(settings, force_fetch=True)
