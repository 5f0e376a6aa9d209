"""Build a whole synthetic data set in memory: catalog, users, sessions, events, defects, summary.

Each stage draws from its own named random stream derived from the seed, so a stage's output
depends only on the seed and its own inputs: changing a defect rate leaves the clean events as
they were, and the same parameters always give the same data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from segmentation.contract import EVENT_TYPES
from segmentation_local.synthetic import tables
from segmentation_local.synthetic.catalog import build_catalog
from segmentation_local.synthetic.defects import (
    MALFORMED_KINDS,
    MalformedPlan,
    inject,
    plan_malformed,
)
from segmentation_local.synthetic.events import EventArrays, build_events
from segmentation_local.synthetic.lineage import Lineage, root_ids, stream
from segmentation_local.synthetic.params import ContinueParams, GenerateParams
from segmentation_local.synthetic.personas import PERSONA_NAMES, persona_arrays
from segmentation_local.synthetic.sessions import build_sessions
from segmentation_local.synthetic.users import Users, build_users


@dataclass(frozen=True)
class Dataset:
    """A generated data set; ``events`` carries the injected defects except malformed CSV rows."""

    params: GenerateParams | ContinueParams
    events: pa.Table
    transactions: pa.Table
    users: pa.Table
    catalog: pa.Table
    labels: pa.Table
    malformed: MalformedPlan
    summary: dict[str, Any]
    #: Continuations only: each user's latest paid subscription period (``renewals.parquet``).
    renewals: pa.Table | None = None


def iso(epoch_seconds: int) -> str:
    return np.datetime_as_string(np.datetime64(int(epoch_seconds), "s")) + "Z"


def generate(params: GenerateParams) -> Dataset:
    """Generate the data set described by ``params``."""
    seed = params.seed
    ws = int(params.window_start.timestamp())
    we = int(params.window_end.timestamp())
    pa_ = persona_arrays()
    catalog = build_catalog(stream(seed, "catalog"), params.catalog_size, params.end_date.year)
    users = build_users(stream(seed, "users"), params.users, pa_)
    sessions = build_sessions(
        stream(seed, "sessions"), users, pa_, params.days, params.window_start.weekday()
    )
    # Every user of a first window subscribed before it: the billing period running at its
    # start (period 0) was paid before the data begins, as a later window's first period was
    # paid in the window before (without this, a data set's first window charged each
    # subscriber once more than any later window of the same length: a monetary PSI of 0.13
    # between the first load and the week after it, at paper scale).
    prepaid = np.zeros(params.users, dtype=np.int64)
    clean = build_events(
        stream(seed, "events"), sessions, users, catalog, pa_, ws, we - ws, renewed=prepaid
    )
    dirty, defect_counts = inject(stream(seed, "defects"), clean, params.defects, ws, we)
    malformed = plan_malformed(stream(seed, "malformed"), len(dirty), params.defects.malformed_csv)
    defect_counts["malformed_csv"] = malformed_counts(malformed, len(dirty))

    ids = tables.user_ids(params.users)
    summary = summarise(
        seed=seed,
        parameters=params.model_dump(mode="json"),
        window=(ws, we, params.days),
        users=users,
        clean=clean,
        dirty=dirty,
        malformed=malformed,
        n_sessions=len(sessions),
        n_catalog=len(catalog),
        defect_counts=defect_counts,
    )
    summary["ids"] = root_ids(summary["counts"])
    summary["dataset_id"] = Lineage(params).dataset_id()
    return Dataset(
        params=params,
        events=tables.events_table(dirty, ids, catalog),
        transactions=tables.transactions_table(clean, ids, users.payment),
        users=tables.users_table(users, ids, params.window_start.date()),
        catalog=tables.catalog_table(catalog),
        labels=tables.labels_table(users, ids),
        malformed=malformed,
        summary=summary,
    )


def malformed_counts(malformed: MalformedPlan, rows: int) -> dict[str, int]:
    return {"eligible": rows, "total": int(malformed.kind.size)} | {
        k: int((malformed.kind == i).sum()) for i, k in enumerate(MALFORMED_KINDS)
    }


def summarise(
    *,
    seed: int,
    parameters: dict[str, Any],
    window: tuple[int, int, int],
    users: Users,
    clean: EventArrays,
    dirty: EventArrays,
    malformed: MalformedPlan,
    n_sessions: int,
    n_catalog: int,
    defect_counts: dict[str, Any],
) -> dict[str, Any]:
    """The part of ``summary.json`` a first window and a continuation share (same keys)."""
    ws, we, days = window
    n_users = len(users)
    per_type = np.bincount(clean.etype, minlength=len(EVENT_TYPES))
    per_persona = np.bincount(users.persona, minlength=len(PERSONA_NAMES))
    events_per_persona = np.bincount(users.persona[clean.user], minlength=len(PERSONA_NAMES))
    return {
        "seed": seed,
        "parameters": parameters,
        "window": {"start": iso(ws), "end_exclusive": iso(we), "days": days},
        "counts": {
            "users": n_users,
            "catalog": n_catalog,
            "sessions": n_sessions,
            "events_clean": len(clean),
            "events": len(dirty),
            "events_csv_rows": len(dirty) + int(malformed.kind.size),
            "transactions": int(per_type[list(EVENT_TYPES).index("purchase")])
            + int(per_type[list(EVENT_TYPES).index("subscription")]),
        },
        "event_types": {t: int(c) for t, c in zip(EVENT_TYPES, per_type, strict=True)},
        "personas": {
            name: {
                "users": int(per_persona[i]),
                "share": round(float(per_persona[i]) / n_users, 4),
                "events": int(events_per_persona[i]),
            }
            for i, name in enumerate(PERSONA_NAMES)
        },
        "date_range": {
            "first_event": iso(int(clean.ts.min())) if len(clean) else None,
            "last_event": iso(int(clean.ts.max())) if len(clean) else None,
        },
        "defects": defect_counts,
    }
