"""Segment profiles, readable names and recommended marketing actions.

A profile is what a marketer reads: how big the segment is, its feature means in original units,
and z-scores (segment mean minus population mean, in population standard deviations) that say
what sets it apart. Names come from rules on those z-scores, so the same behaviour gets the same
name whatever cluster number the algorithm happened to give it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from segmentation.model_document import SegmentProfile
from segmentation.pipeline.clustering import NOISE

Z = dict[str, float]


@dataclass(frozen=True)
class NameRule:
    name: str
    applies: Callable[[Z], bool]
    score: Callable[[Z], float]
    why: str
    actions: tuple[str, ...]


#: The naming rules. A rule applies when its defining trait stands out by at least THRESHOLD
#: standard deviations; among applicable rules the highest score wins.
THRESHOLD = 0.5
RULES: tuple[NameRule, ...] = (
    NameRule(
        "loyal high-value",
        lambda z: z["monetary"] >= THRESHOLD and z["recency_days"] <= 0,
        lambda z: z["monetary"] + 0.5 * z["frequency"] - 0.5 * z["recency_days"],
        "spends well above average and was active recently",
        (
            "VIP early access to premieres and exclusive content",
            "loyalty rewards; upsell an annual or premium plan",
            "cross-sell rentals and bundles matching their genres",
        ),
    ),
    NameRule(
        "at-risk / lapsed",
        lambda z: z["recency_days"] >= THRESHOLD,
        lambda z: z["recency_days"] - 0.5 * z["frequency"] - 0.5 * z["active_days"],
        "long since the last visit, few sessions and active days",
        (
            "win-back offer (discount on the next month)",
            "personalised 'new since you left' e-mail with top picks",
            "short churn survey; pause-instead-of-cancel option",
        ),
    ),
    NameRule(
        "binge watcher",
        lambda z: z["avg_session_minutes"] >= THRESHOLD,
        lambda z: z["avg_session_minutes"] + 0.5 * z["completion_rate"],
        "long sessions that finish what they start",
        (
            "auto-play and next-season recommendations",
            "notify when new seasons of watched series land",
            "ad-free / higher-quality plan upsell",
        ),
    ),
    NameRule(
        "browser / searcher",
        lambda z: z["searches_per_session"] >= THRESHOLD,
        lambda z: z["searches_per_session"] + 0.5 * z["banner_ctr"] - 0.5 * z["completion_rate"],
        "searches a lot per session and clicks banners, watches less to the end",
        (
            "improve discovery: curated collections and better search suggestions",
            "personalised home-page rows from their searches",
            "free trial of a rental to convert browsing into watching",
        ),
    ),
    NameRule(
        "weekend casual",
        lambda z: z["weekend_share"] >= THRESHOLD,
        lambda z: z["weekend_share"] - 0.5 * z["active_days"],
        "active mostly on weekends, on few days",
        (
            "Friday-evening push with short weekend picks",
            "family / movie-night content and weekend rental discounts",
        ),
    ),
    NameRule(
        "morning viewer",
        lambda z: z["morning_share"] >= THRESHOLD,
        lambda z: z["morning_share"],
        "watches in the morning (06-12 UTC)",
        (
            "short-form and news content in the morning",
            "mobile download reminders for the commute",
        ),
    ),
    NameRule(
        "prime-time regular",
        lambda z: z["evening_share"] >= THRESHOLD,
        lambda z: z["evening_share"],
        "watches in the evening (18-24 UTC)",
        ("prime-time premiere reminders", "live and event content promotion"),
    ),
)
MAINSTREAM = NameRule(
    "mainstream",
    lambda z: True,
    lambda z: 0.0,
    "no trait stands out by half a standard deviation",
    ("regular newsletter", "A/B-test personalised recommendations to find a lever"),
)
NOISE_NAME = "unassigned (noise)"
NOISE_ACTIONS = ("no targeted action; watch for a pattern in the next run",)
ACTIONS: dict[str, tuple[str, ...]] = {r.name: r.actions for r in (*RULES, MAINSTREAM)} | {
    NOISE_NAME: NOISE_ACTIONS
}


def name_segments(
    z_by_segment: dict[int, Z], sizes: dict[int, int] | None = None
) -> dict[int, tuple[str, str]]:
    """Segment id -> (name, why). Each segment takes the best-scoring rule that applies to it
    (else "mainstream"); when several segments share a name, the largest keeps it and the others
    are numbered by size ("binge watcher 2"). Noise is always "unassigned (noise)"."""
    sizes = sizes or {}
    out: dict[int, tuple[str, str]] = {}
    by_name: dict[str, list[int]] = {}
    for seg, z in z_by_segment.items():
        if seg == NOISE:
            out[seg] = (NOISE_NAME, "points DBSCAN left in no dense region")
            continue
        applicable = [r for r in RULES if r.applies(z)]
        rule = max(applicable, key=lambda r: r.score(z)) if applicable else MAINSTREAM
        out[seg] = (rule.name, rule.why)
        by_name.setdefault(rule.name, []).append(seg)
    for name, segs in by_name.items():
        ranked = sorted(segs, key=lambda s: (-sizes.get(s, 0), s))
        for i, seg in enumerate(ranked[1:], start=2):
            out[seg] = (f"{name} {i}", out[seg][1])
    return out


def actions_for(name: str) -> list[str]:
    base = name.rstrip("0123456789 ").strip() if name not in ACTIONS else name
    return list(ACTIONS.get(base, MAINSTREAM.actions))


def build_profiles(
    features: pd.DataFrame, labels: np.ndarray, columns: Sequence[str]
) -> list[SegmentProfile]:
    """One profile per segment id (noise included), sorted by size, largest first: the
    ``segments`` of the model document, typed here so what is written is what readers expect."""
    x = features[list(columns)].to_numpy(dtype=float)
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    segs = np.unique(labels)
    z_by: dict[int, Z] = {}
    means_by: dict[int, np.ndarray] = {}
    for seg in segs:
        m = x[labels == seg].mean(axis=0)
        means_by[int(seg)] = m
        z_by[int(seg)] = dict(zip(columns, ((m - mean) / std).tolist(), strict=True))
    names = name_segments(z_by, {int(s): int((labels == s).sum()) for s in segs})
    n = len(labels)
    profiles = []
    for seg in segs:
        seg = int(seg)
        size = int((labels == seg).sum())
        z = z_by[seg]
        top = sorted(z.items(), key=lambda kv: -abs(kv[1]))[:3]
        profiles.append(
            SegmentProfile(
                segment_id=seg,
                name=names[seg][0],
                why=names[seg][1],
                size=size,
                share=round(size / n, 6),
                means={c: round(float(v), 6) for c, v in zip(columns, means_by[seg], strict=True)},
                z_scores={c: round(float(v), 4) for c, v in z.items()},
                distinguishing=[f"{c} {v:+.2f} sd" for c, v in top],
                actions=actions_for(names[seg][0]),
            )
        )
    profiles.sort(key=lambda p: -p.size)
    return profiles
