"""Backtest of business effect: do the segments say anything about what users do next?

Pretty clusters are not the test; what a marketer needs is that a segment's users *behave*
differently afterwards (the paper's business-effect criterion). Given segments computed on data
up to a snapshot T and the events of the horizon (T, T + H], per user:

* ``came_back``: any event in the horizon (0/1);
* ``bought_again``: at least one purchase or subscription in the horizon (0/1);
* ``spend``: the amount spent in the horizon (EUR);
* ``churned``: no event in the horizon (0/1; ``1 - came_back``).

The same is computed for the classic **RFM baseline**: quintile scores of recency (recent = 5),
frequency and monetary, and their 5 x 5 x 5 cells. For both groupings: each group's outcome means
and **lift** (group mean / overall mean), and the **out-of-sample variance explained** of each
outcome: the users are split at random into halves; the group means are estimated on one half
and scored on the other (``1 - SSE / SST`` there, a group unseen in the first half predicted by
its overall mean), averaged over ``splits`` seeded splits. Measured out of sample, more groups
earn no free credit: 125 RFM cells fit noise in-sample, and pay for it on the other half.

Pure pandas / numpy: the pipeline step (:mod:`segmentation.pipeline.backtest_step`, behind
``glue_jobs/backtest.py`` and ``segmentation backtest``) reads the lake and calls this.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segmentation.contract import MONEY_EVENTS

OUTCOMES: tuple[str, ...] = ("came_back", "bought_again", "spend", "churned")
QUINTILES = 5


def outcomes(users: pd.Index, horizon_events: pd.DataFrame) -> pd.DataFrame:
    """The four outcomes per user of ``users`` from the horizon's events (columns
    ``user_anon_id``, ``event_type``, ``amount``); users without an event churned."""
    ev = horizon_events[horizon_events["user_anon_id"].isin(users)]
    money = ev["event_type"].isin(sorted(MONEY_EVENTS))
    any_event = ev.groupby("user_anon_id").size()
    bought = ev[money].groupby("user_anon_id").size()
    spend = ev[money].groupby("user_anon_id")["amount"].sum(min_count=1)
    out = pd.DataFrame(index=users)
    out["came_back"] = (any_event.reindex(users, fill_value=0) > 0).astype(float)
    out["bought_again"] = (bought.reindex(users, fill_value=0) > 0).astype(float)
    out["spend"] = spend.reindex(users).fillna(0.0).astype(float)
    out["churned"] = 1.0 - out["came_back"]
    return out


def quintile(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """Score 1..5 by the value's rank (ties share the average rank, so they share a score)."""
    pct = values.rank(method="average", pct=True, ascending=higher_is_better)
    return np.ceil(pct * QUINTILES).clip(1, QUINTILES).astype(int)


def rfm_cells(features: pd.DataFrame) -> pd.Series:
    """The 5 x 5 x 5 RFM cell of every user (``R5F3M2``): recent, frequent, big-spending = 5."""
    r = quintile(features["recency_days"], higher_is_better=False)
    f = quintile(features["frequency"])
    m = quintile(features["monetary"])
    return "R" + r.astype(str) + "F" + f.astype(str) + "M" + m.astype(str)


def variance_explained(
    groups: pd.Series, y: pd.Series, splits: int = 5, seed: int = 42
) -> float | None:
    """Out-of-sample share of ``y``'s variance the grouping explains (mean over ``splits``
    seeded half splits: group means fitted on one half, scored on the other). None when ``y``
    does not vary."""
    g = groups.to_numpy()
    v = y.to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    scores = []
    for _ in range(splits):
        train = rng.random(len(v)) < 0.5
        test = ~train
        if train.sum() == 0 or test.sum() == 0:
            continue
        overall = float(v[train].mean())
        means = pd.Series(v[train]).groupby(g[train]).mean()
        pred = pd.Series(g[test]).map(means).fillna(overall).to_numpy(dtype=float)
        sst = float(((v[test] - v[test].mean()) ** 2).sum())
        if sst == 0:
            continue
        scores.append(1.0 - float(((v[test] - pred) ** 2).sum()) / sst)
    return float(np.mean(scores)) if scores else None


def group_table(groups: pd.Series, outcome: pd.DataFrame) -> pd.DataFrame:
    """Per group: users, the mean of each outcome and its lift over the overall mean."""
    frame = outcome.assign(_group=groups.to_numpy())
    table = frame.groupby("_group")[list(OUTCOMES)].mean()
    table.insert(0, "users", frame.groupby("_group").size())
    overall = outcome[list(OUTCOMES)].mean()
    for c in OUTCOMES:
        table[f"{c}_lift"] = table[c] / overall[c] if overall[c] else math.nan
    return table.sort_values("users", ascending=False)


@dataclass
class Grouping:
    name: str
    groups: int
    r2: dict[str, float | None]
    table: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        rows = self.table.reset_index(names="group").to_dict(orient="records")
        return {"name": self.name, "groups": self.groups, "r2": self.r2, "table": rows}


@dataclass
class Backtest:
    users: int
    horizon_days: int
    overall: dict[str, float]
    groupings: list[Grouping] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "users": self.users,
            "horizon_days": self.horizon_days,
            "overall": self.overall,
            "groupings": [g.to_dict() for g in self.groupings],
        }


def backtest(
    features: pd.DataFrame,
    segments: pd.Series,
    horizon_events: pd.DataFrame,
    horizon_days: int,
    splits: int = 5,
    seed: int = 42,
) -> Backtest:
    """Segments (user_anon_id -> segment name) against the RFM cells, on the users of both
    ``features`` (indexed by user_anon_id) and ``segments``."""
    users = features.index.intersection(segments.index)
    if len(users) == 0:
        raise ValueError("no user is in both the features and the segment map")
    feats = features.loc[users]
    outcome = outcomes(users, horizon_events)
    result = Backtest(
        users=len(users),
        horizon_days=horizon_days,
        overall={c: float(outcome[c].mean()) for c in OUTCOMES},
    )
    for name, groups in (("segments", segments.loc[users]), ("RFM 5x5x5", rfm_cells(feats))):
        result.groupings.append(
            Grouping(
                name=name,
                groups=int(groups.nunique()),
                r2={c: variance_explained(groups, outcome[c], splits, seed) for c in OUTCOMES},
                table=group_table(groups, outcome),
            )
        )
    return result


def report(result: Backtest, rows: int = 12) -> str:
    """Both tables and the variance explained, as text."""

    def pct(v: float | None) -> str:
        return "n/a" if v is None or math.isnan(v) else f"{100 * v:.1f} %"

    lines = [
        f"backtest: {result.users:,} users, horizon {result.horizon_days} days; overall: "
        + ", ".join(
            f"{c} {v:.2f}" if c == "spend" else f"{c} {pct(v)}" for c, v in result.overall.items()
        ),
        "",
        "out-of-sample variance explained (group means on one half, scored on the other):",
        f"  {'grouping':<12} {'groups':>6} " + " ".join(f"{c:>13}" for c in OUTCOMES),
    ]
    for g in result.groupings:
        lines.append(
            f"  {g.name:<12} {g.groups:>6} " + " ".join(f"{pct(g.r2[c]):>13}" for c in OUTCOMES)
        )
    for g in result.groupings:
        lines += ["", f"{g.name}: per group (largest first; lift = group mean / overall mean)"]
        lines.append(
            f"  {'group':<34} {'users':>7} {'came back':>10} {'bought':>8} {'spend':>9} "
            f"{'lift bought':>11} {'lift spend':>10}"
        )
        shown = g.table.head(rows)
        for group, row in shown.iterrows():
            lines.append(
                f"  {str(group)[:34]:<34} {int(row['users']):>7,} {pct(row['came_back']):>10} "
                f"{pct(row['bought_again']):>8} {row['spend']:>9.2f} "
                f"{row['bought_again_lift']:>11.2f} {row['spend_lift']:>10.2f}"
            )
        if len(g.table) > rows:
            lines.append(f"  ... {len(g.table) - rows} more groups")
    return "\n".join(lines)


def log_to_mlflow(
    result: Backtest,
    tracking_uri: str,
    experiment: str,
    model_version: str,
    snapshot: str,
    tags: dict[str, str] | None = None,
) -> str:
    """One MLflow run of the backtest: ``r2_<grouping>_<outcome>`` metrics, the overall rates,
    both tables as ``backtest.json``, tagged with the model version and snapshot (and ``tags``,
    e.g. the pipeline run); returns the run id (so the figures sit beside the model's own run in
    the experiment)."""
    from segmentation.pipeline.tracking import Tracker

    tracker = Tracker(tracking_uri, experiment)
    tags = {
        **(tags or {}),
        "kind": "backtest",
        "model_version": model_version,
        "snapshot_date": snapshot,
        "horizon_days": str(result.horizon_days),
    }
    with tracker.started(f"backtest-{model_version}-{snapshot}", tags) as run_id:
        tracker.params({"horizon_days": result.horizon_days, "users": result.users})
        slug = {"segments": "segments", "RFM 5x5x5": "rfm"}
        tracker.metrics(
            {
                f"r2_{slug.get(g.name, g.name)}_{c}": v
                for g in result.groupings
                for c, v in g.r2.items()
                if v is not None
            }
            | {f"overall_{c}": v for c, v in result.overall.items()}
            | {f"groups_{slug.get(g.name, g.name)}": g.groups for g in result.groupings}
        )
        tracker.json_artifact("backtest.json", result.to_dict())
    return run_id


def registry_tags(result: Backtest, run_id: str) -> dict[str, str]:
    """Tags for the registered model version: where its backtest over the horizon is, and the
    headline figures (bought-again variance explained, segments and RFM), so the registry
    shows them without opening the run."""
    prefix = f"backtest_{result.horizon_days}d"
    tags = {f"{prefix}_run_id": run_id}
    slug = {"segments": "segments", "RFM 5x5x5": "rfm"}
    for g in result.groupings:
        value = g.r2.get("bought_again")
        if value is not None:
            tags[f"{prefix}_r2_bought_again_{slug.get(g.name, g.name)}"] = f"{value:.4f}"
    return tags
