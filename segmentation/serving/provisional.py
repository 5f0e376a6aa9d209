"""Provisional assignments: users the between-run job (:mod:`segmentation.pipeline.assign`)
assigned with the current model version, as the segments table holds them.

A provisional assignment is an item of its own beside the weekly one, in the same version:

==================================  =============================================================
pk / sk                             attributes
==================================  =============================================================
``USER#<anon>`` / ``V#<v>#P``       segment_id, segment_name, segment_key, model_version,
                                    provisional (true), assigned_at, reasons, weekly_segment_key
                                    (the weekly fit's key of a user in it whose segment changed)
``PROVISIONAL#<v>`` / ``SUMMARY``   assigned_at, run_id, users, new_users, changed_users,
                                    by_segment (segment id -> provisional users)
==================================  =============================================================

The weekly item (``V#<v>``) is never touched, so the weekly fit's sizes and a user's weekly
segment stay as published; a lookup reads both items of the version in one query (``V#<v>``
sorts just before ``V#<v>#P``, and no other version's key falls between them: every character a
version may hold sorts after ``#``) and serves the provisional one when there is one. A newer
version's lookups never read ``V#<old>#P``: the next weekly publish replaces them, and retiring
the old version expires them (read from the lake record the job writes first,
``provisional/model_version=<v>/``), as its weekly items are.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

PROVISIONAL_SK_SUFFIX = "#P"
SUMMARY_SK = "SUMMARY"

#: Columns of the lake record (besides the features the assignment was computed from).
RECORD_COLUMNS: tuple[str, ...] = (
    "user_anon_id",
    "segment_id",
    "segment_name",
    "segment_key",
    "weekly_segment_key",
    "assigned_at",
    "run_id",
    "reasons",
)


def provisional_key(user_anon_id: str, model_version: str) -> dict[str, str]:
    return {"pk": f"USER#{user_anon_id}", "sk": f"V#{model_version}{PROVISIONAL_SK_SUFFIX}"}


def summary_key(model_version: str) -> dict[str, str]:
    return {"pk": f"PROVISIONAL#{model_version}", "sk": SUMMARY_SK}


def version_range(model_version: str) -> tuple[str, str]:
    """The sort-key range holding exactly a user's weekly and provisional item of a version."""
    return f"V#{model_version}", f"V#{model_version}{PROVISIONAL_SK_SUFFIX}"


def is_provisional(item: Mapping[str, Any]) -> bool:
    return str(item.get("sk", "")).endswith(PROVISIONAL_SK_SUFFIX)


def user_item(
    row: Mapping[str, Any], model_version: str, expires_at: int | None = None
) -> dict[str, Any]:
    """The item of one row of the lake record (``reasons`` as its JSON text)."""
    item: dict[str, Any] = {
        **provisional_key(str(row["user_anon_id"]), model_version),
        "segment_id": int(row["segment_id"]),
        "segment_name": str(row["segment_name"]),
        "model_version": model_version,
        "provisional": True,
        "assigned_at": str(row["assigned_at"]),
    }
    if row.get("segment_key"):
        item["segment_key"] = str(row["segment_key"])
    if row.get("weekly_segment_key"):
        item["weekly_segment_key"] = str(row["weekly_segment_key"])
    if row.get("reasons"):
        item["reasons"] = json.loads(row["reasons"])
    if expires_at:
        item["expires_at"] = expires_at
    return item


def summary_item(
    model_version: str,
    assigned_at: str,
    run_id: str,
    by_segment: Mapping[int, int],
    new_users: int,
    changed_users: int,
    expires_at: int | None = None,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        **summary_key(model_version),
        "model_version": model_version,
        "assigned_at": assigned_at,
        "run_id": run_id,
        "users": int(sum(by_segment.values())),
        "new_users": int(new_users),
        "changed_users": int(changed_users),
        "by_segment": {str(k): int(v) for k, v in sorted(by_segment.items())},
    }
    if expires_at:
        item["expires_at"] = expires_at
    return item
