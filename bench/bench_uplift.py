"""Benchmark: how often the uplift report's 95 % intervals hold the true campaign effect.

Over 200 seeds (``SEG_BENCH_UPLIFT_POPULATIONS`` generated populations x
``SEG_BENCH_UPLIFT_CAMPAIGNS`` campaigns on each: new users, new arms, new draws), a campaign is
played on a generated 14-day batch with a known effect: +4 conversion points on one segment,
none on two others (personas stand in for the model's segments; the arms are the runtime's
HMAC of the anonymised id). Each report's intervals (conversion: difference of proportions,
Wald; spend: Welch; relative: delta method) are checked against the truth the generator wrote.
Prints the coverage per figure with its binomial standard error; the target is 93-97 %.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tooling"))

TARGETS = {"weekend_casual": "S1", "searcher_browser": "S2", "morning_commuter": "S3"}
EFFECTS = {"S1": 0.04, "S2": 0.0, "S3": 0.0}
START, END = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 15, tzinfo=UTC)


def main() -> int:
    import pandas as pd

    from segmentation.campaign.uplift import compute
    from segmentation.pipeline.backtest import outcomes
    from segmentation_local.synthetic.campaign import (
        CampaignPlan,
        apply_campaign,
        persona_members,
        window_money,
    )
    from segmentation_local.synthetic.continuation import continue_dataset
    from segmentation_local.synthetic.params import ContinueParams, DefectRates, GenerateParams
    from segmentation_local.synthetic.service import generate_to

    populations = int(os.environ.get("SEG_BENCH_UPLIFT_POPULATIONS", "10"))
    per = int(os.environ.get("SEG_BENCH_UPLIFT_CAMPAIGNS", "20"))
    users = int(os.environ.get("SEG_BENCH_UPLIFT_USERS", "8000"))
    holdout = float(os.environ.get("SEG_BENCH_UPLIFT_HOLDOUT", "0.2"))
    checks = {
        f"{k} {what}": []
        for k in EFFECTS
        for what in ("conversion", "spend", *(["relative"] if EFFECTS[k] else []))
    }
    widths: dict[str, list[float]] = {k: [] for k in EFFECTS}
    members_per_key: dict[str, list[int]] = {k: [] for k in EFFECTS}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="seg-bench-uplift-") as tmp:
        for p in range(populations):
            root = Path(tmp) / f"root-{p}"
            params = GenerateParams(users=users, days=28, seed=1000 + p, defects=DefectRates.none())
            generate_to(params, root)
            batch = continue_dataset(root, ContinueParams(days=14, defects=DefectRates.none()))
            for c in range(per):
                seed = p * per + c
                campaign = f"c-{seed:012x}"
                members = persona_members(batch, TARGETS, b"a" * 32, b"k" * 32, campaign, holdout)
                plan = CampaignPlan(
                    campaign_id=campaign, start=START, end=END, effects=EFFECTS, seed=seed
                )
                ds, truth = apply_campaign(batch, members, plan)
                outcome = outcomes(
                    pd.Index(members["user_id"]), window_money(ds.events, START, END)
                )
                rows, _ = compute(
                    members.rename(columns={"user_id": "user_anon_id"}), outcome, list(EFFECTS)
                )
                for row in rows:
                    k, true = row.segment_key, truth[row.segment_key]
                    checks[f"{k} conversion"].append(
                        row.conversion.contains(true["conversion_uplift"])
                    )
                    checks[f"{k} spend"].append(row.spend.contains(true["spend_uplift"]))
                    if EFFECTS[k]:
                        checks[f"{k} relative"].append(
                            row.conversion.contains(true["relative_conversion_uplift"], True)
                        )
                    assert row.conversion.absolute_high is not None
                    assert row.conversion.absolute_low is not None
                    widths[k].append(row.conversion.absolute_high - row.conversion.absolute_low)
                    members_per_key[k].append(row.users_treatment + row.users_control)
    seconds = time.perf_counter() - t0
    n = populations * per
    print(f"seeds            {n} ({populations} populations x {per} campaigns), {users:,} users, "
          f"holdout {holdout:.0%}, 14-day window")  # fmt: skip
    print("true effects     " + ", ".join(f"{k} {v:+.0%} conversion" for k, v in EFFECTS.items()))
    print("members / key    " + ", ".join(
        f"{k} ~{sum(v) / len(v):,.0f}" for k, v in members_per_key.items()))  # fmt: skip
    print(f"{'interval':<20} {'coverage':>9} {'± se':>7}  {'in 93-97 %':>10}")
    ok = True
    for name, hits in checks.items():
        cover = sum(hits) / len(hits)
        se = (cover * (1 - cover) / len(hits)) ** 0.5
        inside = 0.93 <= cover <= 0.97
        ok &= inside
        print(f"{name:<20} {cover:>9.1%} {se:>7.1%}  {'yes' if inside else 'NO':>10}")
    half = {k: 50 * sum(v) / len(v) for k, v in widths.items()}  # points, half the width
    print("conversion CI    " + ", ".join(f"{k} ±{v:.1f} points" for k, v in half.items()))
    print(f"wall             {seconds:.0f} s")
    if not ok:
        print("(a coverage outside 93-97 % at 200 seeds: ±1.5 % is its own sampling error)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
