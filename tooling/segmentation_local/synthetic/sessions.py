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
    lo = np.zeros(len(users))
    hi = np.maximum(1.0, users.span * days)
    return place_sessions(rng, users, pa, counts, lo, hi, days, start_weekday)


def build_period_sessions(
    rng: np.random.Generator,
    users: Users,
    pa: PersonaArrays,
    join_day: np.ndarray,
    first_day: int,
    days: int,
    reference_days: int,
    at_least_one: np.ndarray,
    start_weekday: int,
) -> Sessions:
    """Sessions of a later batch: days ``first_day .. first_day + days`` after the first window.

    Each user is active from joining on; a lapsed user only for ``span x reference_days`` days
    after joining (the first window's users lapse inside it, so they stay silent afterwards).
    The daily rate is the first window's, so a week of continuation looks like a week of it;
    unlike there, a user may have no session in a batch, except those in ``at_least_one`` (who
    just signed up). ``start_weekday`` is the weekday (Mon=0) of the batch's first day.
    """
    persona = users.persona
    lapsed = users.span < 1.0
    until = np.where(lapsed, join_day + users.span * reference_days, np.inf)
    lo = np.clip(join_day - first_day, 0.0, days)
    hi = np.clip(until - first_day, 0.0, days)
    active = np.maximum(0.0, hi - lo)
    rate = np.where(
        lapsed,
        pa.sessions[persona] * users.activity * 0.9 / (users.span * reference_days),
        pa.sessions[persona] * users.activity / 90.0,
    )
    counts = rng.poisson(rate * active)
    counts = np.where(at_least_one & (active > 0), np.maximum(1, counts), counts)
    return place_sessions(rng, users, pa, counts, lo, np.maximum(hi, lo), days, start_weekday)


def place_sessions(
    rng: np.random.Generator,
    users: Users,
    pa: PersonaArrays,
    counts: np.ndarray,
    lo_day: np.ndarray,
    hi_day: np.ndarray,
    days: int,
    start_weekday: int,
) -> Sessions:
    """Place ``counts[u]`` sessions of each user on days in ``[lo_day[u], hi_day[u])``.

    Shared by the first window and its continuations, so a batch's sessions follow the same
    weekly and daily rhythm as the window it continues.
    """
    persona = users.persona
    user = np.repeat(np.arange(len(users), dtype=np.int64), counts)
    n = user.size
    lo, width = lo_day[user], hi_day[user] - lo_day[user]
    weights = pa.weekday_weights / pa.weekday_weights.max(axis=1, keepdims=True)
    day = np.empty(n, dtype=np.int64)
    pending = np.arange(n)
    while pending.size:
        cand = np.floor(lo[pending] + rng.random(pending.size) * width[pending]).astype(np.int64)
        cand = np.minimum(cand, days - 1)
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
