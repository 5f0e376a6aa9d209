"""The next batch of a data set: more days after its end, the same users, personas and catalog.

Weekly batches are how the pipeline meets data in production; tests and benches of the
incremental lake need them reproducible. A batch is built like a first window (sessions,
events, in-batch defects, malformed CSV lines) but over its own period, with ids after the
parent's, renewals that remember what was paid before, optional joiners and a shift, and the
cross-batch defects (late events dated into the parent, copies of parent events).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from segmentation_local.synthetic import tables
from segmentation_local.synthetic.catalog import build_catalog
from segmentation_local.synthetic.cross_batch import add_parent_copies
from segmentation_local.synthetic.defects import inject, plan_malformed
from segmentation_local.synthetic.events import TYPE, EventArrays, build_events, renewal_period
from segmentation_local.synthetic.generator import Dataset, malformed_counts, summarise
from segmentation_local.synthetic.lineage import Manifest, epoch, read_manifest, stream
from segmentation_local.synthetic.params import ContinueParams
from segmentation_local.synthetic.personas import PERSONA_NAMES, persona_arrays
from segmentation_local.synthetic.population import replay
from segmentation_local.synthetic.sessions import build_period_sessions


def continue_dataset(parent_dir: Path, params: ContinueParams, out: Path | None = None) -> Dataset:
    """The batch after the data set in ``parent_dir`` (which is only read, never changed).

    With ``out`` (where the batch will be written) the parent link is recorded relative to it,
    so a tree of batches can move and two identical runs write identical bytes.
    """
    parent = read_manifest(parent_dir)
    lineage = parent.lineage.extend(params)
    step = lineage.steps[-1]
    index = len(lineage.steps)
    period = lineage.period(index)
    seed, root = lineage.root.seed, lineage.root
    pop = replay(lineage)
    _check_parent_users(parent, pop.users.persona)

    pa_ = pop.behaviour(persona_arrays())
    users = pop.users
    ws, we = epoch(lineage.start_of(index)), epoch(lineage.end_of(index))
    origin = ws - epoch(root.window_start)
    catalog = build_catalog(stream(seed, "catalog"), root.catalog_size, root.end_date.year)
    sessions = build_period_sessions(
        stream(seed, "sessions", period),
        users,
        pa_,
        pop.join_day,
        first_day=origin // 86400,
        days=step.days,
        reference_days=root.days,
        at_least_one=pop.joined_now,
        start_weekday=lineage.start_of(index).weekday(),
    )
    renewed = _renewals(parent, len(users), epoch(root.window_start))
    clean = build_events(
        stream(seed, "events", period), sessions, users, catalog, pa_, ws, we - ws, origin, renewed
    )
    clean.event_id += parent.ids["event"]
    clean.session += parent.ids["session"]

    assert step.defects is not None  # Lineage.extend writes the inherited rates out
    dirty, defect_counts = inject(
        stream(seed, "defects", period),
        clean,
        step.defects,
        ws,
        we,
        history_start=epoch(root.window_start),
        parent_start=epoch(parent.window_start),
        late_into_parent=step.cross_batch.late_into_parent,
    )
    parent_events = pq.read_table(parent_dir / "events.parquet")
    dirty, copies = add_parent_copies(
        stream(seed, "cross_batch", period), dirty, parent_events, step.cross_batch
    )
    defect_counts |= copies
    malformed = plan_malformed(
        stream(seed, "malformed", period), len(dirty), step.defects.malformed_csv
    )
    defect_counts["malformed_csv"] = malformed_counts(malformed, len(dirty))

    ids = tables.user_ids(len(users))
    transactions = tables.transactions_table(
        clean, ids, users.payment, first_id=parent.ids["transaction"] + 1
    )
    summary = summarise(
        seed=seed,
        parameters=step.model_dump(mode="json"),
        window=(ws, we, step.days),
        users=users,
        clean=clean,
        dirty=dirty,
        malformed=malformed,
        n_sessions=len(sessions),
        n_catalog=len(catalog),
        defect_counts=defect_counts,
    )
    _add_activity(summary, users.persona, clean.user, pop.joined_now)
    summary["counts"]["new_users"] = step.new_users
    summary["parent"] = {
        "path": os.path.relpath(parent_dir.resolve(), out.resolve()) if out else str(parent_dir),
        "dataset_id": parent.lineage.dataset_id(),
        "window": {
            "start": parent.window_start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end_exclusive": lineage.start_of(index).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    }
    summary["ids"] = {
        "event": parent.ids["event"] + len(clean),
        "session": parent.ids["session"] + len(sessions),
        "transaction": parent.ids["transaction"] + transactions.num_rows,
    }
    summary["lineage"] = lineage.to_json()
    summary["dataset_id"] = lineage.dataset_id()
    return Dataset(
        params=step,
        events=tables.events_table(dirty, ids, catalog),
        transactions=transactions,
        users=tables.users_table(users, ids, root.window_start.date()),
        catalog=tables.catalog_table(catalog),
        labels=tables.labels_table(users, ids),
        malformed=malformed,
        summary=summary,
        renewals=_renewals_table(ids, renewed, clean, epoch(root.window_start)),
    )


def _check_parent_users(parent: Manifest, persona: np.ndarray) -> None:
    """Rebuilt users must be the parent's: same ids, same personas (else the lineage lies)."""
    labels = pq.read_table(parent.path / "labels.parquet")
    names = np.asarray(PERSONA_NAMES, dtype=object)[persona[: parent.users]]
    if (
        labels.num_rows != parent.users
        or labels.column("user_id").to_pylist() != tables.user_ids(parent.users).to_pylist()
        or labels.column("persona").to_numpy(zero_copy_only=False).tolist() != names.tolist()
    ):
        raise ValueError(
            f"{parent.path}: its users are not the ones its summary.json describes "
            "(edited files, or written by another generator version)"
        )


def _renewals(parent: Manifest, n_users: int, root_start: int) -> np.ndarray:
    """Each user's latest paid subscription period so far (-1: none), from the parent.

    A first window has no renewals file: its payments are its clean subscriptions, and its
    users' period 0 was paid before it began (:func:`~.generator.generate`).
    """
    out = np.full(n_users, -1, dtype=np.int64)
    path = parent.path / "renewals.parquet"
    if not path.is_file():
        root_users = pq.read_table(parent.path / "users.parquet", columns=["user_id"]).num_rows
        out[:root_users] = 0
    if path.is_file():
        t = pq.read_table(path)
        user = tables.user_codes(t.column("user_id"))
        out[user] = t.column("renewal_period").to_numpy()
        return out
    columns = ["user_id", "timestamp", "kind"]
    tx = pq.read_table(parent.path / "transactions.parquet", columns=columns)
    subs = tx.filter(pc.equal(tx.column("kind"), "subscription"))
    seconds = pc.divide(pc.cast(subs.column("timestamp"), pa.int64()), 1_000_000).to_numpy()
    user = tables.user_codes(subs.column("user_id"))
    np.maximum.at(out, user, renewal_period(seconds - root_start, user))
    return out


def _renewals_table(
    ids: pa.Array, renewed: np.ndarray, clean: EventArrays, root_start: int
) -> pa.Table:
    """The renewal state after this batch: the parent's, advanced by this batch's payments."""
    state = renewed.copy()
    subs = clean.etype == TYPE["subscription"]
    user = clean.user[subs]
    np.maximum.at(state, user, renewal_period(clean.ts[subs] - root_start, user))
    return pa.table({"user_id": ids, "renewal_period": pa.array(state, pa.int32())})


def _add_activity(
    summary: dict[str, Any], persona: np.ndarray, event_user: np.ndarray, joined: np.ndarray
) -> None:
    """Per persona: users active in this batch and their share, and who joined (shift checks)."""
    active = np.zeros(persona.size, dtype=bool)
    active[event_user] = True
    n_active = max(int(active.sum()), 1)
    per_active = np.bincount(persona[active], minlength=len(PERSONA_NAMES))
    per_joined = np.bincount(persona[joined], minlength=len(PERSONA_NAMES))
    summary["counts"]["active_users"] = int(active.sum())
    for i, name in enumerate(PERSONA_NAMES):
        summary["personas"][name] |= {
            "active_users": int(per_active[i]),
            "active_share": round(float(per_active[i]) / n_active, 4),
            "new_users": int(per_joined[i]),
        }
