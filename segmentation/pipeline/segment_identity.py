"""Stable segment identities: a new model's segments matched to the previous version's.

A campaign is bound to a segment; if "loyal high-value" is segment 0 this week and 3 the next,
or silently means something else, the campaign breaks. Every segment therefore carries a durable
``segment_key`` (``S1``, ``S2``, ...; noise is ``noise``) that survives re-runs:

* the new segments are matched to the previous version's by the Hungarian assignment
  (scipy's ``linear_sum_assignment``) on the distance between segment centres, both read in the
  *previous* model's scaled space (its mean and std; a centre is the segment's feature means in
  original units, so K-Means and DBSCAN segments are matched alike);
* a pair farther apart than ``max_distance`` is no match: the new segment gets a new key and the
  old one is recorded as retired;
* a matched segment keeps its key and its name; the name changes only when the naming rules give
  another name *and* the centre moved more than ``rename_distance`` (the profile really changed),
  and then the old name is recorded in ``renamed_from``.

The first run has no predecessor: every segment is new.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from segmentation.model_document import Comparison, ModelDocument, RetiredSegment, SegmentProfile

NOISE_KEY = "noise"


@dataclass(frozen=True)
class PreviousSegment:
    key: str
    name: str
    since: str
    size: int
    means: dict[str, float]


@dataclass(frozen=True)
class Identity:
    """What a new segment is called from now on."""

    key: str
    name: str
    since: str
    previous_size: int | None = None
    renamed_from: str | None = None
    distance: float | None = None


@dataclass(frozen=True)
class Matching:
    identities: dict[int, Identity]
    retired: list[PreviousSegment] = field(default_factory=list)
    next_key: int = 1


def _centre(means: dict[str, float], columns: Sequence[str], mean: np.ndarray, std: np.ndarray):
    x = np.array([means.get(c, 0.0) for c in columns], dtype=float)
    return (x - mean) / np.where(std > 0, std, 1.0)


def match_segments(
    new: Sequence[tuple[int, str, dict[str, float]]],
    previous: Sequence[PreviousSegment],
    columns: Sequence[str],
    scaler: tuple[np.ndarray, np.ndarray] | None,
    model_version: str,
    next_key: int = 1,
    max_distance: float = 1.0,
    rename_distance: float = 0.5,
) -> Matching:
    """Identities of the ``new`` segments (``(segment_id, rule name, means)``) given the
    ``previous`` version's segments and scaler; ``next_key`` is the first unused key number."""
    identities: dict[int, Identity] = {}
    clusters = [s for s in new if s[0] != -1]
    olds = [p for p in previous if p.key != NOISE_KEY]
    matched_old: set[int] = set()
    if clusters and olds and scaler is not None:
        from scipy.optimize import linear_sum_assignment

        mean, std = scaler
        a = np.array([_centre(m, columns, mean, std) for _, _, m in clusters])
        b = np.array([_centre(p.means, columns, mean, std) for p in olds])
        cost = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)
        rows, cols = linear_sum_assignment(cost)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            d = float(cost[r, c])
            if d > max_distance:
                continue
            seg, rule_name, _ = clusters[r]
            old = olds[c]
            renamed = rule_name != old.name and d > rename_distance
            identities[seg] = Identity(
                key=old.key,
                name=rule_name if renamed else old.name,
                since=old.since,
                previous_size=old.size,
                renamed_from=old.name if renamed else None,
                distance=round(d, 6),
            )
            matched_old.add(c)
    for seg, rule_name, _ in sorted(clusters, key=lambda s: s[0]):
        if seg not in identities:
            identities[seg] = Identity(key=f"S{next_key}", name=rule_name, since=model_version)
            next_key += 1
    for seg, rule_name, _ in new:
        if seg == -1:
            old_noise = next((p for p in previous if p.key == NOISE_KEY), None)
            identities[seg] = Identity(
                key=NOISE_KEY,
                name=rule_name,
                since=old_noise.since if old_noise else model_version,
                previous_size=old_noise.size if old_noise else None,
            )
    retired = [p for i, p in enumerate(olds) if i not in matched_old]
    return Matching(identities, retired, next_key)


def unique_names(identities: dict[int, Identity]) -> dict[int, Identity]:
    """Two segments never share a name: a later key's duplicate gets its key appended
    ("loyal high-value (S7)"), rather than a bare "2"."""
    seen: dict[str, str] = {}
    out = {}
    for seg, ident in sorted(identities.items(), key=lambda kv: _key_number(kv[1].key)):
        if ident.name in seen and seen[ident.name] != ident.key:
            ident = Identity(**{**ident.__dict__, "name": f"{ident.name} ({ident.key})"})
        seen.setdefault(ident.name, ident.key)
        out[seg] = ident
    return out


def _key_number(key: str) -> int:
    return int(key[1:]) if key[:1] == "S" and key[1:].isdigit() else 0


def compare_assignments(previous: dict[str, str], current: dict[str, str]) -> dict[str, object]:
    """Run-over-run figures for the users in both versions (user -> segment key in each): the
    adjusted Rand index, the transition matrix (share of each old key's users now in each new
    key) and the number of common users."""
    from sklearn.metrics import adjusted_rand_score

    common = sorted(set(previous) & set(current))
    if not common:
        return {"common_users": 0, "ari": None, "transitions": {}}
    old = [previous[u] for u in common]
    new = [current[u] for u in common]
    counts: dict[str, dict[str, int]] = {}
    for o, n in zip(old, new, strict=True):
        counts.setdefault(o, {}).setdefault(n, 0)
        counts[o][n] += 1
    transitions = {
        o: {n: round(c / sum(row.values()), 6) for n, c in sorted(row.items())}
        for o, row in sorted(counts.items())
    }
    return {
        "common_users": len(common),
        "ari": round(float(adjusted_rand_score(old, new)), 6),
        "transitions": transitions,
    }


def identify_profiles(
    profiles: Sequence[SegmentProfile],
    previous: ModelDocument | None,
    columns: Sequence[str],
    model_version: str,
    max_distance: float = 1.0,
    rename_distance: float = 0.5,
) -> tuple[list[SegmentProfile], list[RetiredSegment], int]:
    """The profiles with their keys (and kept names), the retired keys, the next key number."""
    prior: list[PreviousSegment] = []
    scaler = None
    next_key = 1
    if previous is not None and previous.scaler is not None:
        prior = [
            PreviousSegment(s.segment_key or "", s.name, s.since or "", s.size, s.means)
            for s in previous.segments
            if s.segment_key
        ]
        scaler = (
            np.array([previous.scaler.mean.get(c, 0.0) for c in columns]),
            np.array([previous.scaler.std.get(c, 1.0) for c in columns]),
        )
        next_key = previous.next_key
    matching = match_segments(
        [(p.segment_id, p.name, p.means) for p in profiles],
        prior,
        columns,
        scaler,
        model_version,
        next_key,
        max_distance,
        rename_distance,
    )
    identities = unique_names(matching.identities)
    out = []
    for p in profiles:
        ident = identities[p.segment_id]
        out.append(
            p.model_copy(
                update={
                    "name": ident.name,
                    "segment_key": ident.key,
                    "since": ident.since,
                    "previous_size": ident.previous_size,
                    "renamed_from": ident.renamed_from,
                }
            )
        )
    retired = [
        RetiredSegment(segment_key=r.key, name=r.name, since=r.since, last_size=r.size)
        for r in matching.retired
    ]
    return out, retired, matching.next_key


def compare_versions(
    previous: ModelDocument,
    profiles: Sequence[SegmentProfile],
    before: dict[str, str],
    now: dict[str, str],
) -> Comparison:
    """The run-over-run comparison (:func:`compare_assignments`) plus the largest share shift."""
    figures = compare_assignments(before, now)
    then = {s.segment_key: s.share for s in previous.segments if s.segment_key}
    current = {s.segment_key: s.share for s in profiles if s.segment_key}
    shift = max(
        (abs(current.get(k, 0.0) - then.get(k, 0.0)) for k in set(then) | set(current)),
        default=0.0,
    )
    return Comparison(
        previous_model_version=previous.model_version,
        common_users=int(figures["common_users"]),  # type: ignore[arg-type]
        ari=figures["ari"],  # type: ignore[arg-type]
        transitions=figures["transitions"],  # type: ignore[arg-type]
        largest_share_shift=round(shift, 6),
    )
