"""Events inside sessions: the browse phase, purchases, and plays with their pause and end.

A session is laid out on its own clock: an optional subscription renewal at second 0, searches a
few seconds apart, banner impressions during browsing with clicks seconds after, an optional
purchase, then plays one after another. Each play is followed by an optional pause and by a stop
or complete whose ``watch_seconds`` is consistent with the title's duration (complete = watched
to the end). Everything is computed for all sessions at once with ragged-group arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from segmentation.contract import EVENT_TYPES
from segmentation_local.synthetic._vec import first_of_group, group_cumsum, sample_rows
from segmentation_local.synthetic.catalog import Catalog
from segmentation_local.synthetic.personas import PLAN_PRICES, PURCHASE_PRICES, PersonaArrays
from segmentation_local.synthetic.sessions import Sessions
from segmentation_local.synthetic.users import Users

TYPE = {name: code for code, name in enumerate(EVENT_TYPES)}
#: Subscriptions renew on the first session of each period of this many days (while active).
RENEWAL_DAYS = 30
RENEWAL_SECONDS = RENEWAL_DAYS * 86400
_GOLDEN = 0.6180339887498949
#: Most titles one session holds (four feature films is already a very long evening).
MAX_PLAYS = 4


def billing_phase(user: np.ndarray) -> np.ndarray:
    """Seconds into the data set's first renewal period at which each user's billing month starts.

    Users subscribed on different days, so their renewals spread over the month. With one phase
    for everyone every renewal fell on the data set's period boundaries, and a window's spend
    depended on where its edges fell: two 83-day windows a week apart had a monetary PSI of 0.36
    on unchanged personas (5,000 users). A golden-ratio sequence of the user index: deterministic,
    evenly spread, and a user keeps their phase in every batch of a lineage.
    """
    return ((user.astype(np.float64) * _GOLDEN) % 1.0 * RENEWAL_SECONDS).astype(np.int64)


def renewal_period(seconds_from_origin: np.ndarray, user: np.ndarray) -> np.ndarray:
    """Each moment's billing period (0, 1, ...) in its user's own months, counted from the first
    window's start; the one place the generator and its continuations number periods."""
    return (seconds_from_origin + RENEWAL_SECONDS - billing_phase(user)) // RENEWAL_SECONDS


@dataclass
class EventArrays:
    """Event columns as arrays (codes, NaN / -1 for missing); one row per event.

    ``ts`` is whole seconds since the Unix epoch; ``event_id`` the numeric id (``e-`` + 10
    digits in the files); ``session``, ``content``, ``device`` and ``country`` are codes.
    """

    event_id: np.ndarray
    user: np.ndarray
    ts: np.ndarray
    etype: np.ndarray
    amount: np.ndarray
    session: np.ndarray
    content: np.ndarray
    device: np.ndarray
    watch: np.ndarray
    country: np.ndarray

    def __len__(self) -> int:
        return int(self.ts.size)

    def take(self, index: np.ndarray) -> EventArrays:
        """Rows at ``index`` (a copy), in that order."""
        return EventArrays(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def copy(self) -> EventArrays:
        return EventArrays(**{f.name: getattr(self, f.name).copy() for f in fields(self)})

    @staticmethod
    def concat(parts: list[EventArrays]) -> EventArrays:
        return EventArrays(
            **{
                f.name: np.concatenate([getattr(p, f.name) for p in parts])
                for f in fields(EventArrays)
            }
        )


def build_events(
    rng: np.random.Generator,
    sessions: Sessions,
    users: Users,
    catalog: Catalog,
    pa: PersonaArrays,
    window_start_epoch: int,
    window_seconds: int,
    renewal_origin: int = 0,
    renewed: np.ndarray | None = None,
) -> EventArrays:
    """All clean events of all sessions, sorted by timestamp (the order they arrive in).

    A continuation counts renewal periods from the first window's start (``renewal_origin`` =
    seconds from there to this window's start) and passes ``renewed``, each user's latest paid
    period so far, so a month already paid in an earlier batch is not charged again.
    """
    n_s = len(sessions)
    s_user = sessions.user
    p = users.persona[s_user]

    n_search = rng.poisson(users.search_rate[s_user])
    n_imp = rng.poisson(users.impression_rate[s_user])
    if pa.plays_scale is None:
        n_play = np.minimum(pa.min_plays[p] + rng.poisson(pa.extra_plays[p]), MAX_PLAYS)
    else:  # a shifted habit: the expected plays scale, the floor moves into the Poisson part
        lots = pa.min_plays[p] * pa.plays_scale[p]
        extra = pa.extra_plays[p] * pa.plays_scale[p] + (lots - np.floor(lots))
        n_play = np.minimum(np.floor(lots).astype(np.int64) + rng.poisson(extra), MAX_PLAYS)
    has_purchase = (rng.random(n_s) < pa.purchase_prob[p]) & (n_play > 0)
    empty = (n_search + n_imp + n_play) == 0
    n_search[empty] = 1  # a session is at least one event: someone opened the app and searched

    # Subscription renewal: first session of each of the user's billing periods, on a paid plan.
    period = renewal_period(renewal_origin + sessions.start, s_user)
    new_group = np.ones(n_s, dtype=bool)
    new_group[1:] = (s_user[1:] != s_user[:-1]) | (period[1:] != period[:-1])
    price = np.asarray(PLAN_PRICES)[users.plan[s_user]]
    has_sub = new_group & (price > 0)
    if renewed is not None:
        has_sub &= period > renewed[s_user]

    sid = np.arange(n_s, dtype=np.int64)
    # Browse phase: searches a few seconds apart.
    s_of_search = np.repeat(sid, n_search)
    gap = 3.0 + rng.exponential(25.0, size=s_of_search.size)
    search_off = group_cumsum(gap, n_search)
    browse_len = np.bincount(s_of_search, weights=gap, minlength=n_s)
    # Banner impressions while browsing; a click follows its impression by seconds.
    s_of_imp = np.repeat(sid, n_imp)
    imp_off = 1.0 + rng.random(s_of_imp.size) * (browse_len[s_of_imp] + 30.0)
    clicked = rng.random(s_of_imp.size) < users.ctr[s_user[s_of_imp]]
    s_of_click = s_of_imp[clicked]
    click_off = imp_off[clicked] + 2.0 + rng.exponential(8.0, size=s_of_click.size)
    play_base = browse_len + 40.0 + rng.exponential(20.0, size=n_s)
    purchase_off = play_base.copy()
    play_base = play_base + np.where(has_purchase, 30.0 + rng.exponential(30.0, size=n_s), 0.0)

    # Plays: title from the user's genre taste, popular items more often.
    s_of_play = np.repeat(sid, n_play)
    n_p = s_of_play.size
    pu = s_user[s_of_play]
    pp = p[s_of_play]
    genre = sample_rows(users.genre_cdf, pu, rng.random(n_p))
    item = catalog.genre_start[genre] + np.floor(
        catalog.genre_count[genre] * rng.random(n_p) ** 2.5
    ).astype(np.int64)
    duration = catalog.duration_minutes[item] * 60.0
    complete = rng.random(n_p) < users.complete_prob[pu]
    watch_full = duration * (0.95 + 0.05 * rng.random(n_p))
    watch_part = np.maximum(15.0, duration * rng.beta(1.2, 2.8, size=n_p))
    watch = np.where(complete, watch_full, np.minimum(watch_part, 0.9 * duration))
    if pa.watch_scale is not None:  # a shifted habit: less of each title, so fewer completes
        watch = watch * pa.watch_scale[pp]
        complete &= watch >= 0.95 * duration
    cap = pa.watch_cap_seconds[pp] * (0.8 + 0.4 * rng.random(n_p))
    capped = watch > cap
    watch = np.round(np.where(capped, cap, watch))
    complete &= ~capped
    has_pause = rng.random(n_p) < pa.pause_prob[pp]
    pause_at = np.round(watch * (0.1 + 0.8 * rng.random(n_p)))
    pause_len = np.where(has_pause, 30.0 + rng.exponential(150.0, size=n_p), 0.0)
    play_len = watch + pause_len
    step = play_len + 5.0 + rng.exponential(40.0, size=n_p)
    play_off = play_base[s_of_play] + group_cumsum(step, n_play) - step
    end_off = play_off + play_len

    first_play_item = np.full(n_s, -1, dtype=np.int64)
    first_play_item[n_play > 0] = item[first_of_group(n_play)[n_play > 0]]
    s_of_sub = sid[has_sub]
    s_of_purchase = sid[has_purchase]
    price_idx = sample_rows(
        np.cumsum(pa.purchase_weights, axis=1) / pa.purchase_weights.sum(axis=1, keepdims=True),
        p[s_of_purchase],
        rng.random(s_of_purchase.size),
    )
    s_of_pause = s_of_play[has_pause]

    blocks = [
        # (session, offset, type, content, amount, watch)
        (s_of_sub, np.zeros(s_of_sub.size), TYPE["subscription"], -1, price[has_sub], np.nan),
        (s_of_search, search_off, TYPE["search"], -1, np.nan, np.nan),
        (s_of_imp, imp_off, TYPE["banner_impression"], -1, np.nan, np.nan),
        (s_of_click, click_off, TYPE["banner_click"], -1, np.nan, np.nan),
        (
            s_of_purchase,
            purchase_off[has_purchase],
            TYPE["purchase"],
            first_play_item[has_purchase],
            np.asarray(PURCHASE_PRICES)[price_idx],
            np.nan,
        ),
        (s_of_play, play_off, TYPE["play"], item, np.nan, np.nan),
        (
            s_of_pause,
            (play_off + pause_at)[has_pause],
            TYPE["pause"],
            item[has_pause],
            np.nan,
            pause_at[has_pause],
        ),
        (
            s_of_play,
            end_off,
            np.where(complete, TYPE["complete"], TYPE["stop"]),
            item,
            np.nan,
            watch,
        ),
    ]
    session = np.concatenate([b[0] for b in blocks])
    n = session.size

    def column(i: int, dtype: type) -> np.ndarray:
        return np.concatenate(
            [np.broadcast_to(np.asarray(b[i], dtype=dtype), b[0].shape) for b in blocks]
        )

    offset = np.round(column(1, np.float64)).astype(np.int64)
    # A session started late on the last day ends before the window does: move it earlier whole.
    last = np.zeros(n_s, dtype=np.int64)
    np.maximum.at(last, session, offset)
    overflow = np.maximum(0, sessions.start + last - (window_seconds - 1))
    start = sessions.start - overflow
    ts_rel = start[session] + offset
    order = np.argsort((ts_rel << 32) | np.arange(n, dtype=np.int64), kind="stable")
    session = session[order]
    u = s_user[session]
    return EventArrays(
        event_id=np.arange(1, n + 1, dtype=np.int64),
        user=u,
        ts=window_start_epoch + ts_rel[order],
        etype=column(2, np.int8)[order],
        amount=column(4, np.float64)[order],
        session=session,
        content=column(3, np.int64)[order],
        device=sessions.device[session].astype(np.int8),
        watch=column(5, np.float64)[order],
        country=users.country[u].astype(np.int8),
    )
