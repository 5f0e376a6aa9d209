"""The per-user reasons publish stores, as the plain sentences the API returns.

A reason is ``{"feature", "value", "mean"}``: one of the features that drive the user's
assignment (:mod:`segmentation.pipeline.explain`), the user's own value and the population's
average, in original units. A sentence says both, in words a marketer reads, and never names the
user (the API's responses carry no identifier at all).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any


def _n(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 10 else f"{v:,.1f}"


def _pct(v: float) -> str:
    return f"{100 * v:.0f} %"


def _eur(v: float) -> str:
    return f"{v:,.2f} EUR"


#: feature -> (sentence with {value} and {mean}, how a value reads)
TEMPLATES: dict[str, tuple[str, Callable[[float], str]]] = {
    "recency_days": ("Last active {value} days before the snapshot (average {mean}).", _n),
    "frequency": ("{value} sessions in the window (average {mean}).", _n),
    "monetary": ("Spent {value} in the window (average {mean}).", _eur),
    "avg_session_minutes": ("Sessions last {value} minutes on average (average {mean}).", _n),
    "completion_rate": ("Finishes {value} of what they start (average {mean}).", _pct),
    "unique_genres": ("Played {value} genres (average {mean}).", _n),
    "searches_per_session": ("{value} searches per session (average {mean}).", _n),
    "banner_ctr": ("Clicks {value} of the banners shown (average {mean}).", _pct),
    "morning_share": ("{value} of the activity in the morning, 06-12 UTC (average {mean}).", _pct),
    "evening_share": ("{value} of the activity in the evening, 18-24 UTC (average {mean}).", _pct),
    "weekend_share": ("{value} of the activity on weekends (average {mean}).", _pct),
    "active_days": ("Active on {value} days in the window (average {mean}).", _n),
}


def sentence(reason: Mapping[str, Any]) -> str | None:
    """One reason in words; None for a malformed one (an item of another shape is skipped
    rather than failing the lookup)."""
    feature = reason.get("feature")
    try:
        value, mean = float(reason["value"]), float(reason["mean"])
    except (KeyError, TypeError, ValueError):
        return None
    template, fmt = TEMPLATES.get(str(feature), (f"{feature}: {{value}} (average {{mean}}).", _n))
    text = template.format(value=fmt(value), mean=fmt(mean))
    return text[0].upper() + text[1:]


def sentences(reasons: Iterable[Mapping[str, Any]] | None) -> list[str]:
    """The stored reasons of a user item as sentences (none stored: an empty list)."""
    out = []
    for reason in reasons or []:
        if isinstance(reason, Mapping) and (text := sentence(reason)) is not None:
            out.append(text)
    return out
