"""The arm of a user in a campaign: one HMAC, the same everywhere, the holdout's share."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from segmentation.anonymise import Anonymiser
from segmentation.campaign.arms import arm_of, arms_of, unit

ROOT = Path(__file__).resolve().parents[2]
ARM_KEY = bytes(range(100, 132))
ANON_KEY = bytes(range(32))
CAMPAIGN = "c-0123456789ab"


def anon_ids(n: int) -> list[str]:
    return Anonymiser(ANON_KEY).anon_many(f"u-{i:06d}" for i in range(n))


def test_the_same_user_gets_the_same_arm_on_every_call() -> None:
    ids = anon_ids(500)
    first = [arm_of(ARM_KEY, CAMPAIGN, a, 0.3) for a in ids]
    assert [arm_of(ARM_KEY, CAMPAIGN, a, 0.3) for a in ids] == first
    assert arms_of(ARM_KEY, CAMPAIGN, ids, 0.3) == first  # the batch form is the same function
    assert set(first) == {"treatment", "control"}


def test_the_arm_is_the_same_in_another_process() -> None:
    ids = anon_ids(200)
    code = (
        "import json, sys\n"
        "from segmentation.campaign.arms import arms_of\n"
        "ids = json.loads(sys.stdin.read())\n"
        f"print(json.dumps(arms_of(bytes(range(100, 132)), {CAMPAIGN!r}, ids, 0.25)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(ids),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "123"},
    )
    assert json.loads(out.stdout) == arms_of(ARM_KEY, CAMPAIGN, ids, 0.25)


@pytest.mark.parametrize("holdout", [0.05, 0.1, 0.25, 0.5, 0.9])
def test_over_100k_ids_the_control_share_is_the_holdout_within_half_a_point(
    holdout: float,
) -> None:
    ids = anon_ids(100_000)
    arms = arms_of(ARM_KEY, CAMPAIGN, ids, holdout)
    share = arms.count("control") / len(arms)
    assert abs(share - holdout) < 0.005, (holdout, share)


def test_arms_need_both_keys_and_differ_between_campaigns() -> None:
    """The arm is drawn from the anonymised id under the arm key: the raw id alone (or the
    anonymisation key alone) does not give it, and two campaigns draw independently."""
    ids = anon_ids(20_000)
    base = arms_of(ARM_KEY, CAMPAIGN, ids, 0.5)
    other_key = arms_of(bytes(range(1, 33)), CAMPAIGN, ids, 0.5)
    other_campaign = arms_of(ARM_KEY, "c-ba9876543210", ids, 0.5)
    raw = arms_of(ARM_KEY, CAMPAIGN, [f"u-{i:06d}" for i in range(20_000)], 0.5)
    for arms in (other_key, other_campaign, raw):
        agree = sum(a == b for a, b in zip(base, arms, strict=True)) / len(ids)
        assert 0.48 < agree < 0.52, agree  # independent: agreement by chance only


def test_the_draw_is_uniform_and_a_larger_holdout_only_adds_control_users() -> None:
    ids = anon_ids(5000)
    draws = [unit(ARM_KEY, CAMPAIGN, a) for a in ids]
    assert all(0 <= d < 1 for d in draws)
    small = arms_of(ARM_KEY, CAMPAIGN, ids, 0.1)
    large = arms_of(ARM_KEY, CAMPAIGN, ids, 0.2)
    assert all(b == "control" for a, b in zip(small, large, strict=True) if a == "control")
