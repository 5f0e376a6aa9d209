"""PSI per feature against the previous version's decile bins (numpy only)."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation.pipeline.drift import _shares, feature_bins, psi

COLS = ["a", "b"]


def test_bins_are_deciles_and_ties_merge() -> None:
    rng = np.random.default_rng(1)
    x = np.column_stack([rng.normal(size=5000), rng.integers(0, 3, size=5000).astype(float)])
    bins = feature_bins(x, COLS)
    assert len(bins["a"].edges) == 9 and bins["a"].shares == pytest.approx([0.1] * 10, abs=1e-3)
    assert len(bins["b"].edges) < 9  # three values: tied deciles merged, no empty bins
    assert sum(bins["b"].shares) == pytest.approx(1.0)


def test_psi_is_zero_for_the_same_population_and_large_for_a_shift() -> None:
    rng = np.random.default_rng(2)
    before = rng.normal(size=(20000, 2))
    bins = feature_bins(before, COLS)
    same = feature_bins(rng.normal(size=(20000, 2)), COLS)  # a fresh draw: sampling noise only
    assert psi(bins["a"].shares, bins["a"].shares) == 0.0
    assert psi(bins["a"].shares, same["a"].shares) < 0.01

    shifted = rng.normal(loc=1.0, size=20000)
    assert psi(bins["a"].shares, _shares(shifted, bins["a"].edges)) > 0.25
