"""Duplicates of the parent's events arriving in a later batch, unchanged or conflicting.

The incremental lake must recognise an ``event_id`` it cleaned weeks ago, whichever path the
copy comes through; these copies are what it is tested with. Each distinct ``event_id`` of the
parent (its first row, with that row's own defects) is eligible once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from segmentation_local.synthetic.events import EventArrays
from segmentation_local.synthetic.params import CrossBatchRates
from segmentation_local.synthetic.tables import event_arrays


def add_parent_copies(
    rng: np.random.Generator, ev: EventArrays, parent_events: pa.Table, rates: CrossBatchRates
) -> tuple[EventArrays, dict[str, Any]]:
    """The batch with copies of parent events spread through it, and the counts injected."""
    parent = event_arrays(parent_events)
    _, first = np.unique(parent.event_id, return_index=True)
    first = np.sort(first)
    u = rng.random(first.size)
    exact = first[u < rates.parent_duplicates]
    conflict = first[
        (u >= rates.parent_duplicates)
        & (u < rates.parent_duplicates + rates.parent_conflicting_duplicates)
    ]
    dup, con = parent.take(exact), parent.take(conflict)
    # A conflicting copy as in the batch's own duplicates: up to an hour off (so across midnight
    # now and then) and other values.
    con.ts = con.ts + rng.integers(1, 3600, size=conflict.size)
    con.amount = np.round(con.amount * rng.uniform(0.5, 1.5, size=conflict.size), 2)
    con.watch = np.round(con.watch * rng.uniform(0.5, 1.5, size=conflict.size))
    n = len(ev)
    copies = EventArrays.concat([dup, con])
    key = np.concatenate([np.arange(n, dtype=np.float64), rng.uniform(0.0, n, size=len(copies))])
    out = EventArrays.concat([ev, copies]).take(np.argsort(key, kind="stable"))
    counts = {
        "parent_duplicates": {"eligible": int(first.size), "total": int(exact.size)},
        "parent_conflicting_duplicates": {"eligible": int(first.size), "total": int(conflict.size)},
    }
    return out, counts
