"""Sessions: how many each user has, on which days and at what time of day they start.

Days follow the persona's weekly rhythm inside the user's active span (rejection sampling,
vectorised over all pending sessions at once); start hours follow the persona's daily profile.
Sessions come out sorted by (user, start), which the monthly subscription renewal relies on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segmentation_local.synthetic._vec import cdf_of, sample_rows
from segmentation_local.synthetic.personas import PersonaArrays
from segmentation_local.synthetic.users import Users

#: Chance that a session uses the user's main device rather than another of the persona's.
MAIN_DEVICE_SHARE = 0.85


@dataclass(frozen=True)
class Sessions:
    """Per-session arrays sorted by (user, start); ``start`` is seconds after the window start."""

    user: np.ndarray
    start: np.ndarray
    device: np.ndarray

    def __len__(self) -> int:
        return int(self.user.size)


def build_sessions(
    rng: np.random.Generator,
    users: Users,
    pa: PersonaArrays,
    days: int,
    start_weekday: int,
) -> Sessions:
    """Draw every user's sessions; ``start_weekday`` is the weekday (Mon=0) of day 0."""
    persona = users.persona
    mean = pa.sessions[persona] * users.activity * users.span * (days / 90.0)
    # Full-span personas scale their rate by span (=1); lapsed users concentrate a smaller total
    # into their short span, which is what makes them look normal early and absent later.
    mean = np.where(users.span < 1.0, pa.sessions[persona] * users.activity * 0.9, mean)
    counts = np.maximum(1, rng.poisson(mean))
    user = np.repeat(np.arange(len(users), dtype=np.int64), counts)
    n = user.size
    span_days = np.maximum(1.0, users.span[user] * days)
    weights = pa.weekday_weights / pa.weekday_weights.max(axis=1, keepdims=True)
    day = np.empty(n, dtype=np.int64)
    pending = np.arange(n)
    while pending.size:
        cand = np.floor(rng.random(pending.size) * span_days[pending]).astype(np.int64)
        weekday = (start_weekday + cand) % 7
        ok = rng.random(pending.size) < weights[persona[user[pending]], weekday]
        day[pending[ok]] = cand[ok]
        pending = pending[~ok]
    hour = sample_rows(cdf_of(pa.hour_weights), persona[user], rng.random(n))
    second_of_hour = rng.integers(0, 3600, size=n)
    start = day * 86400 + hour * 3600 + second_of_hour
    other = sample_rows(cdf_of(pa.device_probs), persona[user], rng.random(n))
    device = np.where(rng.random(n) < MAIN_DEVICE_SHARE, users.device[user], other)
    order = np.lexsort((start, user))
    return Sessions(user=user[order], start=start[order], device=device[order])
