"""The campaign model's refusals, the uplift statistics, and a generated campaign with a known
effect: the report's 95 % intervals hold the truth per segment and find none where none is."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from segmentation.campaign.model import InvalidCampaign, parse_spec
from segmentation.campaign.uplift import Z, compute, proportions, report_text, welch
from segmentation.pipeline.backtest import outcomes

GOOD = {
    "name": "Autumn push",
    "segment_keys": ["S1", "S3"],
    "holdout": 0.1,
    "start": "2026-10-01T00:00:00Z",
    "end": "2026-10-15T00:00:00Z",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"holdout": 0}, "holdout: got 0, expected a number > 0 and < 1"),
        ({"holdout": 1}, "holdout: got 1, expected a number > 0 and < 1"),
        ({"holdout": "ten"}, 'holdout: got "ten", expected a number > 0'),
        (
            {"end": "2026-09-30T00:00:00Z"},
            'end: got "2026-09-30T00:00:00Z", expected an ISO 8601 time after start',
        ),
        ({"end": "2026-10-01T00:00:00Z"}, "expected an ISO 8601 time after start"),
        ({"end": "2027-12-01"}, "at most 366 days after it"),
        ({"start": "soon"}, 'start: got "soon", expected an ISO 8601 time'),
        ({"segment_keys": []}, "segment_keys: got [], expected a list of 1-50 distinct"),
        ({"segment_keys": ["S1", "S1"]}, "distinct segment keys"),
        ({"segment_keys": ["S1", "gold"]}, 'segment_keys.1: got "gold", expected'),
        ({"name": ""}, 'name: got "", expected a name of 1-120 characters'),
        ({"colour": "red"}, "unknown field(s) colour; expected name, segment_keys, holdout"),
    ],
)
def test_a_bad_campaign_is_refused_with_what_was_expected(change: dict, message: str) -> None:
    with pytest.raises(InvalidCampaign) as err:
        parse_spec({**GOOD, **change})
    assert message in str(err.value)


def test_a_missing_field_and_a_non_object_are_refused() -> None:
    body = {k: v for k, v in GOOD.items() if k != "holdout"}
    with pytest.raises(InvalidCampaign, match="holdout: missing, expected a number > 0"):
        parse_spec(body)
    with pytest.raises(InvalidCampaign, match="must be a JSON object"):
        parse_spec(["S1"])


def test_times_without_an_offset_are_utc_and_offsets_are_converted() -> None:
    spec = parse_spec({**GOOD, "start": "2026-10-01", "end": "2026-10-08T02:00:00+02:00"})
    assert spec.start == datetime(2026, 10, 1, tzinfo=UTC)
    assert spec.end == datetime(2026, 10, 8, tzinfo=UTC)


def test_the_difference_of_proportions_is_wald_with_unpooled_variance() -> None:
    est = proportions(120, 1000, 9, 100)
    se = np.sqrt(0.12 * 0.88 / 1000 + 0.09 * 0.91 / 100)
    assert est.absolute == pytest.approx(0.03)
    assert (est.absolute_low, est.absolute_high) == pytest.approx((0.03 - Z * se, 0.03 + Z * se))
    assert est.relative == pytest.approx(0.12 / 0.09 - 1)
    assert est.relative_low < est.relative < est.relative_high
    # no control converter: no relative uplift (it would be infinite)
    assert proportions(5, 100, 0, 100).relative is None
    assert proportions(5, 0, 1, 10).absolute is None


def test_the_spend_interval_is_welchs() -> None:
    rng = np.random.default_rng(3)
    treated = rng.lognormal(1.0, 1.0, 800) * (rng.random(800) < 0.3)
    control = rng.lognormal(1.0, 1.0, 90) * (rng.random(90) < 0.25)
    est = welch(treated, control)
    ref = stats.ttest_ind(treated, control, equal_var=False).confidence_interval(0.95)
    assert (est.absolute_low, est.absolute_high) == pytest.approx((ref.low, ref.high))
    assert est.absolute == pytest.approx(treated.mean() - control.mean())


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory):
    from segmentation_local.synthetic.continuation import continue_dataset
    from segmentation_local.synthetic.params import ContinueParams, DefectRates, GenerateParams
    from segmentation_local.synthetic.service import generate_to

    root: Path = tmp_path_factory.mktemp("campaign") / "root"
    generate_to(GenerateParams(users=6000, days=28, seed=11, defects=DefectRates.none()), root)
    return continue_dataset(root, ContinueParams(days=14, defects=DefectRates.none()))


def played(batch, effects: dict[str, float], seed: int, campaign: str, holdout: float = 0.5):
    from segmentation_local.synthetic.campaign import (
        CampaignPlan,
        apply_campaign,
        persona_members,
        window_money,
    )

    start, end = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 15, tzinfo=UTC)
    targets = {"weekend_casual": "S1", "searcher_browser": "S2", "morning_commuter": "S3"}
    members = persona_members(batch, targets, bytes(32), bytes(range(32)), campaign, holdout)
    plan = CampaignPlan(campaign_id=campaign, start=start, end=end, effects=effects, seed=seed)
    ds, truth = apply_campaign(batch, members, plan)
    outcome = outcomes(pd.Index(members["user_id"]), window_money(ds.events, start, end))
    rows, overall = compute(
        members.rename(columns={"user_id": "user_anon_id"}), outcome, ["S1", "S2", "S3"]
    )
    return {r.segment_key: r for r in rows}, overall, truth


def test_a_generated_campaign_s_report_holds_the_true_effect_and_no_effect_where_none(
    batch,
) -> None:
    rows, overall, truth = played(batch, {"S1": 0.08, "S3": 0.0}, seed=4, campaign="c-00000000000a")
    assert truth["S1"]["converted_by_campaign"] > 0 and truth["S2"]["converted_by_campaign"] == 0
    for key in ("S1", "S2", "S3"):
        row, true = rows[key], truth[key]
        assert row.users_treatment == true["treatment"] and row.users_control == true["control"]
        assert row.users_treatment + row.users_control == true["members"]
        assert row.conversion.contains(true["conversion_uplift"]), (key, row.conversion)
        assert row.spend.contains(true["spend_uplift"]), (key, row.spend)
    # found where it is, none found where it is not
    assert rows["S1"].conversion.absolute_low > 0
    assert rows["S2"].conversion.contains(0.0) and rows["S3"].conversion.contains(0.0)
    assert rows["S1"].conversion.contains(truth["S1"]["relative_conversion_uplift"], relative=True)
    assert overall.users_treatment + overall.users_control == sum(
        t["members"] for t in truth.values()
    )
    text = report_text_for(rows, overall)
    assert "S1" in text and "95 % CI" in text and "spend per member" in text


def report_text_for(rows, overall) -> str:
    from segmentation.campaign.uplift import UpliftReport

    report = UpliftReport(
        campaign_id="c-00000000000a",
        name="test",
        model_version="v1",
        holdout=0.5,
        start=datetime(2026, 10, 1, tzinfo=UTC),
        end=datetime(2026, 10, 15, tzinfo=UTC),
        computed_at=datetime(2026, 12, 1, tzinfo=UTC),
        window_days=14,
        curated_days=14,
        segments=list(rows.values()),
        overall=overall,
    )
    return report_text(report)


def test_the_campaign_changes_only_treatment_members_of_keys_with_an_effect(batch) -> None:
    rows, _, truth = played(batch, {"S1": 0.1}, seed=1, campaign="c-00000000000b", holdout=0.3)
    control = rows["S1"].converted_control / rows["S1"].users_control
    assert control == pytest.approx(truth["S1"]["base_conversion"], abs=0.06)
    # a segment whose members all converted already cannot gain another 10 points
    from segmentation_local.synthetic.campaign import CampaignPlan, apply_campaign, converted

    start, end = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 15, tzinfo=UTC)
    buyers = sorted(converted(batch.events, int(start.timestamp()), int(end.timestamp())))[:50]
    members = pd.DataFrame({"user_id": buyers, "segment_key": "S3", "arm": "treatment"})
    plan = CampaignPlan(
        campaign_id="c-00000000000c", start=start, end=end, effects={"S3": 0.1}, seed=1
    )
    with pytest.raises(ValueError, match="would pass 100 %"):
        apply_campaign(batch, members, plan)
