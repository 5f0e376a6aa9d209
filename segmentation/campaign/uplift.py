"""The uplift report: did the campaign change what its target's users did?

Per target segment key, over the campaign window ``[start, end)``, for the members (users of the
key in the frozen model version) of each arm:

* **conversion**: the share of members with at least one purchase or subscription event in the
  window (the backtest's ``bought_again``, :func:`segmentation.pipeline.backtest.outcomes`);
* **spend per user**: what they paid in the window (EUR; 0 for a member who paid nothing).

Members without any event in the window count, as non-converters with no spend: the comparison
is intention-to-treat, arm against arm, whoever was reached.

Each figure comes with a 95 % confidence interval:

* absolute conversion uplift (treatment rate - control rate): the **difference of two
  proportions**, normal approximation with the unpooled variance ``p_t(1-p_t)/n_t +
  p_c(1-p_c)/n_c`` (Wald);
* absolute spend uplift (treatment mean - control mean): **Welch's t interval** (unequal
  variances, Welch-Satterthwaite degrees of freedom); spend is skewed, and Welch's interval on
  the means is what the central limit theorem covers at the sizes a campaign has;
* relative uplift (treatment / control - 1): the **delta method on the log of the ratio**,
  exponentiated (it stays on the right side of -100 %); none when the control figure is 0.

A segment with fewer than :data:`MIN_USERS` members in an arm, or fewer than
:data:`MIN_EVENTS` converters or non-converters in one, gets a note: the normal approximation is
rough there. The report's users are anonymised ids only while it is computed; the report itself
holds counts and rates.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from segmentation.campaign.report import (
    CONFIDENCE,
    METHODS,
    Estimate,
    SegmentUplift,
    UpliftReport,
)

Z = NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)
MIN_USERS = 30
MIN_EVENTS = 5
ALL = "all"  # the key of the pooled row over every target segment

__all__ = ["CONFIDENCE", "METHODS", "Estimate", "SegmentUplift", "UpliftReport", "compute"]


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _relative(
    t: float, c: float, se_log: float | None
) -> tuple[float | None, float | None, float | None]:
    if c <= 0 or t <= 0 or se_log is None or not math.isfinite(se_log):
        return (t / c - 1.0 if c > 0 else None), None, None
    log_ratio = math.log(t / c)
    return (
        t / c - 1.0,
        math.exp(log_ratio - Z * se_log) - 1.0,
        math.exp(log_ratio + Z * se_log) - 1.0,
    )


def proportions(x_t: int, n_t: int, x_c: int, n_c: int) -> Estimate:
    """Rates ``x/n`` of both arms, their difference and ratio with 95 % intervals."""
    if n_t == 0 or n_c == 0:
        return Estimate(**dict.fromkeys(Estimate.model_fields))
    p_t, p_c = x_t / n_t, x_c / n_c
    se = math.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    d = p_t - p_c
    se_log = math.sqrt((1 - p_t) / x_t + (1 - p_c) / x_c) if x_t > 0 and x_c > 0 else None
    rel, rel_low, rel_high = _relative(p_t, p_c, se_log)
    return Estimate(
        treatment=p_t,
        control=p_c,
        absolute=d,
        absolute_low=d - Z * se,
        absolute_high=d + Z * se,
        relative=rel,
        relative_low=rel_low,
        relative_high=rel_high,
    )


def welch(treatment: np.ndarray, control: np.ndarray) -> Estimate:
    """Means of both arms, their difference (Welch's t interval) and ratio (delta method)."""
    from scipy.stats import t as student

    n_t, n_c = len(treatment), len(control)
    if n_t < 2 or n_c < 2:
        return Estimate(**dict.fromkeys(Estimate.model_fields))
    m_t, m_c = float(np.mean(treatment)), float(np.mean(control))
    v_t, v_c = float(np.var(treatment, ddof=1)) / n_t, float(np.var(control, ddof=1)) / n_c
    se = math.sqrt(v_t + v_c)
    d = m_t - m_c
    if se == 0:
        low = high = d
    else:
        df = (v_t + v_c) ** 2 / (v_t**2 / (n_t - 1) + v_c**2 / (n_c - 1))
        q = float(student.ppf(0.5 + CONFIDENCE / 2, df))
        low, high = d - q * se, d + q * se
    se_log = math.sqrt(v_t / m_t**2 + v_c / m_c**2) if m_t > 0 and m_c > 0 else None
    rel, rel_low, rel_high = _relative(m_t, m_c, se_log)
    return Estimate(
        treatment=m_t,
        control=m_c,
        absolute=d,
        absolute_low=_finite(low),
        absolute_high=_finite(high),
        relative=rel,
        relative_low=rel_low,
        relative_high=rel_high,
    )


def segment_uplift(
    key: str, arm: pd.Series, converted: pd.Series, spend: pd.Series, name: str | None = None
) -> SegmentUplift:
    """The row of one segment from its members' arms and outcomes (aligned series)."""
    treated = (arm == "treatment").to_numpy()
    conv = converted.to_numpy(dtype=float)
    paid = spend.to_numpy(dtype=float)
    n_t, n_c = int(treated.sum()), int((~treated).sum())
    x_t, x_c = int(conv[treated].sum()), int(conv[~treated].sum())
    rough = min(n_t, n_c) < MIN_USERS or min(x_t, x_c, n_t - x_t, n_c - x_c) < MIN_EVENTS
    return SegmentUplift(
        segment_key=key,
        segment_name=name,
        users_treatment=n_t,
        users_control=n_c,
        converted_treatment=x_t,
        converted_control=x_c,
        conversion=proportions(x_t, n_t, x_c, n_c),
        spend=welch(paid[treated], paid[~treated]),
        note=(
            f"few users or conversions (under {MIN_USERS} members or {MIN_EVENTS} "
            "(non-)converters in an arm): the normal approximation is rough"
            if rough
            else None
        ),
    )


def compute(
    members: pd.DataFrame, outcome: pd.DataFrame, segment_keys: list[str]
) -> tuple[list[SegmentUplift], SegmentUplift]:
    """Rows per target key (in ``segment_keys``' order) and the pooled row.

    ``members``: one row per member, columns ``user_anon_id``, ``segment_key``, ``arm`` (and
    ``segment_name``); ``outcome``: indexed by ``user_anon_id``, columns ``bought_again`` and
    ``spend`` (:func:`segmentation.pipeline.backtest.outcomes` of the window)."""
    frame = members.set_index("user_anon_id").join(outcome[["bought_again", "spend"]])
    frame[["bought_again", "spend"]] = frame[["bought_again", "spend"]].fillna(0.0)
    rows = []
    for key in segment_keys:
        part = frame[frame["segment_key"] == key]
        names = part["segment_name"].dropna() if "segment_name" in part else pd.Series([])
        rows.append(
            segment_uplift(
                key,
                part["arm"],
                part["bought_again"],
                part["spend"],
                str(names.iloc[0]) if len(names) else None,
            )
        )
    overall = segment_uplift(ALL, frame["arm"], frame["bought_again"], frame["spend"])
    return rows, overall


# ---------------------------------------------------------------------------------------------
# Output for people


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f} %"


def _pts(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:+.1f}"


def _eur(v: float | None) -> str:
    return "n/a" if v is None else f"{v:+.2f}"


def _interval(low: float | None, high: float | None, fmt: Any) -> str:
    return "n/a" if low is None or high is None else f"[{fmt(low)}, {fmt(high)}]"


def report_text(report: UpliftReport) -> str:
    """The report as a reader takes it in: one block for conversion, one for spend."""
    rows = [*report.segments, report.overall]
    head = [
        f"campaign {report.campaign_id} ({report.name}): targets "
        f"{', '.join(r.segment_key for r in report.segments)}, holdout {_pct(report.holdout)}",
        f"window {report.start:%Y-%m-%d %H:%M} .. {report.end:%Y-%m-%d %H:%M} UTC "
        f"({report.window_days} days, {report.curated_days} of them in the curated zone); "
        f"members frozen to model version {report.model_version}",
        "95 % intervals: conversion by the difference of proportions (Wald), spend by Welch's "
        "t, relative uplift by the delta method on the log ratio",
        "",
        "conversion (share of members with a purchase or subscription in the window)",
        f"  {'segment':<28} {'users T / C':>15} {'treatment':>10} {'control':>9} "
        f"{'uplift, points':>15} {'95 % CI':>16} {'relative':>9} {'95 % CI':>18}",
    ]
    for r in rows:
        c = r.conversion
        label = (r.segment_key + (f" {r.segment_name}" if r.segment_name else ""))[:28]
        head.append(
            f"  {label:<28} {f'{r.users_treatment:,} / {r.users_control:,}':>15} "
            f"{_pct(c.treatment):>10} {_pct(c.control):>9} {_pts(c.absolute):>15} "
            f"{_interval(c.absolute_low, c.absolute_high, _pts):>16} "
            f"{_pts(c.relative) + ' %' if c.relative is not None else 'n/a':>9} "
            f"{_interval(c.relative_low, c.relative_high, _pts) + ' %':>18}"
        )
    head += [
        "",
        "spend per member (EUR in the window)",
        f"  {'segment':<28} {'users T / C':>15} {'treatment':>10} {'control':>9} "
        f"{'uplift, EUR':>15} {'95 % CI':>16} {'relative':>9} {'95 % CI':>18}",
    ]
    for r in rows:
        s = r.spend
        label = (r.segment_key + (f" {r.segment_name}" if r.segment_name else ""))[:28]
        head.append(
            f"  {label:<28} {f'{r.users_treatment:,} / {r.users_control:,}':>15} "
            f"{'n/a' if s.treatment is None else f'{s.treatment:.2f}':>10} "
            f"{'n/a' if s.control is None else f'{s.control:.2f}':>9} {_eur(s.absolute):>15} "
            f"{_interval(s.absolute_low, s.absolute_high, _eur):>16} "
            f"{_pts(s.relative) + ' %' if s.relative is not None else 'n/a':>9} "
            f"{_interval(s.relative_low, s.relative_high, _pts) + ' %':>18}"
        )
    notes = [f"  {r.segment_key}: {r.note}" for r in rows if r.note]
    if notes:
        head += ["", "notes:", *notes]
    return "\n".join(head)


def log_to_mlflow(report: UpliftReport, tracking_uri: str, experiment: str) -> str:
    """One MLflow run of the report: per segment key the users, rates, uplifts and interval
    bounds as metrics (``S1_conversion_uplift``, ``S1_conversion_uplift_low``, ...), the whole
    report as ``uplift.json``; tagged with the campaign and the frozen model version."""
    from segmentation.pipeline.tracking import Tracker

    tracker = Tracker(tracking_uri, experiment)
    tags = {
        "kind": "uplift",
        "campaign_id": report.campaign_id,
        "model_version": report.model_version,
    }
    with tracker.started(f"uplift-{report.campaign_id}", tags) as run_id:
        tracker.params(
            {
                "campaign_id": report.campaign_id,
                "holdout": report.holdout,
                "start": report.start.isoformat(),
                "end": report.end.isoformat(),
                "segment_keys": ",".join(r.segment_key for r in report.segments),
            }
        )
        metrics: dict[str, Any] = {"curated_days": report.curated_days}
        for r in [*report.segments, report.overall]:
            k = r.segment_key
            metrics |= {
                f"{k}_users_treatment": r.users_treatment,
                f"{k}_users_control": r.users_control,
            }
            for outcome in ("conversion", "spend"):
                e: Estimate = getattr(r, outcome)
                metrics |= {
                    f"{k}_{outcome}_treatment": e.treatment,
                    f"{k}_{outcome}_control": e.control,
                    f"{k}_{outcome}_uplift": e.absolute,
                    f"{k}_{outcome}_uplift_low": e.absolute_low,
                    f"{k}_{outcome}_uplift_high": e.absolute_high,
                    f"{k}_{outcome}_relative": e.relative,
                }
        tracker.metrics({k: v for k, v in metrics.items() if v is not None})
        tracker.json_artifact("uplift.json", report.model_dump(mode="json"))
    return run_id
