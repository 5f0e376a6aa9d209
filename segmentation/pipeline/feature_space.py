"""The space the model clusters in: which features, how each is transformed, how it is scaled.

Raw features do not fit every data set. On a real purchase log (23,000 customers) a few extreme
spenders pulled K-Means clusters of 6 and 29 users onto themselves (monetary is heavy-tailed),
seven behavioural features that purchase-only data cannot have were all zero yet still fed the
scaler, and a "weekend share" from one or two purchases split customers into weekend people and
not. So, per run, in this order (each step a parameter of the cluster step):

1. **shrinkage** of shares computed from few events: a share ``s`` over ``n`` events becomes
   ``(n * s + m * p) / (n + m)``, with ``p`` the population's pooled share and ``m`` the
   ``shrink_events`` pseudo-events (one Saturday purchase: 1.0 -> about 0.35 with m = 10; a
   viewer's share over 300 events barely moves). The counts come from the features step
   (:data:`~segmentation.pipeline.features.COUNT_COLUMNS`);
2. **selection**: a feature with zero variance, or zero for at least ``sparse_share`` of the
   users, carries no information for this run and is left out, with the reason recorded (judged
   on the raw values, before shrinkage);
3. **transform**: ``log1p`` of the heavy-tailed features (``log_features``);
4. **standard scaling** (mean and sample std, in numpy over the rows in id order, so it does not
   depend on the lake's layout).

The whole of it is stored in the model document (``feature_space`` and ``scaler``) and in the
registered model, so every later assignment, drift measure and run-over-run match reproduces it
from raw features; a document written before it (schema 1-2) reads as the identity transform of
the columns its scaler names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segmentation.model_document import FeatureSpaceDoc, ModelDocument, Shrinkage
from segmentation.pipeline.features import FEATURE_COLUMNS, SHARE_COUNTS

#: Defaults of the cluster step's parameters (params.ClusterParams documents them).
DEFAULT_LOG_FEATURES: tuple[str, ...] = ("frequency", "monetary", "active_days")
DEFAULT_SPARSE_SHARE = 0.95
DEFAULT_SHRINK_EVENTS = 10.0


@dataclass(frozen=True)
class SpaceParams:
    """What the feature space depends on."""

    log_features: tuple[str, ...] = DEFAULT_LOG_FEATURES
    sparse_share: float = DEFAULT_SPARSE_SHARE
    shrink_events: float = DEFAULT_SHRINK_EVENTS


@dataclass(frozen=True)
class FeatureSpace:
    """Raw features (original units, plus the event counts) -> the model's scaled matrix."""

    columns: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray
    log1p: tuple[str, ...] = ()
    shrinkage: dict[str, Shrinkage] = field(default_factory=dict)
    left_out: dict[str, str] = field(default_factory=dict)

    @property
    def input_columns(self) -> list[str]:
        """The columns :meth:`transform` reads: the model's features and the counts its
        shrinkage needs."""
        counts = sorted({s.count for c, s in self.shrinkage.items() if c in self.columns})
        return [*self.columns, *counts]

    def unscaled(self, frame: pd.DataFrame) -> np.ndarray:
        """The model's features after shrinkage and transforms, before scaling."""
        missing = [c for c in self.input_columns if c not in frame.columns]
        if missing:
            raise ValueError(
                f"features lack column(s) {', '.join(missing)}; expected "
                f"{', '.join(self.input_columns)}"
            )
        out = np.empty((len(frame), len(self.columns)), dtype=float)
        for j, c in enumerate(self.columns):
            v = frame[c].to_numpy(dtype=float)
            spec = self.shrinkage.get(c)
            if spec is not None:
                v = shrink(v, frame[spec.count].to_numpy(dtype=float), spec)
            if c in self.log1p:
                v = np.log1p(np.maximum(v, 0.0))
            out[:, j] = v
        return out

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The scaled matrix the model clusters (z = (x - mean) / std; std 0 -> 1)."""
        return (self.unscaled(frame) - self.mean) / np.where(self.std > 0, self.std, 1.0)

    def document(self) -> FeatureSpaceDoc:
        return FeatureSpaceDoc(
            features=list(self.columns),
            log1p=[c for c in self.columns if c in self.log1p],
            shrinkage={c: s for c, s in self.shrinkage.items() if c in self.columns},
            left_out=dict(self.left_out),
        )

    def describe(self) -> dict[str, Any]:
        """The space as the MLflow run logs it (scaler.json)."""
        return {
            "kind": "standard (z = (x - mean) / std; std 0 -> 1) after the transforms",
            "columns": list(self.columns),
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            **self.document().model_dump(mode="json"),
        }

    @classmethod
    def of_document(cls, doc: ModelDocument) -> FeatureSpace | None:
        """The space a stored version was fitted in; None when it has no scaler. A schema 1-2
        document had no transforms: the identity over the columns its scaler names."""
        if doc.scaler is None:
            return None
        columns = (
            tuple(doc.feature_space.features)
            if doc.feature_space is not None
            else tuple(c for c in FEATURE_COLUMNS if c in doc.scaler.mean)
            + tuple(c for c in doc.scaler.mean if c not in FEATURE_COLUMNS)
        )
        space = doc.feature_space
        return cls(
            columns=columns,
            mean=np.array([doc.scaler.mean[c] for c in columns], dtype=float),
            std=np.array([doc.scaler.std.get(c, 1.0) for c in columns], dtype=float),
            log1p=tuple(space.log1p) if space else (),
            shrinkage=dict(space.shrinkage) if space else {},
            left_out=dict(space.left_out) if space else {},
        )


def shrink(share: np.ndarray, events: np.ndarray, spec: Shrinkage) -> np.ndarray:
    """``(n * s + m * p) / (n + m)``: a share over few events moves toward the population's."""
    n = np.maximum(events, 0.0)
    m = spec.prior_events
    den = n + m
    safe = np.where(den > 0, den, 1.0)
    return np.where(den > 0, (n * share + m * spec.prior_share) / safe, spec.prior_share)


def uninformative(values: np.ndarray, sparse_share: float) -> str | None:
    """Why a feature carries no information for this run (None: it does)."""
    if len(values) == 0:
        return "no users"
    if np.ptp(values) == 0:
        return f"zero variance (every user has {values[0]:g})"
    zeros = float(np.mean(values == 0))
    if zeros >= sparse_share:
        return f"zero for {zeros:.1%} of users (>= {sparse_share:.0%})"
    return None


def fit_space(
    frame: pd.DataFrame, params: SpaceParams, columns: Sequence[str] = FEATURE_COLUMNS
) -> tuple[FeatureSpace, list[str]]:
    """The space of this run's users (``frame`` in id order), and notes for the report (e.g.
    shares left unshrunk because the features lack their counts)."""
    notes: list[str] = []
    left_out: dict[str, str] = {}
    kept: list[str] = []
    for c in columns:
        why = uninformative(frame[c].to_numpy(dtype=float), params.sparse_share)
        if why is None:
            kept.append(c)
        else:
            left_out[c] = why
    if not kept:
        raise ValueError(
            "every feature is uninformative for these users ("
            + "; ".join(f"{c}: {w}" for c, w in left_out.items())
            + "); expected at least one that varies"
        )
    shrinkage: dict[str, Shrinkage] = {}
    unshrunk: list[str] = []
    if params.shrink_events > 0:
        for c in kept:
            count = SHARE_COUNTS.get(c)
            if count is None:
                continue
            if count not in frame.columns:
                unshrunk.append(c)
                continue
            n = np.maximum(frame[count].to_numpy(dtype=float), 0.0)
            total = float(n.sum())
            pooled = float((n * frame[c].to_numpy(dtype=float)).sum() / total) if total else 0.0
            shrinkage[c] = Shrinkage(
                count=count, prior_events=params.shrink_events, prior_share=round(pooled, 12)
            )
    if unshrunk:
        notes.append(
            f"{', '.join(unshrunk)} not shrunk toward the population: the features carry no "
            "event counts (written before them; re-run the features step)"
        )
    draft = FeatureSpace(
        columns=tuple(kept),
        mean=np.zeros(len(kept)),
        std=np.ones(len(kept)),
        log1p=tuple(c for c in kept if c in params.log_features),
        shrinkage=shrinkage,
        left_out=left_out,
    )
    x = draft.unscaled(frame)
    if len(x) < 2:
        mean, std = x.mean(axis=0), np.zeros(x.shape[1])
    else:
        mean, std = x.mean(axis=0), x.std(axis=0, ddof=1)
    return FeatureSpace(
        columns=draft.columns,
        mean=mean,
        std=std,
        log1p=draft.log1p,
        shrinkage=shrinkage,
        left_out=left_out,
    ), notes
