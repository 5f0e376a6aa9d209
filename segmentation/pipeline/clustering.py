"""Clustering maths that does not need Spark: knee finding, the choice of k, DBSCAN fitted on a
sample and extended to everyone, and the quality metrics (scikit-learn's own implementations).

Kept apart from the Spark step so each rule is unit-tested on small arrays and reused by the
benchmarks at 500k users.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.cluster import DBSCAN
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.neighbors import NearestNeighbors

NOISE = -1


def knee(x: Sequence[float], y: Sequence[float], increasing: bool) -> int:
    """Index of the knee of a convex curve: the point farthest from the chord joining its ends
    once both axes are scaled to [0, 1] (the "kneedle" rule). Used for the elbow of the K-Means
    cost curve (decreasing) and the bend of the sorted k-distance curve (increasing)."""
    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y, dtype=float)
    if xs.size < 3:
        return 0
    xn = (xs - xs.min()) / (np.ptp(xs) or 1.0)
    yn = (ys - ys.min()) / (np.ptp(ys) or 1.0)
    gap = (xn - yn) if increasing else ((1.0 - xn) - yn)
    return int(np.argmax(gap))


@dataclass
class KChoice:
    k: int
    elbow_k: int
    silhouette_k: int
    rule: str


def choose_k(
    ks: Sequence[int], costs: Sequence[float], silhouettes: Sequence[float], tol: float = 0.02
) -> KChoice:
    """Elbow + silhouette: take the elbow of the cost curve when its silhouette is within ``tol``
    of the best silhouette of the sweep (the two agree), else the best-silhouette k (the cost
    curve's bend was ambiguous)."""
    ks = list(ks)
    sil = np.asarray(silhouettes, dtype=float)
    elbow_k = ks[knee(ks, costs, increasing=False)]
    best_k = ks[int(np.nanargmax(sil))]
    if sil[ks.index(elbow_k)] >= np.nanmax(sil) - tol:
        return KChoice(elbow_k, elbow_k, best_k, "elbow (silhouette within tolerance of best)")
    return KChoice(best_k, elbow_k, best_k, "best silhouette (elbow's silhouette too low)")


def k_distance_eps(x: np.ndarray, min_samples: int) -> tuple[float, np.ndarray]:
    """eps at the knee of the sorted distances to each point's ``min_samples``-th neighbour
    (itself included, as DBSCAN counts it), and that sorted curve."""
    k = min(min_samples, len(x) - 1)
    nn = NearestNeighbors(n_neighbors=k + 1).fit(x)
    dist, _ = nn.kneighbors(x)
    curve = np.sort(dist[:, k - 1] if k >= 1 else dist[:, 0])
    idx = knee(np.arange(curve.size), curve, increasing=True)
    return float(curve[idx]), curve


@dataclass
class DbscanModel:
    """DBSCAN fitted on a sample: its core points and their clusters, and the radius."""

    eps: float
    min_samples: int
    core_points: np.ndarray
    core_labels: np.ndarray
    sample_labels: np.ndarray
    _nn: NearestNeighbors | None = field(default=None, repr=False)

    @property
    def n_clusters(self) -> int:
        return int(np.unique(self.core_labels).size)

    def assign(self, x: np.ndarray) -> np.ndarray:
        """Cluster of the nearest core point when within eps, else noise (-1)."""
        if self.core_points.shape[0] == 0:
            return np.full(len(x), NOISE, dtype=np.int64)
        if self._nn is None:
            self._nn = NearestNeighbors(n_neighbors=1).fit(self.core_points)
        dist, idx = self._nn.kneighbors(x)
        labels = self.core_labels[idx[:, 0]]
        return np.where(dist[:, 0] <= self.eps, labels, NOISE).astype(np.int64)


def fit_dbscan(sample: np.ndarray, eps: float, min_samples: int) -> DbscanModel:
    db = DBSCAN(eps=eps, min_samples=min_samples, n_jobs=1).fit(sample)
    core = db.core_sample_indices_
    return DbscanModel(
        eps=eps,
        min_samples=min_samples,
        core_points=sample[core].copy(),
        core_labels=db.labels_[core].astype(np.int64),
        sample_labels=db.labels_.astype(np.int64),
    )


#: Quantiles of the k-distance curve tried as eps when none is given (plus the curve's knee).
EPS_QUANTILES: tuple[float, ...] = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def choose_eps(
    sample: np.ndarray, min_samples: int, silhouette_sample: int, seed: int
) -> tuple[DbscanModel, list[dict[str, float]], np.ndarray]:
    """eps from the k-distance curve: DBSCAN is fitted on the sample at the curve's knee and at
    its :data:`EPS_QUANTILES`; the eps with the best ``silhouette * (1 - noise share)`` wins
    (silhouette alone would reward declaring the hard half of the users noise; coverage alone
    would reward one giant cluster). Returns the winning model, the candidates' scores, and the
    curve."""
    knee_eps, curve = k_distance_eps(sample, min_samples)
    candidates = sorted({float(np.quantile(curve, q)) for q in EPS_QUANTILES} | {knee_eps})
    rows: list[dict[str, float]] = []
    best: tuple[float, DbscanModel] | None = None
    for eps in candidates:
        if eps <= 0:
            continue
        model = fit_dbscan(sample, eps, min_samples)
        scores = metrics(sample, model.sample_labels, min(silhouette_sample, 5000), seed)
        sil = scores["silhouette"]
        score = float(sil * (1.0 - scores["noise_share"])) if sil is not None else -1.0
        rows.append(
            {
                "eps": eps,
                "is_knee": float(eps == knee_eps),
                "n_clusters": scores["n_clusters"] or 0.0,
                "noise_share": scores["noise_share"] or 0.0,
                "silhouette": sil if sil is not None else float("nan"),
                "score": score,
            }
        )
        if best is None or score > best[0]:
            best = (score, model)
    assert best is not None, "the k-distance curve gave no positive eps"
    return best[1], rows, curve


def sampled_silhouette(x: np.ndarray, labels: np.ndarray, size: int, seed: int) -> float:
    """The silhouette of the first ``size`` rows (all of them below that).

    The fit's rows are in the seeded content order (``fit.content_order``), a random order
    already, so its head is a random sample whose members do not depend on positions:
    scikit-learn's ``sample_size`` draws positions, and one user placed one row further (a
    feature on a rounding edge) shifts every later position, so two deployments of one data set
    printed silhouettes 0.366 and 0.370 for the same clusters. Falls back to the positional
    draw when the head holds a single cluster."""
    if len(x) <= size:
        return float(silhouette_score(x, labels))
    if np.unique(labels[:size]).size > 1:
        return float(silhouette_score(x[:size], labels[:size]))
    return float(silhouette_score(x, labels, sample_size=size, random_state=seed))


def metrics(
    x: np.ndarray, labels: np.ndarray, silhouette_sample: int, seed: int
) -> dict[str, float | None]:
    """Silhouette (on at most ``silhouette_sample`` rows, exact below that:
    :func:`sampled_silhouette`), Calinski-Harabasz and Davies-Bouldin, all scikit-learn, on the
    non-noise rows. None when fewer than two clusters remain (the scores are undefined)."""
    keep = labels != NOISE
    xs, ls = x[keep], labels[keep]
    out: dict[str, float | None] = {
        "noise_share": float(1.0 - keep.mean()) if len(labels) else 0.0,
        "n_clusters": float(np.unique(ls).size),
    }
    if np.unique(ls).size < 2 or np.unique(ls).size >= len(ls):
        out.update(silhouette=None, calinski_harabasz=None, davies_bouldin=None)
        return out
    out["silhouette"] = sampled_silhouette(xs, ls, silhouette_sample, seed)
    out["calinski_harabasz"] = float(calinski_harabasz_score(xs, ls))
    out["davies_bouldin"] = float(davies_bouldin_score(xs, ls))
    return out
