"""The latent behavioural personas: the ground truth the segmentation should rediscover.

Each persona is a bundle of distributions (how often, when, how long, what, how much) chosen so
that the personas differ clearly in the 12 features of the pipeline (RFM, behavioural, temporal)
while overlapping enough inside each feature to look like real users rather than clean clusters.
Activity and monetisation are linked: paid plans renew monthly only while a user is active.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEVICE_CHOICES: tuple[str, ...] = ("tv", "mobile", "tablet", "web", "console")
PLANS: tuple[str, ...] = ("free", "basic", "standard", "premium")
#: Monthly subscription price per plan (EUR); free users never pay a subscription.
PLAN_PRICES: tuple[float, ...] = (0.0, 7.99, 12.99, 17.99)
#: Prices of one-off purchases (rentals / buys), EUR.
PURCHASE_PRICES: tuple[float, ...] = (2.99, 3.99, 4.99, 5.99, 9.99, 14.99, 19.99)


def hours(*ranges: tuple[int, int, float], base: float = 0.2) -> np.ndarray:
    """A 24-hour weight profile: ``base`` everywhere plus weight on [start, end) hour ranges."""
    w = np.full(24, base, dtype=np.float64)
    # Night hours are quiet for everybody: a floor of realism under every profile.
    w[1:6] *= 0.3
    for start, end, weight in ranges:
        w[start:end] += weight
    return w


@dataclass(frozen=True)
class Persona:
    """Behaviour of one latent persona; counts are per 90 days and scale with the window."""

    name: str
    share: float
    description: str
    sessions: float  # mean sessions per 90 days of activity (before the per-user multiplier)
    weekday_weights: tuple[float, ...]  # Mon..Sun relative probability of a session day
    hour_weights: tuple[float, ...]  # 24 relative weights of a session's start hour (UTC)
    active_span: tuple[float, float]  # user is active in the first U(lo, hi) of the window
    min_plays: int  # plays per session = min_plays + Poisson(extra_plays)
    extra_plays: float
    complete_prob: float  # chance a play is watched to the end (complete) rather than stopped
    pause_prob: float
    watch_cap_minutes: float  # plays longer than this are stopped (commute length); inf = none
    genre_alpha: float  # Dirichlet concentration of genre preferences: small = few genres
    genre_bias: tuple[float, ...]  # relative appeal of each catalog genre (GENRES order)
    searches: float  # mean searches per session
    impressions: float  # mean banner impressions per session
    ctr: float  # chance an impression is clicked
    purchase_prob: float  # chance a session with a play contains a purchase
    purchase_weights: tuple[float, ...]  # over PURCHASE_PRICES
    plan_probs: tuple[float, ...]  # over PLANS
    device_probs: tuple[float, ...]  # over DEVICE_CHOICES


WEEK_FLAT = (1.0, 1.0, 1.0, 1.0, 1.0, 1.2, 1.2)

PERSONAS: tuple[Persona, ...] = (
    Persona(
        name="binge_watcher",
        share=0.18,
        description="Long evening sessions of several titles watched to the end, most days, "
        "in a few favourite genres; standard/premium plan on TV or console.",
        sessions=22.0,
        weekday_weights=WEEK_FLAT,
        hour_weights=tuple(hours((19, 24, 3.0), (0, 1, 1.5), base=0.08)),
        active_span=(1.0, 1.0),
        min_plays=2,
        extra_plays=1.0,
        complete_prob=0.88,
        pause_prob=0.35,
        watch_cap_minutes=float("inf"),
        genre_alpha=0.08,
        genre_bias=(3, 1, 1, 2, 0.5, 0.2, 0.5, 1, 1, 2, 3, 0.5),
        searches=0.3,
        impressions=0.8,
        ctr=0.03,
        purchase_prob=0.02,
        purchase_weights=(1, 2, 2, 1, 1, 0.5, 0.2),
        plan_probs=(0.05, 0.15, 0.45, 0.35),
        device_probs=(0.7, 0.05, 0.08, 0.05, 0.12),
    ),
    Persona(
        name="weekend_casual",
        share=0.22,
        description="A few short sessions, mostly on Saturdays and Sundays in the afternoon "
        "or evening; free or basic plan.",
        sessions=8.0,
        weekday_weights=(0.25, 0.25, 0.25, 0.25, 0.5, 3.0, 3.0),
        hour_weights=tuple(hours((13, 18, 1.5), (18, 22, 1.2), base=0.15)),
        active_span=(1.0, 1.0),
        min_plays=1,
        extra_plays=0.3,
        complete_prob=0.5,
        pause_prob=0.2,
        watch_cap_minutes=float("inf"),
        genre_alpha=0.6,
        genre_bias=(1, 2, 2, 1, 0.5, 2, 2, 0.5, 1, 1, 0.5, 1),
        searches=0.8,
        impressions=1.2,
        ctr=0.04,
        purchase_prob=0.01,
        purchase_weights=(3, 2, 1, 0.5, 0.2, 0.1, 0.05),
        plan_probs=(0.55, 0.35, 0.08, 0.02),
        device_probs=(0.45, 0.15, 0.25, 0.15, 0.0),
    ),
    Persona(
        name="high_spender",
        share=0.12,
        description="Frequent rentals and buys of new releases, clicks banners, premium plan; "
        "afternoon and evening sessions all week.",
        sessions=15.0,
        weekday_weights=WEEK_FLAT,
        hour_weights=tuple(hours((12, 18, 0.8), (18, 23, 1.5), base=0.15)),
        active_span=(1.0, 1.0),
        min_plays=1,
        extra_plays=0.8,
        complete_prob=0.7,
        pause_prob=0.3,
        watch_cap_minutes=float("inf"),
        genre_alpha=0.5,
        genre_bias=(1, 1, 3, 2, 0.5, 1, 1, 1, 1, 3, 1, 0.2),
        searches=1.0,
        impressions=3.0,
        ctr=0.3,
        purchase_prob=0.4,
        purchase_weights=(0.2, 0.5, 1, 1, 3, 3, 2),
        plan_probs=(0.0, 0.05, 0.25, 0.7),
        device_probs=(0.5, 0.15, 0.15, 0.1, 0.1),
    ),
    Persona(
        name="lapsed_churn_risk",
        share=0.16,
        description="Active only in the first 10-40% of the window, then silent: high recency, "
        "few sessions and active days; free or basic plan.",
        sessions=6.0,
        weekday_weights=WEEK_FLAT,
        hour_weights=tuple(hours((12, 23, 0.6), base=0.25)),
        active_span=(0.1, 0.4),
        min_plays=1,
        extra_plays=0.4,
        complete_prob=0.4,
        pause_prob=0.2,
        watch_cap_minutes=float("inf"),
        genre_alpha=0.6,
        genre_bias=(1, 1.5, 1, 1, 1, 1, 1, 1, 1.5, 1, 1, 1.5),
        searches=0.6,
        impressions=1.0,
        ctr=0.03,
        purchase_prob=0.01,
        purchase_weights=(3, 2, 1, 0.5, 0.2, 0.1, 0.05),
        plan_probs=(0.5, 0.4, 0.1, 0.0),
        device_probs=(0.35, 0.25, 0.15, 0.25, 0.0),
    ),
    Persona(
        name="searcher_browser",
        share=0.16,
        description="Many searches per session, samples many genres and abandons most titles "
        "early; often leaves without playing anything.",
        sessions=12.0,
        weekday_weights=WEEK_FLAT,
        hour_weights=tuple(hours((10, 17, 0.7), (17, 24, 0.9), base=0.2)),
        active_span=(1.0, 1.0),
        min_plays=0,
        extra_plays=1.2,
        complete_prob=0.12,
        pause_prob=0.1,
        watch_cap_minutes=float("inf"),
        genre_alpha=4.0,
        genre_bias=(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1),
        searches=5.0,
        impressions=1.5,
        ctr=0.05,
        purchase_prob=0.02,
        purchase_weights=(2, 2, 1, 1, 0.5, 0.2, 0.1),
        plan_probs=(0.45, 0.35, 0.15, 0.05),
        device_probs=(0.2, 0.2, 0.15, 0.45, 0.0),
    ),
    Persona(
        name="morning_commuter",
        share=0.16,
        description="Weekday morning sessions on mobile, each capped by the commute "
        "(about half an hour); basic or standard plan.",
        sessions=18.0,
        weekday_weights=(1.0, 1.0, 1.0, 1.0, 1.0, 0.15, 0.15),
        hour_weights=tuple(hours((6, 10, 3.0), (17, 19, 0.4), base=0.05)),
        active_span=(1.0, 1.0),
        min_plays=1,
        extra_plays=0.3,
        complete_prob=0.75,
        pause_prob=0.25,
        watch_cap_minutes=32.0,
        genre_alpha=0.6,
        genre_bias=(0.5, 3, 0.3, 0.5, 2, 1, 2, 0.2, 0.5, 0.5, 0.5, 3),
        searches=0.5,
        impressions=1.0,
        ctr=0.05,
        purchase_prob=0.01,
        purchase_weights=(3, 2, 1, 0.5, 0.2, 0.1, 0.05),
        plan_probs=(0.15, 0.5, 0.3, 0.05),
        device_probs=(0.02, 0.85, 0.1, 0.03, 0.0),
    ),
)

PERSONA_NAMES: tuple[str, ...] = tuple(p.name for p in PERSONAS)


@dataclass(frozen=True)
class PersonaArrays:
    """The persona table as arrays indexed by persona code, for vectorised lookups."""

    share: np.ndarray
    sessions: np.ndarray
    weekday_weights: np.ndarray  # (P, 7)
    hour_weights: np.ndarray  # (P, 24)
    span_lo: np.ndarray
    span_hi: np.ndarray
    min_plays: np.ndarray
    extra_plays: np.ndarray
    complete_prob: np.ndarray
    pause_prob: np.ndarray
    watch_cap_seconds: np.ndarray
    genre_alpha: np.ndarray
    genre_bias: np.ndarray  # (P, n_genres), normalised to mean 1
    searches: np.ndarray
    impressions: np.ndarray
    ctr: np.ndarray
    purchase_prob: np.ndarray
    purchase_weights: np.ndarray  # (P, len(PURCHASE_PRICES))
    plan_probs: np.ndarray  # (P, 4)
    device_probs: np.ndarray  # (P, 5)
    # Habit multipliers of a continuation's shift (None = unshifted, the persona table as is).
    plays_scale: np.ndarray | None = None
    watch_scale: np.ndarray | None = None


def persona_arrays(personas: tuple[Persona, ...] = PERSONAS) -> PersonaArrays:
    """Stack persona fields into arrays; shares are normalised to sum to one."""

    def col(name: str, dtype: type = np.float64) -> np.ndarray:
        return np.array([getattr(p, name) for p in personas], dtype=dtype)

    share = col("share")
    return PersonaArrays(
        share=share / share.sum(),
        sessions=col("sessions"),
        weekday_weights=col("weekday_weights"),
        hour_weights=col("hour_weights"),
        span_lo=np.array([p.active_span[0] for p in personas]),
        span_hi=np.array([p.active_span[1] for p in personas]),
        min_plays=col("min_plays", np.int64),
        extra_plays=col("extra_plays"),
        complete_prob=col("complete_prob"),
        pause_prob=col("pause_prob"),
        watch_cap_seconds=col("watch_cap_minutes") * 60.0,
        genre_alpha=col("genre_alpha"),
        genre_bias=(bias := col("genre_bias")) / bias.mean(axis=1, keepdims=True),
        searches=col("searches"),
        impressions=col("impressions"),
        ctr=col("ctr"),
        purchase_prob=col("purchase_prob"),
        purchase_weights=col("purchase_weights"),
        plan_probs=col("plan_probs"),
        device_probs=col("device_probs"),
    )
