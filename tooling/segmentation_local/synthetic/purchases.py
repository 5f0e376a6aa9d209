"""A purchase-only data set: what a retailer exports (user_id, date, purchase, amount), no
viewing behaviour at all.

Issue 14 was found on such a log (about 23,000 customers, 69,000 purchases over 18 months,
timestamps dates only): the behavioural and clock features are all zero there, monetary is
heavy-tailed, and most customers have one to five purchases. This generator reproduces that
shape with five kinds of customer, so the cluster step's purchase-only path (features left out,
shrinkage, the size floor, the purchase vocabulary) is testable without the real file:

=============== ===== ======================================================================
kind            share behaviour
=============== ===== ======================================================================
one-time        40 %  one purchase, any time in the period
repeat          20 %  6-15 purchases spread over the period, the last one recent
new             12 %  1-2 purchases, all in the last 30 days
big spender      8 %  2-4 purchases of 5-20x the usual amount
lapsed          20 %  3-8 purchases, none in the last 6 months (of a shorter period: half)
=============== ===== ======================================================================

Every timestamp is a UTC midnight (dates only) and every event a ``purchase``; amounts are
log-normal (a long right tail), plus a few extreme spenders (0.1 %).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

KINDS: tuple[tuple[str, float], ...] = (
    ("one-time", 0.40),
    ("repeat", 0.20),
    ("new", 0.12),
    ("big spender", 0.08),
    ("lapsed", 0.20),
)
#: The period a retail export covers.
DEFAULT_DAYS = 540


def purchase_events(
    users: int = 23_000,
    days: int = DEFAULT_DAYS,
    seed: int = 42,
    end: datetime = datetime(1998, 12, 31, tzinfo=UTC),
) -> pd.DataFrame:
    """Purchase events in the contract's columns (user_id, timestamp, event_type, amount,
    event_id, session_id), ending on ``end`` (a late-1990s export by default, as the one the
    issue was found on), sorted by time; and the kind of each user in ``attrs["kinds"]``."""
    rng = np.random.default_rng(seed)
    names = [k for k, _ in KINDS]
    kinds = rng.choice(len(KINDS), size=users, p=[s for _, s in KINDS])
    last_day = (end - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    rows_user, rows_day, rows_amount = [], [], []
    for u, kind in enumerate(kinds):
        name = names[kind]
        if name == "one-time":
            n, lo, hi, scale = 1, 0, days, 1.0
        elif name == "repeat":
            n, lo, hi, scale = int(rng.integers(6, 16)), 0, days, 1.0
        elif name == "new":
            n, lo, hi, scale = int(rng.integers(1, 3)), days - 30, days, 1.0
        elif name == "big spender":
            n, lo, hi, scale = int(rng.integers(2, 5)), 0, days, float(rng.uniform(5, 20))
        else:  # lapsed: nothing in the last 6 months (the last half of a shorter period)
            n, lo, hi, scale = int(rng.integers(3, 9)), 0, days - min(180, days // 2), 1.0
        day = np.sort(rng.integers(lo, hi, size=n))
        if name == "repeat":
            day[-1] = int(rng.integers(days - 30, days))  # still buying
        amount = scale * rng.lognormal(3.0, 0.8, size=n)
        if rng.random() < 0.001:  # the odd extreme spender
            amount *= 200
        rows_user += [u] * n
        rows_day += day.tolist()
        rows_amount += amount.round(2).tolist()
    day_index = np.asarray(rows_day)
    ts = pd.to_datetime(last_day) - pd.to_timedelta(days - 1 - day_index, unit="D")
    user_ids = np.array([f"c-{u:06d}" for u in range(users)])[rows_user]
    events = pd.DataFrame(
        {
            "user_id": user_ids,
            "timestamp": ts,
            "event_type": "purchase",
            "amount": rows_amount,
            "event_id": [f"p-{i:08d}" for i in range(len(rows_user))],
            "session_id": [f"{u}-{d}" for u, d in zip(user_ids, day_index, strict=True)],
        }
    )
    events = events.sort_values(["timestamp", "event_id"], kind="stable").reset_index(drop=True)
    ids = [f"c-{u:06d}" for u in range(users)]
    events.attrs["kinds"] = {u: names[k] for u, k in zip(ids, kinds.tolist(), strict=True)}
    events.attrs["end"] = end
    return events


def purchase_only_features(
    users: int = 2000, days: int = DEFAULT_DAYS, seed: int = 42
) -> pd.DataFrame:
    """The features step's output for :func:`purchase_events` (by the pandas reference), with
    the id column named as the cluster step reads it: a ready input for the fit."""
    from segmentation_local.synthetic.reference_features import compute_features

    events = purchase_events(users, days, seed).assign(content_id=None)
    feats = compute_features(
        events, pd.DataFrame({"content_id": [], "genre": []}), events.attrs["end"], days
    )
    return feats.rename_axis("user_anon_id").reset_index()
