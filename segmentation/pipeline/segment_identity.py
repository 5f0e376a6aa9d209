"""Stable segment identities: a new model's segments matched to the previous version's.

A campaign is bound to a segment; if "loyal high-value" is segment 0 this week and 3 the next,
or silently means something else, the campaign breaks. Every segment therefore carries a durable
``segment_key`` (``S1``, ``S2``, ...; noise is ``noise``) that survives re-runs:

* the new segments are matched to the previous version's by the Hungarian assignment
  (scipy's ``linear_sum_assignment``) on the distance between segment centres, both read in the
  *previous* model's feature space (its features, transforms and scaler: a previous centre is
  its z-scores, a new one the mean of its users' features read in that space; a schema 1-2
  document had no transforms and its centre is its means scaled), so K-Means and DBSCAN
  segments are matched alike and a changed feature set or transform does not break the match;
* a pair farther apart than ``max_distance`` is no match: the new segment gets a new key and the
  old one is recorded as retired;
* a matched segment keeps its key and its name; the name changes only when the naming rules give
  another name *and* the centre moved more than ``rename_distance`` (the profile really changed),
  and then the old name is recorded in ``renamed_from``;
* names stay distinct and carry no number: a segment whose (kept or new) name a segment with
  an older key already holds takes its next name candidate (its next applicable rule, or its
  rule qualified by its next distinguishing trait, :func:`~.profiles.name_candidates`).

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
    #: the segment's centre in the previous model's scaled space
    centre: np.ndarray


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


def previous_centre(segment: SegmentProfile, document: ModelDocument) -> np.ndarray | None:
    """A previous segment's centre in its own model's scaled space (None: no profile, e.g. a
    segment under the size floor)."""
    if document.scaler is None or not segment.means:
        return None
    if document.feature_space is not None:
        return np.array([segment.z_scores.get(c, 0.0) for c in document.feature_space.features])
    columns = list(document.scaler.mean)
    x = np.array([segment.means.get(c, 0.0) for c in columns], dtype=float)
    mean = np.array([document.scaler.mean[c] for c in columns])
    std = np.array([document.scaler.std.get(c, 1.0) for c in columns])
    return (x - mean) / np.where(std > 0, std, 1.0)


def match_segments(
    new: Sequence[tuple[int, str, np.ndarray | None]],
    previous: Sequence[PreviousSegment],
    model_version: str,
    next_key: int = 1,
    max_distance: float = 1.0,
    rename_distance: float = 0.5,
) -> Matching:
    """Identities of the ``new`` segments (``(segment_id, rule name, centre in the previous
    model's space)``) given the ``previous`` version's segments; ``next_key`` is the first
    unused key number."""
    identities: dict[int, Identity] = {}
    clusters = [s for s in new if s[0] != -1]
    olds = [p for p in previous if p.key != NOISE_KEY]
    matched_old: set[int] = set()
    comparable = [s for s in clusters if s[2] is not None]
    if comparable and olds:
        from scipy.optimize import linear_sum_assignment

        clusters_c = comparable
        a = np.array([c for _, _, c in clusters_c])
        b = np.array([p.centre for p in olds])
        cost = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)
        rows, cols = linear_sum_assignment(cost)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            d = float(cost[r, c])
            if d > max_distance:
                continue
            seg, rule_name, _ = clusters_c[r]
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


def unique_names(
    identities: dict[int, Identity], candidates: dict[int, list[str]] | None = None
) -> dict[int, Identity]:
    """Two segments never share a name: the older key keeps it, a later key takes the first of
    its ``candidates`` (:func:`~.profiles.name_candidates`) nobody holds. Never a number: a
    campaign reads "binge watcher (evening)", not "binge watcher 2"."""
    candidates = candidates or {}
    taken: set[str] = set()
    out = {}
    for seg, ident in sorted(identities.items(), key=lambda kv: _key_number(kv[1].key)):
        if ident.name in taken and ident.key != NOISE_KEY:
            options = [c for c in candidates.get(seg, []) if c not in taken]
            name = options[0] if options else f"{ident.name} ({ident.key})"
            ident = Identity(**{**ident.__dict__, "name": name})
        taken.add(ident.name)
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
    model_version: str,
    new_centres: dict[int, np.ndarray] | None = None,
    max_distance: float = 1.0,
    rename_distance: float = 0.5,
    kind: str = "viewing",
) -> tuple[list[SegmentProfile], list[RetiredSegment], int]:
    """The profiles with their keys (and kept names), the retired keys, the next key number.

    ``new_centres``: each new segment's centre in the previous model's space (the caller reads
    this run's users in it, :meth:`~.feature_space.FeatureSpace.transform`); ``kind`` is the
    naming vocabulary of this run (:func:`~.profiles.data_kind`)."""
    from segmentation.pipeline.profiles import name_candidates

    prior: list[PreviousSegment] = []
    next_key = 1
    new_centres = new_centres or {}
    if previous is not None and previous.scaler is not None:
        for s in previous.segments:
            centre = previous_centre(s, previous) if s.segment_key else None
            if s.segment_key and (centre is not None or s.segment_key == NOISE_KEY):
                prior.append(
                    PreviousSegment(
                        s.segment_key,
                        s.name,
                        s.since or "",
                        s.size,
                        centre if centre is not None else np.zeros(0),
                    )
                )
        next_key = previous.next_key
    matching = match_segments(
        [(p.segment_id, p.name, new_centres.get(p.segment_id)) for p in profiles],
        prior,
        model_version,
        next_key,
        max_distance,
        rename_distance,
    )
    candidates = {p.segment_id: name_candidates(p.z_scores, kind) for p in profiles if p.z_scores}
    identities = unique_names(matching.identities, candidates)
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
