"""The console's Campaigns view in headless Chromium (no Spark, seconds): an analyst defines a
campaign on the served version's segments (a bad one is refused with the API's words), sees it
listed with its frozen version, and reads its uplift report once `segmentation uplift` has
written one to the lake."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_console import ARTIFACTS, signed_in_tab

from segmentation.config import get_settings

pytestmark = [pytest.mark.moto, pytest.mark.browser]
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from serving_data import make_stack, write_version  # noqa: E402

EMAIL = "marketer@example.com"
PASSWORD = "Campa1gns-Test!pw"


@pytest.fixture
def page(moto_env: str, tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    from segmentation.anonymise import load_anonymiser, store_key
    from segmentation.awsclients import client
    from segmentation.campaign import store as campaign_store
    from segmentation.campaign.arms import store_arm_key
    from segmentation.serving.publish import publish
    from segmentation_local.console import LocalConsole

    settings = get_settings()
    make_stack(settings)
    campaign_store.ensure_table(client("dynamodb", settings), settings)
    store_key(settings)
    store_arm_key(settings)
    write_version(settings, "v1", 30, anonymiser=load_anonymiser(settings))
    publish("v1", settings)
    with (
        LocalConsole(tmp_path, settings) as local,
        signed_in_tab(local.url, settings, EMAIL, PASSWORD, "campaigns") as tab,
    ):
        yield tab, settings


def test_a_campaign_is_defined_and_its_uplift_report_read(page: tuple[Any, Any]) -> None:
    import numpy as np
    import pandas as pd

    from segmentation.campaign.outcomes import write_report
    from segmentation.campaign.store import CampaignStore
    from segmentation.campaign.uplift import UpliftReport, compute

    tab, settings = page
    tab.wait_for_selector("#campaign-targets input[value='S1']")
    assert tab.locator("#campaign-targets input[name='segment_keys']").count() == 3
    now = datetime.now(UTC)
    tab.fill("#campaign-form [name='name']", "Win back")
    tab.check("#campaign-targets input[value='S1']")
    tab.check("#campaign-targets input[value='S3']")
    tab.fill("#campaign-form [name='holdout']", "20")
    tab.fill("#campaign-form [name='start']", (now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
    # the end before the start: the API's words on the page
    tab.fill("#campaign-form [name='end']", (now - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"))
    tab.click("#campaign-form button[type='submit']")
    tab.wait_for_selector("#campaign-message:has-text('expected an ISO 8601 time after start')")
    tab.fill("#campaign-form [name='end']", (now + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"))
    tab.click("#campaign-form button[type='submit']")
    tab.wait_for_selector("#campaign-message:has-text('members frozen to v1')")
    (stored,) = CampaignStore(settings).all()
    assert stored.segment_keys == ["S1", "S3"] and stored.holdout == 0.2
    row = tab.inner_text("#campaigns tbody tr")
    assert stored.campaign_id in row and "running" in row and "v1" in row and "S1, S3" in row

    tab.click(f"button[data-campaign='{stored.campaign_id}']")
    tab.wait_for_selector("#report-missing")
    assert f"segmentation uplift --campaign {stored.campaign_id}" in tab.inner_text(
        "#report-missing"
    )

    rng = np.random.default_rng(5)
    members = pd.DataFrame(
        {
            "user_anon_id": [f"a{i}" for i in range(200)],
            "segment_key": ["S1", "S3"] * 100,
            "arm": np.where(rng.random(200) < 0.2, "control", "treatment"),
        }
    )
    bought = (rng.random(200) < 0.4).astype(float)
    outcome = pd.DataFrame(
        {"bought_again": bought, "spend": bought * 9.99},
        index=pd.Index(members["user_anon_id"], name="user_anon_id"),
    )
    rows, overall = compute(members, outcome, ["S1", "S3"])
    report = UpliftReport(
        campaign_id=stored.campaign_id, name=stored.name, model_version="v1", holdout=0.2,
        start=stored.start, end=stored.end, computed_at=now, window_days=7, curated_days=2,
        segments=rows, overall=overall,
    )  # fmt: skip
    write_report(settings, report)
    tab.click(f"button[data-campaign='{stored.campaign_id}']")
    tab.wait_for_selector("#campaign-report[data-status='report']")
    conversion = tab.inner_text("#uplift-conversion")
    assert "S1" in conversion and "S3" in conversion and "all targets" in conversion
    # the users behind the figures, per arm
    assert f"{overall.users_treatment} / {overall.users_control}" in conversion
    assert "2 of the window's 7 days" in tab.inner_text("#report-head")
    assert "Welch" in tab.inner_text("#campaign-report")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / "campaigns.png"), full_page=True)

    # the lookup box answers a user's arm (user-00000 is in S1, user-00001 in S2: no target)
    from segmentation.anonymise import load_anonymiser
    from segmentation.campaign.arms import arm_of, load_arm_key

    expected = arm_of(
        load_arm_key(settings),
        stored.campaign_id,
        load_anonymiser(settings).anon("user-00000"),
        0.2,
    )
    for raw, words in (("user-00000", f"{expected} arm"), ("user-00001", "not in its target")):
        tab.fill("#lookup-form [name='user_id']", raw)
        tab.fill("#lookup-form [name='campaign']", stored.campaign_id)
        tab.click("#lookup-form button[type='submit']")
        tab.wait_for_selector(f"#lookup-arm:has-text('{words}')")
