"""The namer over many generated profiles: every name's defining trait really stands out, names
are distinct and carry no number, and purchase-only data is named in its own vocabulary."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation.pipeline.features import FEATURE_COLUMNS
from segmentation.pipeline.profiles import (
    MAINSTREAM,
    RULES,
    THRESHOLD,
    TRAIT_WORDS,
    VIEWING_FEATURES,
    base_name,
    data_kind,
    name_segments,
    ranked_rules,
)

VIEWING = list(FEATURE_COLUMNS)
#: what a purchase log yields once the empty behavioural features are left out
PURCHASE = ["recency_days", "frequency", "monetary", "weekend_share", "active_days"]
WORDS = {w: trait for trait, w in TRAIT_WORDS.items()}
BY_NAME = {r.name: r for r in RULES}


def profiles(rng: np.random.Generator, columns: list[str]) -> tuple[dict, dict]:
    """2-9 segments: small noise on every feature, one or two traits that stand out (or none)."""
    k = int(rng.integers(2, 10))
    z_by, sizes = {}, {}
    for seg in range(k):
        z = {c: float(rng.normal(0, 0.25)) for c in columns}
        for c in rng.choice(columns, size=int(rng.integers(0, 3)), replace=False):
            z[str(c)] = float(rng.choice([-1, 1]) * rng.uniform(0.6, 2.5))
        z_by[seg] = z
        sizes[seg] = int(rng.integers(50, 5000))
    return z_by, sizes


@pytest.mark.parametrize("columns", [VIEWING, PURCHASE], ids=["viewing", "purchase"])
def test_each_name_is_earned_by_its_profile(columns: list[str]) -> None:
    rng = np.random.default_rng(14)
    kind = data_kind(columns)
    seen_rules = set()
    for _ in range(400):
        z_by, sizes = profiles(rng, columns)
        names = name_segments(z_by, sizes, kind)
        assert len({n for n, _ in names.values()}) == len(names), names
        for seg, (name, why) in names.items():
            assert not any(ch.isdigit() for ch in name), name
            z = z_by[seg]
            base = base_name(name)
            if base == MAINSTREAM.name:
                assert ranked_rules(z, kind) == [], (name, z)
            else:
                rule = BY_NAME[base]
                seen_rules.add(base)
                assert rule.kind in ("any", kind), (name, kind)
                assert rule.needs <= set(columns)
                for feature, sign in rule.traits:  # the defining trait stands out
                    assert z[feature] * sign >= THRESHOLD, (name, feature, z[feature])
                assert why == rule.why
            if "(" in name:  # a qualifier names a real trait of the segment, with its sign
                for words in name[name.index("(") + 1 : -1].split(", "):
                    feature, sign = WORDS[words]
                    assert z[feature] * sign > 0, (name, feature, z[feature])
    if kind == "purchase":
        assert {"repeat buyers", "one-time buyers", "big spenders", "new customers"} <= seen_rules
        assert not seen_rules & {"binge watcher", "browser / searcher", "regular viewers"}
    else:
        assert {"binge watcher", "browser / searcher", "loyal high-value"} <= seen_rules


def test_recent_repeat_buyers_are_not_mainstream() -> None:
    """Issue 14: recency -1.3 sd, five purchases each, was named "mainstream"."""
    z = {"recency_days": -1.3, "frequency": 0.8, "monetary": 0.3, "active_days": 0.7}
    assert not VIEWING_FEATURES & set(z)
    ((name, _),) = name_segments({0: z}, {0: 900}).values()
    assert name == "repeat buyers"
    one_off = {"recency_days": 0.1, "frequency": -0.9, "monetary": -0.3, "active_days": -0.8}
    assert name_segments({0: one_off}, {0: 900})[0][0] == "one-time buyers"


def test_two_segments_of_the_same_kind_are_told_apart_by_their_next_trait() -> None:
    rich = {"recency_days": -0.6, "frequency": 0.4, "monetary": 2.0, "weekend_share": 0.1}
    richer_weekend = {**rich, "monetary": 1.6, "weekend_share": -0.3, "active_days": 0.9}
    names = name_segments({0: rich, 1: richer_weekend}, {0: 2000, 1: 800}, "purchase")
    assert names[0][0] == "loyal high-value"
    # the second loyal segment: its next applicable rule (big spenders), never "... 2"
    assert names[1][0] in {"big spenders", "frequent visitors"}
