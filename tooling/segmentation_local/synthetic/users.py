"""Users: persona, country, plan, main device, genre taste, activity level and active span.

Everything per user is drawn here, once, so sessions and events only look values up by user
index. The persona is the hidden label; every observable trait is drawn from persona-dependent
distributions, with a per-user activity multiplier so users of one persona are not clones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segmentation_local.synthetic._vec import cdf_of, sample_rows
from segmentation_local.synthetic.catalog import GENRES
from segmentation_local.synthetic.personas import PersonaArrays

COUNTRIES: tuple[str, ...] = ("FR", "DE", "ES", "IT", "NL", "BE", "PT", "AT", "IE", "PL")
COUNTRY_WEIGHTS: tuple[float, ...] = (0.28, 0.2, 0.12, 0.12, 0.07, 0.06, 0.05, 0.04, 0.03, 0.03)
PAYMENT_METHODS: tuple[str, ...] = ("card", "paypal", "apple_pay", "google_pay")
PAYMENT_WEIGHTS: tuple[float, ...] = (0.6, 0.2, 0.1, 0.1)
#: Beta concentration of personal rates around the persona's mean: larger = closer to it.
PERSONAL_CONCENTRATION = 25.0
#: Genres below this preference are dropped, so "few genres" users really watch few genres.
GENRE_FLOOR = 0.03


@dataclass(frozen=True)
class Users:
    """Per-user arrays, indexed by user index (user_id ``u-{index+1:06d}``)."""

    persona: np.ndarray
    country: np.ndarray  # code into COUNTRIES
    plan: np.ndarray  # code into personas.PLANS
    device: np.ndarray  # main device, code into personas.DEVICE_CHOICES
    payment: np.ndarray  # code into PAYMENT_METHODS
    activity: np.ndarray  # multiplier of the persona's session rate
    search_rate: np.ndarray  # mean searches per session (persona mean x personal taste)
    impression_rate: np.ndarray  # mean banner impressions per session
    ctr: np.ndarray  # personal banner click probability
    complete_prob: np.ndarray  # personal chance of watching a title to the end
    span: np.ndarray  # active fraction of the window, from its start
    genre_cdf: np.ndarray  # (n_users, n_genres)
    signup_day: np.ndarray  # days before the first window's start (>= 1; a joiner's <= 0)

    def __len__(self) -> int:
        return int(self.persona.size)


def build_users(rng: np.random.Generator, n: int, pa: PersonaArrays) -> Users:
    """Draw ``n`` users; persona shares follow the persona table."""
    persona = rng.choice(pa.share.size, size=n, p=pa.share)
    country = rng.choice(len(COUNTRIES), size=n, p=np.array(COUNTRY_WEIGHTS) / sum(COUNTRY_WEIGHTS))
    plan = sample_rows(cdf_of(pa.plan_probs), persona, rng.random(n))
    device = sample_rows(cdf_of(pa.device_probs), persona, rng.random(n))
    payment = rng.choice(len(PAYMENT_METHODS), size=n, p=PAYMENT_WEIGHTS)
    activity = rng.lognormal(mean=0.0, sigma=0.3, size=n)
    # Users of one persona share its habits but not exactly: personal rates scatter around them.
    search_rate = pa.searches[persona] * rng.lognormal(0.0, 0.25, size=n)
    impression_rate = pa.impressions[persona] * rng.lognormal(0.0, 0.25, size=n)
    ctr = _personal(rng, pa.ctr[persona])
    complete_prob = _personal(rng, pa.complete_prob[persona])
    lo, hi = pa.span_lo[persona], pa.span_hi[persona]
    span = lo + rng.random(n) * (hi - lo)
    prefs = np.empty((n, len(GENRES)), dtype=np.float64)
    for code, alpha in enumerate(pa.genre_alpha):
        members = np.flatnonzero(persona == code)
        if members.size:
            prefs[members] = rng.dirichlet(alpha * pa.genre_bias[code], size=members.size)
    prefs = np.nan_to_num(prefs, nan=0.0)
    prefs[prefs < GENRE_FLOOR] = 0.0
    empty = prefs.sum(axis=1) == 0  # degenerate draws: fall back to one genre
    prefs[empty, rng.integers(0, len(GENRES), size=int(empty.sum()))] = 1.0
    signup_day = 1 + rng.integers(0, 3 * 365, size=n)
    return Users(
        persona=persona,
        country=country,
        plan=plan,
        device=device,
        payment=payment,
        activity=activity,
        search_rate=search_rate,
        impression_rate=impression_rate,
        ctr=ctr,
        complete_prob=complete_prob,
        span=span,
        genre_cdf=cdf_of(prefs),
        signup_day=signup_day,
    )


def _personal(rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
    """Per-user probabilities drawn from a Beta with the given means."""
    k = PERSONAL_CONCENTRATION
    return rng.beta(mean * k, (1.0 - mean) * k)
