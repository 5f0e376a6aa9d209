"""Data-quality defects injected into clean events, with an exact count of what was injected.

The cleaning stage must find and repair (or quarantine) each of these, so every defect is drawn
from its own Bernoulli rate and counted as injected; the tests check the counts against the
rates. Defects draw from their own random stream, so changing a rate never changes the clean
data underneath. The order matters and is documented in docs/data.md: value defects first,
then timestamps, then duplicates (an exact duplicate repeats the row's defects too).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from segmentation.contract import EVENT_TYPES
from segmentation_local.synthetic.events import TYPE, EventArrays
from segmentation_local.synthetic.params import DefectRates

YEAR = 365 * 86400
#: Latest a late event dated into the parent's window can be (seconds before the batch start).
PARENT_LATENESS = 30 * 86400
MONEY_CODES = (TYPE["purchase"], TYPE["subscription"])
OUT_OF_WINDOW_KINDS = ("before_window", "future", "epoch_1970")
MALFORMED_KINDS = ("field_count", "bad_timestamp", "bad_amount", "bad_event_type")
_BAD_TIMESTAMPS = ("2026-13-45T25:61:00Z", "yesterday evening", "14/09/2026 20:31", "--")
_BAD_AMOUNTS = ("N/A", "twelve", "7.99EUR", "1.2.3")
_BAD_TYPES = ("rewind", "PLAY", "click_banner", "fast-forward")
if set(_BAD_TYPES) & set(EVENT_TYPES):  # pragma: no cover - guards an edit of either list
    raise RuntimeError("a 'bad' event type is a valid one")


@dataclass(frozen=True)
class MalformedPlan:
    """Malformed CSV lines to insert: line ``k`` goes after data row ``after_row[k]`` (0-based)."""

    after_row: np.ndarray
    kind: np.ndarray  # code into MALFORMED_KINDS
    variant: np.ndarray  # which bad value / which field-count fault

    def line_numbers(self) -> np.ndarray:
        """1-based CSV line of each malformed line (the header is line 1)."""
        return self.after_row + np.arange(self.after_row.size) + 3


def inject(
    rng: np.random.Generator,
    clean: EventArrays,
    rates: DefectRates,
    window_start: int,
    window_end: int,
    history_start: int | None = None,
    parent_start: int | None = None,
    late_into_parent: float = 0.0,
) -> tuple[EventArrays, dict[str, Any]]:
    """Return the defective events (in arrival order) and the counts actually injected.

    A continuation passes ``history_start`` (its lineage's first window start), so that an
    out-of-window event lies before all of history, and ``late_into_parent``: events dated back
    into the parent's window ``[parent_start, window_start)``, the late arrivals an incremental
    lake must file under an old day.
    """
    history = window_start if history_start is None else history_start
    ev = clean.copy()
    n = len(ev)
    counts: dict[str, Any] = {}

    # Missing categorical value: one of device / country / content_id (content_id only on rows
    # that have one; otherwise the device goes missing instead).
    sel = rng.random(n) < rates.missing_categorical
    which = rng.integers(0, 3, size=n)
    which = np.where((which == 2) & (ev.content < 0), 0, which)
    miss_dev, miss_cty, miss_cnt = sel & (which == 0), sel & (which == 1), sel & (which == 2)
    ev.device[miss_dev] = -1
    ev.country[miss_cty] = -1
    ev.content[miss_cnt] = -1
    counts["missing_categorical"] = {
        "eligible": n,
        "total": int(sel.sum()),
        "device": int(miss_dev.sum()),
        "country": int(miss_cty.sum()),
        "content_id": int(miss_cnt.sum()),
    }

    # Missing number: the amount of a money event or the watch_seconds of a pause/stop/complete.
    has_amount = ~np.isnan(ev.amount)
    has_watch = ~np.isnan(ev.watch)
    eligible = has_amount | has_watch
    sel = eligible & (rng.random(n) < rates.missing_numeric)
    ev.amount[sel & has_amount] = np.nan
    ev.watch[sel & has_watch] = np.nan
    counts["missing_numeric"] = {
        "eligible": int(eligible.sum()),
        "total": int(sel.sum()),
        "amount": int((sel & has_amount).sum()),
        "watch_seconds": int((sel & has_watch).sum()),
    }

    # Heavy-tailed amounts: a money event's amount multiplied by 20..1000 (log-uniform).
    money = np.isin(ev.etype, MONEY_CODES) & ~np.isnan(ev.amount)
    sel = money & (rng.random(n) < rates.outlier_amounts)
    factor = 10.0 ** rng.uniform(np.log10(20.0), np.log10(1000.0), size=int(sel.sum()))
    ev.amount[sel] = np.round(ev.amount[sel] * factor, 2)
    counts["outlier_amounts"] = {"eligible": int(money.sum()), "total": int(sel.sum())}

    # Timestamps: late arrival (shifted earlier, still inside the window) or out of window.
    u = rng.random(n)
    late = u < rates.late_events
    oow = (u >= rates.late_events) & (u < rates.late_events + rates.out_of_window)
    late_rows = np.flatnonzero(late)
    shift = np.minimum(
        rng.integers(60, 3 * 86400, size=late_rows.size), ev.ts[late_rows] - window_start
    )
    late_rows = late_rows[shift >= 60]  # an event in the window's first minute cannot be late
    ev.ts[late_rows] -= shift[shift >= 60]
    oow_rows = np.flatnonzero(oow)
    m = oow_rows.size
    kind = rng.integers(0, 3, size=m)
    before = history - rng.integers(86400, YEAR, size=m)
    future = window_end + rng.integers(10 * YEAR, 30 * YEAR, size=m)
    epoch = rng.integers(0, 30 * 86400, size=m)
    ev.ts[oow_rows] = np.choose(kind, [before, future, epoch])
    counts["late_events"] = {"eligible": n, "total": int(late_rows.size)}
    counts["out_of_window"] = {"eligible": n, "total": m} | {
        k: int((kind == i).sum()) for i, k in enumerate(OUT_OF_WINDOW_KINDS)
    }
    if parent_start is not None:
        latest = min(PARENT_LATENESS, window_start - parent_start)
        taken = rates.late_events + rates.out_of_window
        counts["late_into_parent"] = _late_into_parent(
            rng, ev, u, taken, late_into_parent, window_start, latest
        )

    # Duplicates: exact re-sends, and re-sends of the same event_id with different content.
    u = rng.random(n)
    exact = np.flatnonzero(u < rates.exact_duplicates)
    conflict = np.flatnonzero(
        (u >= rates.exact_duplicates) & (u < rates.exact_duplicates + rates.conflicting_duplicates)
    )
    dup = ev.take(exact)
    con = ev.take(conflict)
    con.ts = con.ts + rng.integers(1, 3600, size=conflict.size)
    con.amount = np.round(con.amount * rng.uniform(0.5, 1.5, size=conflict.size), 2)
    con.watch = np.round(con.watch * rng.uniform(0.5, 1.5, size=conflict.size))
    counts["exact_duplicates"] = {"eligible": n, "total": int(exact.size)}
    counts["conflicting_duplicates"] = {"eligible": n, "total": int(conflict.size)}
    # A re-send arrives after its original, a few to a few hundred rows later.
    key = np.concatenate(
        [
            np.arange(n, dtype=np.float64),
            exact + rng.uniform(0.5, 50.0, size=exact.size),
            conflict + rng.uniform(0.5, 500.0, size=conflict.size),
        ]
    )
    out = EventArrays.concat([ev, dup, con]).take(np.argsort(key, kind="stable"))
    return out, counts


def _late_into_parent(
    rng: np.random.Generator,
    ev: EventArrays,
    u: np.ndarray,
    taken: float,
    rate: float,
    window_start: int,
    latest: int,
) -> dict[str, int]:
    """Date a share of the batch before its window, 1 minute to ``latest`` s late (log-uniform).

    Drawn on the timestamp step's uniform above the bands already taken, so a row is late
    into the parent, or late inside the batch, or out of window, never two of them.
    """
    rows = np.flatnonzero((u >= taken) & (u < taken + rate))
    if rows.size:
        late = 10.0 ** rng.uniform(np.log10(60.0), np.log10(latest), size=rows.size)
        ev.ts[rows] = window_start - np.round(late).astype(np.int64)
    return {"eligible": int(u.size), "total": int(rows.size)}


def plan_malformed(rng: np.random.Generator, n_rows: int, rate: float) -> MalformedPlan:
    """Choose where malformed CSV lines go (after which data rows) and what is wrong with each."""
    after = np.flatnonzero(rng.random(n_rows) < rate)
    return MalformedPlan(
        after_row=after.astype(np.int64),
        kind=rng.integers(0, len(MALFORMED_KINDS), size=after.size),
        variant=rng.integers(0, 4, size=after.size),
    )


def malformed_line(fields: list[str], header: list[str], kind: int, variant: int) -> str:
    """One unreadable CSV line made from a real row's fields (so it looks like a real glitch)."""
    row = list(fields)
    name = MALFORMED_KINDS[kind]
    if name == "field_count":
        row = row[:-1] if variant % 2 == 0 else [*row, "extra"]
    elif name == "bad_timestamp":
        row[header.index("timestamp")] = _BAD_TIMESTAMPS[variant]
    elif name == "bad_amount":
        row[header.index("amount")] = _BAD_AMOUNTS[variant]
    else:
        row[header.index("event_type")] = _BAD_TYPES[variant]
    return ",".join(row)
