"""Segment profiles, readable names and recommended marketing actions.

A profile is what a marketer reads: how big the segment is, its feature means in original units,
and z-scores (the segment's centre in the model's scaled feature space: after shrinkage and log1p,
in population standard deviations) that say what sets it apart. Names come from rules on those
z-scores, so the same behaviour gets the same name whatever cluster number the algorithm
happened to give it.

The vocabulary covers viewing data and purchase-only data (a run whose model has none of the
viewing features, :data:`VIEWING_FEATURES`, is named in the purchase vocabulary: new customers,
repeat buyers, one-time buyers, big spenders, lapsed...). A rule applies only when its defining
trait stands out by :data:`THRESHOLD` standard deviations and every feature it reads is in the
model. Two segments never share a name and no name carries a number: when a segment's best rule
is already taken by a larger segment, it takes its next applicable rule, else the rule's name
qualified by its next distinguishing trait ("binge watcher (evening)"). A segment under the size
floor gets no profile at all (k-anonymity: no averages of a handful of people are published).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from segmentation.model_document import SegmentProfile
from segmentation.pipeline.clustering import NOISE

Z = dict[str, float]

#: The features only viewing data has; a model with none of them is named as purchase data.
VIEWING_FEATURES: frozenset[str] = frozenset(
    {
        "avg_session_minutes",
        "completion_rate",
        "unique_genres",
        "searches_per_session",
        "banner_ctr",
    }
)

#: The naming rules. A rule applies when its defining trait stands out by at least THRESHOLD
#: standard deviations; among applicable rules the highest score wins.
THRESHOLD = 0.5


@dataclass(frozen=True)
class NameRule:
    name: str
    #: the defining trait: (feature, +1 high / -1 low), each by at least THRESHOLD
    traits: tuple[tuple[str, int], ...]
    score: Callable[[Z], float]
    why: str
    actions: tuple[str, ...]
    #: "any", "viewing" or "purchase": which data's vocabulary the rule belongs to
    kind: str = "any"
    #: further conditions (beyond the traits) in z units
    also: Callable[[Z], bool] = lambda z: True

    @property
    def needs(self) -> frozenset[str]:
        return frozenset(f for f, _ in self.traits)

    def applies(self, z: Z, kind: str = "viewing") -> bool:
        if self.kind not in ("any", kind) or not self.needs <= z.keys():
            return False
        return all(z[f] * sign >= THRESHOLD for f, sign in self.traits) and self.also(z)


def _g(z: Z, feature: str) -> float:
    return z.get(feature, 0.0)


RULES: tuple[NameRule, ...] = (
    NameRule(
        "loyal high-value",
        (("monetary", 1),),
        lambda z: z["monetary"] + 0.5 * _g(z, "frequency") - 0.5 * _g(z, "recency_days"),
        "spends well above average and was active recently",
        (
            "VIP early access to premieres and exclusive content",
            "loyalty rewards; upsell an annual or premium plan",
            "cross-sell rentals and bundles matching their genres",
        ),
        also=lambda z: _g(z, "recency_days") <= 0 and _g(z, "frequency") >= 0,
    ),
    NameRule(
        "big spenders",
        (("monetary", 1),),
        lambda z: z["monetary"] - 0.25 * max(0.0, _g(z, "frequency")),
        "spend per customer well above average, on few occasions",
        (
            "premium and bundle offers; early access to high-ticket items",
            "personal service / concierge contact",
        ),
    ),
    NameRule(
        "at-risk / lapsed",
        (("recency_days", 1),),
        lambda z: z["recency_days"] - 0.5 * _g(z, "frequency") - 0.5 * _g(z, "active_days"),
        "long since the last visit, few sessions and active days",
        (
            "win-back offer (discount on the next month)",
            "personalised 'new since you left' e-mail with top picks",
            "short churn survey; pause-instead-of-cancel option",
        ),
    ),
    NameRule(
        "new customers",
        (("recency_days", -1), ("frequency", -1)),
        lambda z: -z["recency_days"] - 0.5 * z["frequency"],
        "active very recently, with few visits so far",
        (
            "welcome series: onboarding e-mails and a second-purchase incentive",
            "recommendations from their first items",
        ),
    ),
    NameRule(
        "repeat buyers",
        (("frequency", 1),),
        lambda z: z["frequency"] + 0.5 * _g(z, "active_days") - 0.5 * _g(z, "recency_days"),
        "buy again and again, and did recently",
        (
            "loyalty programme points and member prices",
            "replenishment reminders; subscribe-and-save",
        ),
        kind="purchase",
        also=lambda z: _g(z, "recency_days") <= 0,
    ),
    NameRule(
        "one-time buyers",
        (("frequency", -1),),
        lambda z: -z["frequency"] - 0.5 * _g(z, "active_days"),
        "bought once or twice and not since",
        (
            "second-purchase voucher with an expiry date",
            "ask for a review; recommend a complementary item",
        ),
        kind="purchase",
    ),
    NameRule(
        "regular viewers",
        (("frequency", 1),),
        lambda z: z["frequency"] + 0.5 * _g(z, "active_days") - 0.5 * _g(z, "recency_days"),
        "many sessions on many days, active recently",
        (
            "personalised rows of new releases in their genres",
            "referral programme: invite a friend",
        ),
        kind="viewing",
        also=lambda z: _g(z, "recency_days") <= 0,
    ),
    NameRule(
        "occasional viewers",
        (("frequency", -1),),
        lambda z: -z["frequency"] - 0.5 * _g(z, "active_days"),
        "few sessions on few days",
        (
            "highlight the catalogue's best in a weekly digest",
            "short-form content to lower the bar to a visit",
        ),
        kind="viewing",
    ),
    NameRule(
        "binge watcher",
        (("avg_session_minutes", 1),),
        lambda z: z["avg_session_minutes"] + 0.5 * _g(z, "completion_rate"),
        "long sessions that finish what they start",
        (
            "auto-play and next-season recommendations",
            "notify when new seasons of watched series land",
            "ad-free / higher-quality plan upsell",
        ),
    ),
    NameRule(
        "browser / searcher",
        (("searches_per_session", 1),),
        lambda z: (
            z["searches_per_session"] + 0.5 * _g(z, "banner_ctr") - 0.5 * _g(z, "completion_rate")
        ),
        "searches a lot per session and clicks banners, watches less to the end",
        (
            "improve discovery: curated collections and better search suggestions",
            "personalised home-page rows from their searches",
            "free trial of a rental to convert browsing into watching",
        ),
    ),
    NameRule(
        "genre explorer",
        (("unique_genres", 1),),
        lambda z: z["unique_genres"],
        "plays across many genres",
        ("cross-genre collections and 'because you watched' rows", "catalogue newsletters"),
    ),
    NameRule(
        "banner responsive",
        (("banner_ctr", 1),),
        # money outranks clicks: a segment that spends and clicks is the spenders' segment
        lambda z: z["banner_ctr"] - max(0.0, _g(z, "monetary")),
        "clicks promotional banners well above average",
        ("more in-app promotions and rental offers", "test banner creatives on this group"),
    ),
    NameRule(
        "weekend casual",
        (("weekend_share", 1),),
        lambda z: z["weekend_share"] - 0.5 * _g(z, "active_days"),
        "active mostly on weekends, on few days",
        (
            "Friday-evening push with short weekend picks",
            "family / movie-night content and weekend rental discounts",
        ),
        kind="viewing",
    ),
    NameRule(
        "weekend shoppers",
        (("weekend_share", 1),),
        lambda z: z["weekend_share"],
        "buy mostly on weekends",
        ("Friday / Saturday offers", "weekend-only promotions"),
        kind="purchase",
    ),
    NameRule(
        "morning viewer",
        (("morning_share", 1),),
        lambda z: z["morning_share"],
        "watches in the morning (06-12 UTC)",
        (
            "short-form and news content in the morning",
            "mobile download reminders for the commute",
        ),
        kind="viewing",
    ),
    NameRule(
        "morning shoppers",
        (("morning_share", 1),),
        lambda z: z["morning_share"],
        "buy in the morning (06-12 UTC)",
        ("send offers early in the day",),
        kind="purchase",
    ),
    NameRule(
        "prime-time regular",
        (("evening_share", 1),),
        lambda z: z["evening_share"],
        "watches in the evening (18-24 UTC)",
        ("prime-time premiere reminders", "live and event content promotion"),
        kind="viewing",
    ),
    NameRule(
        "evening shoppers",
        (("evening_share", 1),),
        lambda z: z["evening_share"],
        "buy in the evening (18-24 UTC)",
        ("send offers in the evening",),
        kind="purchase",
    ),
    NameRule(
        "frequent visitors",
        (("active_days", 1),),
        lambda z: z["active_days"],
        "active on many more days than most",
        ("daily-habit content and streak rewards",),
    ),
)
MAINSTREAM = NameRule(
    "mainstream",
    (),
    lambda z: 0.0,
    "no trait stands out by half a standard deviation",
    ("regular newsletter", "A/B-test personalised recommendations to find a lever"),
)
NOISE_NAME = "unassigned (noise)"
NOISE_ACTIONS = ("no targeted action; watch for a pattern in the next run",)
ACTIONS: dict[str, tuple[str, ...]] = {r.name: r.actions for r in (*RULES, MAINSTREAM)} | {
    NOISE_NAME: NOISE_ACTIONS
}
WHY: dict[str, str] = {r.name: r.why for r in (*RULES, MAINSTREAM)}

#: How a trait reads in a qualified name: (feature, +1 / -1) -> words.
TRAIT_WORDS: dict[tuple[str, int], str] = {
    ("recency_days", 1): "inactive lately",
    ("recency_days", -1): "recently active",
    ("frequency", 1): "frequent",
    ("frequency", -1): "infrequent",
    ("monetary", 1): "high spend",
    ("monetary", -1): "low spend",
    ("avg_session_minutes", 1): "long sessions",
    ("avg_session_minutes", -1): "short sessions",
    ("completion_rate", 1): "finishes titles",
    ("completion_rate", -1): "abandons titles",
    ("unique_genres", 1): "many genres",
    ("unique_genres", -1): "few genres",
    ("searches_per_session", 1): "searches a lot",
    ("searches_per_session", -1): "rarely searches",
    ("banner_ctr", 1): "clicks banners",
    ("banner_ctr", -1): "ignores banners",
    ("morning_share", 1): "mornings",
    ("morning_share", -1): "rarely mornings",
    ("evening_share", 1): "evenings",
    ("evening_share", -1): "rarely evenings",
    ("weekend_share", 1): "weekends",
    ("weekend_share", -1): "weekdays",
    ("active_days", 1): "many active days",
    ("active_days", -1): "few active days",
}


def data_kind(features: Sequence[str]) -> str:
    """ "viewing" when the model has a viewing feature, else "purchase"."""
    return "viewing" if VIEWING_FEATURES & set(features) else "purchase"


def base_name(name: str) -> str:
    """The rule's name of a (possibly qualified) segment name."""
    return name.split(" (", 1)[0]


def ranked_rules(z: Z, kind: str) -> list[NameRule]:
    """The rules that apply to a segment, best score first (ties: rule order)."""
    applicable = [r for r in RULES if r.applies(z, kind)]
    order = {r.name: i for i, r in enumerate(RULES)}
    return sorted(applicable, key=lambda r: (-r.score(z), order[r.name]))


def qualifiers(z: Z, rule: NameRule) -> list[str]:
    """The segment's next distinguishing traits (largest |z| first) beyond the rule's own, as
    words: what tells a second segment of the same kind apart."""
    used = rule.needs
    traits = sorted(
        ((f, v) for f, v in z.items() if f not in used and v != 0),
        key=lambda kv: (-abs(kv[1]), kv[0]),
    )
    return [TRAIT_WORDS.get((f, 1 if v > 0 else -1), f) for f, v in traits]


def name_candidates(z: Z, kind: str) -> list[str]:
    """Every name a segment may carry, best first: its applicable rules, then its best rule
    (or "mainstream") qualified by one and then two of its next traits."""
    rules = ranked_rules(z, kind)
    first = rules[0] if rules else MAINSTREAM
    out = [r.name for r in rules] or [MAINSTREAM.name]
    words = qualifiers(z, first)
    out += [f"{first.name} ({w})" for w in words]
    out += [f"{first.name} ({a}, {b})" for i, a in enumerate(words) for b in words[i + 1 :]]
    return out


def name_segments(
    z_by_segment: dict[int, Z], sizes: dict[int, int] | None = None, kind: str | None = None
) -> dict[int, tuple[str, str]]:
    """Segment id -> (name, why). Segments are named largest first; each takes the first of its
    :func:`name_candidates` no larger segment holds, so names are distinct and never numbered.
    ``kind`` (default: from the z-scores' features) picks the vocabulary. Noise is always
    "unassigned (noise)"."""
    sizes = sizes or {}
    out: dict[int, tuple[str, str]] = {}
    taken: set[str] = set()
    order = sorted((s for s in z_by_segment if s != NOISE), key=lambda s: (-sizes.get(s, 0), s))
    for seg in order:
        z = z_by_segment[seg]
        seg_kind = kind or data_kind(list(z))
        candidates = name_candidates(z, seg_kind)
        name = next((c for c in candidates if c not in taken), None)
        if name is None:  # no trait left to tell it apart (all z-scores 0): a letter, no number
            letters = (f"{candidates[0]} (group {chr(ord('B') + i)})" for i in range(25))
            name = next((c for c in letters if c not in taken), f"{candidates[0]} (other)")
        taken.add(name)
        out[seg] = (name, WHY.get(base_name(name), MAINSTREAM.why))
    if NOISE in z_by_segment:
        out[NOISE] = (NOISE_NAME, "points DBSCAN left in no dense region")
    return out


def actions_for(name: str) -> list[str]:
    return list(ACTIONS.get(base_name(name), MAINSTREAM.actions))


def build_profiles(
    features: pd.DataFrame,
    labels: np.ndarray,
    columns: Sequence[str],
    x_model: np.ndarray | None = None,
    model_columns: Sequence[str] | None = None,
    floor: int = 0,
) -> list[SegmentProfile]:
    """One profile per segment id (noise included), sorted by size, largest first: the
    ``segments`` of the model document, typed here so what is written is what readers expect.

    ``means`` are in original units over ``columns``; the z-scores are the segment's centre in
    the model's scaled space (``x_model`` over ``model_columns``; without it, the standard
    z-scores of the raw ``columns``). A segment of fewer than ``floor`` users is published
    without means, z-scores or traits."""
    x = features[list(columns)].to_numpy(dtype=float)
    if x_model is None:
        mean = x.mean(axis=0)
        std = x.std(axis=0)
        x_model = (x - mean) / np.where(std > 0, std, 1.0)
        model_columns = list(columns)
    model_columns = list(model_columns or columns)
    segs = np.unique(labels)
    z_by: dict[int, Z] = {}
    means_by: dict[int, np.ndarray] = {}
    for seg in segs:
        members = labels == seg
        means_by[int(seg)] = x[members].mean(axis=0)
        z_by[int(seg)] = dict(
            zip(model_columns, x_model[members].mean(axis=0).tolist(), strict=True)
        )
    sizes = {int(s): int((labels == s).sum()) for s in segs}
    big = {s: z for s, z in z_by.items() if sizes[s] >= floor}
    names = name_segments(big, sizes, data_kind(model_columns))
    n = len(labels)
    profiles = []
    for seg in segs:
        seg = int(seg)
        size = sizes[seg]
        if seg not in names:  # under the floor: counted, never described
            profiles.append(
                SegmentProfile(
                    segment_id=seg,
                    name=NOISE_NAME if seg == NOISE else "too small to profile",
                    why=f"fewer than {floor} users: no profile is published",
                    size=size,
                    share=round(size / n, 6),
                    means={},
                    z_scores={},
                    distinguishing=[],
                    actions=list(NOISE_ACTIONS),
                )
            )
            continue
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
