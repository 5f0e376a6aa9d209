"""Who exists at a batch: the first window's users plus everyone who joined since, and the
shifts in force, rebuilt from the lineage with the very streams that first drew them.

Rebuilding rather than storing keeps every user's hidden traits (activity, taste, personal
rates) exactly as in the batches before, without a second copy of them on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from segmentation_local.synthetic.lineage import Lineage, stream
from segmentation_local.synthetic.personas import PERSONA_NAMES, PersonaArrays, persona_arrays
from segmentation_local.synthetic.shift import BehaviourShift
from segmentation_local.synthetic.users import Users, build_users

_SCALES = tuple(BehaviourShift.model_fields)


@dataclass(frozen=True)
class Population:
    """Users of a lineage's newest batch and the cumulative shift per persona."""

    users: Users
    join_day: np.ndarray  # days after the first window's start a user joined (0 = from the start)
    joined_now: np.ndarray  # bool: joined during the newest batch
    share_factor: np.ndarray  # (P,) product of the persona_share factors so far
    scales: dict[str, np.ndarray]  # BehaviourShift field -> (P,) product so far

    def behaviour(self, pa: PersonaArrays) -> PersonaArrays:
        """The persona table with the shifted habits applied (to every user of a persona)."""
        s = self.scales
        shifted = replace(
            pa,
            sessions=pa.sessions * s["sessions_scale"],
            purchase_prob=np.minimum(1.0, pa.purchase_prob * s["purchase_scale"]),
            plays_scale=None if (s["plays_scale"] == 1.0).all() else s["plays_scale"],
            watch_scale=None if (s["watch_scale"] == 1.0).all() else s["watch_scale"],
        )
        return shifted


def concat_users(parts: list[Users]) -> Users:
    return Users(
        **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Users)}
    )


def replay(lineage: Lineage) -> Population:
    """Everyone up to the newest batch; raises ValueError if a shift leaves nobody to join."""
    seed = lineage.root.seed
    pa = persona_arrays()
    parts = [build_users(stream(seed, "users"), lineage.root.users, pa)]
    joins = [np.zeros(lineage.root.users)]
    share = np.ones(len(PERSONA_NAMES))
    scales = {name: np.ones(len(PERSONA_NAMES)) for name in _SCALES}
    for index, step in enumerate(lineage.steps, start=1):
        for name, factor in step.shift.persona_share.items():
            share[PERSONA_NAMES.index(name)] *= factor
        for name, change in step.shift.behaviour.items():
            for field in _SCALES:
                scales[field][PERSONA_NAMES.index(name)] *= getattr(change, field)
        period = lineage.period(index)
        first_day = (lineage.start_of(index) - lineage.root.window_start).days
        weights = pa.share * share
        if step.new_users and weights.sum() <= 0:
            raise ValueError("shift.persona_share: every persona's share is 0, nobody can join")
        mix = replace(pa, share=weights / weights.sum()) if weights.sum() > 0 else pa
        new = build_users(stream(seed, "users", period), step.new_users, mix)
        day = first_day + np.floor(stream(seed, "joins", period).random(step.new_users) * step.days)
        # signup_day counts back from the first window's start: a joiner's is 0 or negative.
        parts.append(replace(new, signup_day=-day.astype(np.int64)))
        joins.append(day)
    users = concat_users(parts)
    joined_now = np.zeros(len(users), dtype=bool)
    if lineage.steps:
        joined_now[len(users) - lineage.steps[-1].new_users :] = True
    return Population(
        users=users,
        join_day=np.concatenate(joins),
        joined_now=joined_now,
        share_factor=share,
        scales=scales,
    )
