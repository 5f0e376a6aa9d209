"""Feature drift between model versions: the population stability index (PSI) per feature.

Each model version stores, per feature, the decile edges of its users' *scaled* values and the
share of users in each bin (:func:`feature_bins`). The next version's users are read in that
previous model's scale and binned by its edges; PSI compares the two shares bin by bin:
``sum((a - e) * ln(a / e))`` (shares floored at 1e-4, so an empty bin counts without being
infinite). Rule of thumb: < 0.1 stable, 0.1-0.25 moderate, > 0.25 a shift worth acting on.

A feature with few distinct values (e.g. unique_genres) has tied deciles: duplicate edges are
merged, so it has fewer, wider bins rather than empty ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from segmentation.model_document import FeatureBins, ModelDocument

BINS = 10
FLOOR = 1e-4


def _shares(values: np.ndarray, edges: Sequence[float]) -> list[float]:
    index = np.searchsorted(np.asarray(edges, dtype=float), values, side="right")
    counts = np.bincount(index, minlength=len(edges) + 1)
    return (counts / max(1, len(values))).round(8).tolist()


def feature_bins(
    x_scaled: np.ndarray, columns: Sequence[str], bins: int = BINS
) -> dict[str, FeatureBins]:
    """Decile edges and shares of every feature of a model's users (scaled values)."""
    out = {}
    qs = np.linspace(0, 1, bins + 1)[1:-1]
    for j, c in enumerate(columns):
        col = x_scaled[:, j]
        edges = np.unique(np.quantile(col, qs)).round(10).tolist() if len(col) else []
        out[c] = FeatureBins(edges=edges, shares=_shares(col, edges))
    return out


def psi(expected: Sequence[float], actual: Sequence[float], floor: float = FLOOR) -> float:
    e = np.maximum(np.asarray(expected, dtype=float), floor)
    a = np.maximum(np.asarray(actual, dtype=float), floor)
    return float(np.sum((a - e) * np.log(a / e)))


def feature_psi(
    previous: ModelDocument, raw: np.ndarray, columns: Sequence[str]
) -> dict[str, float]:
    """PSI of every feature the previous version has bins for: this version's users (``raw``,
    original units) in the previous model's scale and bins."""
    if previous.scaler is None or not previous.feature_bins:
        return {}
    out = {}
    for j, c in enumerate(columns):
        bins = previous.feature_bins.get(c)
        if bins is None or c not in previous.scaler.mean:
            continue
        std = previous.scaler.std.get(c, 1.0) or 1.0
        scaled = (raw[:, j] - previous.scaler.mean[c]) / std
        out[c] = round(psi(bins.shares, _shares(scaled, bins.edges)), 6)
    return out
