"""A campaign with a known true effect, played on a generated batch: the uplift report's truth.

The batch is generated as usual (the users do what their personas do); then, for each target
segment key given an effect, members in the **treatment** arm who did not convert in the window
(no purchase or subscription) are made to convert with probability

    q = effect / (1 - base)

where ``base`` is the segment's conversion rate in the window without the campaign (all its
members, both arms). Each such member buys one title at :attr:`CampaignPlan.price`, at a uniform
time of the window. The expected difference between the arms is then exactly ``effect`` in
conversion and ``effect * price`` in spend per member; the relative uplift is ``effect / base``.
Control members and members of a key without an effect are left untouched, so a key with effect
0 has no effect at all.

The arm of each member is the runtime's (:func:`segmentation.campaign.arms.arm_of`), computed
by the caller from the anonymised id, so the generator and the report cannot disagree on it.
The truth is written to the batch's ``summary.json`` under ``campaign``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, field_validator

from segmentation.campaign.model import SEGMENT_KEY_PATTERN
from segmentation.contract import MONEY_EVENTS
from segmentation_local.synthetic.generator import Dataset

#: Conversion points a campaign may add to a segment (0.04 = +4 points).
Effect = Annotated[float, Field(ge=0.0, le=0.5)]


class CampaignPlan(BaseModel):
    """Which campaign to play, on which window, with which true effect per target key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    campaign_id: str
    start: datetime
    end: datetime
    effects: dict[str, Effect] = Field(
        description="True conversion uplift per target segment key (0.04 = +4 points); a "
        "target key left out has none."
    )
    price: float = Field(9.99, gt=0, le=1000, description="What a converted member pays (EUR).")
    seed: int = Field(0, ge=0, description="Seed of the conversions drawn.")

    @field_validator("effects")
    @classmethod
    def _keys(cls, value: dict[str, float]) -> dict[str, float]:
        import re

        bad = [k for k in value if not re.fullmatch(SEGMENT_KEY_PATTERN, k)]
        if bad:
            raise ValueError(f"{bad[0]!r} is not a segment key (S1, S2, ... or noise)")
        return value


def parse_effects(pairs: list[str]) -> dict[str, float]:
    """``["S1=0.04", "S2=0"]`` -> ``{"S1": 0.04, "S2": 0.0}`` (the ``--effect`` flags)."""
    out: dict[str, float] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = None
        if not sep or number is None:
            raise ValueError(
                f"--effect {pair!r}: expected KEY=POINTS, e.g. S1=0.04 (+4 conversion points)"
            )
        out[key.strip()] = number
    return out


def _epoch(ts: pa.ChunkedArray) -> np.ndarray:
    return pc.cast(ts, pa.int64()).to_numpy() // 1_000_000


def converted(events: pa.Table, start: int, end: int) -> set[str]:
    """Raw ids with a purchase or subscription in ``[start, end)`` (epoch seconds)."""
    seconds = _epoch(events.column("timestamp"))
    kinds = events.column("event_type").to_numpy(zero_copy_only=False)
    money = np.isin(kinds, sorted(MONEY_EVENTS))
    inside = money & (seconds >= start) & (seconds < end)
    return set(events.column("user_id").filter(pa.array(inside)).to_pylist())


def apply_campaign(
    ds: Dataset, assignment: pd.DataFrame, plan: CampaignPlan
) -> tuple[Dataset, dict[str, Any]]:
    """``ds`` with the campaign's conversions added, and the truth.

    ``assignment``: the campaign's members among the batch's users, columns ``user_id`` (raw),
    ``segment_key`` and ``arm`` (treatment / control)."""
    window = ds.summary["window"]
    ws = int(datetime.fromisoformat(window["start"].replace("Z", "+00:00")).timestamp())
    we = int(datetime.fromisoformat(window["end_exclusive"].replace("Z", "+00:00")).timestamp())
    start, end = max(ws, int(plan.start.timestamp())), min(we, int(plan.end.timestamp()))
    if start >= end:
        raise ValueError(
            f"the campaign window {plan.start:%Y-%m-%d %H:%M} .. {plan.end:%Y-%m-%d %H:%M} does "
            f"not overlap the batch ({window['start']} .. {window['end_exclusive']})"
        )
    base_converted = converted(ds.events, int(plan.start.timestamp()), int(plan.end.timestamp()))
    rng = np.random.default_rng([plan.seed, 0xCA3])
    new_users: list[str] = []
    truth: dict[str, Any] = {}
    for key in sorted(set(assignment["segment_key"])):
        effect = plan.effects.get(key, 0.0)
        part = assignment[assignment["segment_key"] == key]
        was = part["user_id"].isin(base_converted).to_numpy()
        base = float(was.mean()) if len(part) else 0.0
        if effect > 0 and base + effect > 1:
            raise ValueError(
                f"effect {effect} on {key}: its members already convert at {base:.3f}, so "
                f"+{effect} would pass 100 %"
            )
        q = effect / (1.0 - base) if effect > 0 else 0.0
        eligible = part[(part["arm"] == "treatment").to_numpy() & ~was]
        chosen = eligible["user_id"].to_numpy()[rng.random(len(eligible)) < q]
        new_users += chosen.tolist()
        truth[key] = {
            "conversion_uplift": effect,
            "spend_uplift": round(effect * plan.price, 6),
            "relative_conversion_uplift": effect / base if base > 0 else None,
            "base_conversion": base,
            "conversion_probability": q,
            "members": len(part),
            "treatment": int((part["arm"] == "treatment").sum()),
            "control": int((part["arm"] == "control").sum()),
            "converted_by_campaign": len(chosen),
        }
    n = len(new_users)
    times = np.sort(rng.integers(start, end, size=n)) if n else np.array([], dtype=np.int64)
    schema = ds.events.schema
    columns: dict[str, pa.Array] = {
        "event_id": pa.array([f"cmp-{plan.campaign_id}-{i:07d}" for i in range(n)], pa.string()),
        "user_id": pa.array(new_users, pa.string()),
        "timestamp": pa.array(times * 1_000_000, pa.timestamp("us", tz="UTC")),
        "event_type": pa.array(["purchase"] * n, pa.string()),
        "amount": pa.array([plan.price] * n, pa.float64()),
    }
    added = pa.table(
        [columns.get(f.name, pa.nulls(n, f.type)).cast(f.type) for f in schema], schema=schema
    )
    events = pa.concat_tables([ds.events, added])
    summary = dict(ds.summary)
    summary["campaign"] = {
        "campaign_id": plan.campaign_id,
        "start": plan.start.astimezone(UTC).isoformat(),
        "end": plan.end.astimezone(UTC).isoformat(),
        "price": plan.price,
        "seed": plan.seed,
        "events_added": n,
        "truth": truth,
    }
    return replace(ds, events=events, summary=summary), truth


# ---------------------------------------------------------------------------------------------
# Without the lake: the tests' and the bench's campaign, personas standing in for segments


def persona_members(
    ds: Dataset,
    personas: dict[str, str],
    anon_key: bytes,
    arm_key: bytes,
    campaign_id: str,
    holdout: float,
) -> pd.DataFrame:
    """Members (user_id, segment_key, arm) of a campaign whose targets are personas (persona ->
    the key it stands for), armed as the runtime arms them: by the anonymised id."""
    from segmentation.anonymise import Anonymiser
    from segmentation.campaign.arms import arms_of

    labels = ds.labels.to_pandas()[["user_id", "persona"]]
    chosen = labels[labels["persona"].isin(personas)].reset_index(drop=True)
    anon = Anonymiser(anon_key).anon_many(chosen["user_id"].tolist())
    return pd.DataFrame(
        {
            "user_id": chosen["user_id"],
            "segment_key": chosen["persona"].map(personas),
            "arm": arms_of(arm_key, campaign_id, anon, holdout),
        }
    )


def window_money(events: pa.Table, start: datetime, end: datetime) -> pd.DataFrame:
    """The window's purchase and subscription events in the uplift report's columns
    (``user_anon_id`` here holds the raw id: nothing leaves the process)."""
    seconds = _epoch(events.column("timestamp"))
    kinds = events.column("event_type").to_numpy(zero_copy_only=False)
    inside = (
        np.isin(kinds, sorted(MONEY_EVENTS))
        & (seconds >= int(start.timestamp()))
        & (seconds < int(end.timestamp()))
    )
    picked = events.filter(pa.array(inside)).select(["user_id", "event_type", "amount"])
    return picked.to_pandas().rename(columns={"user_id": "user_anon_id"})
