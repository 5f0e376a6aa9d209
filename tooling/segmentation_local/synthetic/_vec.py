"""Small vectorised helpers for ragged groups (rows grouped contiguously by a parent index).

The generator never loops per event or per user; these helpers express "for each session, do X
over its events" as whole-array numpy operations.
"""

from __future__ import annotations

import numpy as np


def group_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Inclusive cumulative sum restarting at each group (contiguous runs of ``counts`` rows)."""
    if values.size == 0:
        return values.astype(np.float64)
    cs = np.cumsum(values, dtype=np.float64)
    ends = np.cumsum(counts)
    begins = ends - counts
    base = np.concatenate(([0.0], cs))[begins]
    return cs - np.repeat(base, counts)


def first_of_group(counts: np.ndarray) -> np.ndarray:
    """Index of each group's first row (meaningful only where ``counts > 0``)."""
    return np.cumsum(counts) - counts


def sample_rows(cdf: np.ndarray, row: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Draw a column per entry from per-row CDFs: entry i uses ``cdf[row[i]]`` and uniform ``u[i]``.

    Offsetting every row's CDF by its row number makes one global ``searchsorted`` serve all rows.
    """
    n_rows, n_cols = cdf.shape
    flat = (cdf + np.arange(n_rows, dtype=np.float64)[:, None]).ravel()
    pos = np.searchsorted(flat, row.astype(np.float64) + u, side="right")
    return np.clip(pos - row.astype(np.int64) * n_cols, 0, n_cols - 1)


def cdf_of(weights: np.ndarray) -> np.ndarray:
    """Row-wise CDF of non-negative weights, last column exactly 1."""
    w = np.asarray(weights, dtype=np.float64)
    c = np.cumsum(w, axis=-1)
    c = c / c[..., -1:]
    c[..., -1] = 1.0
    return c
