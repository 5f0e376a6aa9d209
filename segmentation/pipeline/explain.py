"""Why this user is in this segment: the two or three features that drive the assignment.

For a user of a segment with a centre, the squared distance to the nearest *other* segment's
centre minus the squared distance to its own splits into one term per feature (in the model's
scaled space): ``(x_j - other_j)^2 - (x_j - own_j)^2``. The largest positive terms are what keeps
the user on this side of the boundary (for K-Means, exactly the nearest-centre rule's margin;
for DBSCAN the segments' centres are their members' means). A noise user, or the only segment,
has no boundary: the features on which the user stands out most (largest |z|) explain it.

Each reason is stored with the user's own value and the population's average, in original units
(``{"feature", "value", "mean"}``); the API turns them into sentences
(:mod:`segmentation.serving.reasons`). Features left out of the run's model are never reasons.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd

from segmentation.pipeline.clustering import NOISE

#: Reasons kept per user: the largest contributions, at most this many.
TOP = 3
#: Rows per block of the distance computation (memory: rows x centres x features doubles).
BLOCK = 50_000


def driving_features(
    x: np.ndarray,
    labels: np.ndarray,
    centres: np.ndarray,
    centre_ids: Sequence[int],
    top: int = TOP,
) -> list[list[int]]:
    """Per user, the column indexes of the features driving its assignment, strongest first."""
    out: list[list[int]] = []
    row_of = {int(s): i for i, s in enumerate(centre_ids)}
    for start in range(0, len(x), BLOCK):
        xb, lb = x[start : start + BLOCK], labels[start : start + BLOCK]
        own = np.array([row_of.get(int(s), -1) for s in lb])
        if len(centres) >= 2:
            d = (xb[:, None, :] - centres[None, :, :]) ** 2
            total = d.sum(axis=2)
            masked = total.copy()
            rows = np.arange(len(xb))
            has = own >= 0
            masked[rows[has], own[has]] = np.inf
            other = masked.argmin(axis=1)
            contrib = d[rows, other, :] - d[rows, np.maximum(own, 0), :]
        else:
            has = np.zeros(len(xb), dtype=bool)
            contrib = np.zeros_like(xb)
        # a user with a boundary: its margin's terms; else (noise, one segment) its |z|
        score = np.where(has[:, None], contrib, np.abs(xb))
        order = np.argsort(-score, axis=1, kind="stable")[:, :top]
        keep = np.take_along_axis(score, order, axis=1) > 0
        out += [row[k].tolist() for row, k in zip(order, keep, strict=True)]
    return out


def reasons_json(
    frame: pd.DataFrame,
    x: np.ndarray,
    labels: np.ndarray,
    columns: Sequence[str],
    centres: np.ndarray,
    centre_ids: Sequence[int],
    means: np.ndarray | None = None,
) -> list[str]:
    """Per user (rows of ``frame``, original units), the JSON list of its reasons. ``means``:
    the population's averages the values are told against (default: ``frame``'s own; a few
    users assigned between runs are told against the version's users)."""
    raw = frame[list(columns)].to_numpy(dtype=float)
    if means is None:
        means = raw.mean(axis=0) if len(raw) else np.zeros(len(columns))
    picks = driving_features(x, np.asarray(labels), centres, centre_ids)
    out = []
    for i, order in enumerate(picks):
        out.append(
            json.dumps(
                [
                    {
                        "feature": columns[j],
                        "value": round(float(raw[i, j]), 4),
                        "mean": round(float(means[j]), 4),
                    }
                    for j in order
                ],
                separators=(",", ":"),
            )
        )
    return out


def segment_centres(
    labels: np.ndarray, x: np.ndarray, kmeans_centres: np.ndarray | None
) -> tuple[np.ndarray, list[int]]:
    """The centres the reasons are measured against: the K-Means centres (segment i is row i),
    else each non-noise segment's mean."""
    if kmeans_centres is not None:
        return kmeans_centres, list(range(len(kmeans_centres)))
    ids = sorted(int(s) for s in np.unique(labels) if s != NOISE)
    if not ids:
        return np.empty((0, x.shape[1])), []
    return np.array([x[labels == s].mean(axis=0) for s in ids]), ids
