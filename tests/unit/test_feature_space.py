"""The feature space of a run: uninformative features left out with the reason, shares from few
events shrunk, heavy tails log1p-transformed, all of it reproduced from the model document."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.model_document import ModelDocument, Scaler
from segmentation.pipeline.feature_space import FeatureSpace, SpaceParams, fit_space, shrink
from segmentation.pipeline.features import COUNT_COLUMNS, FEATURE_COLUMNS

COLS = list(FEATURE_COLUMNS)


def purchase_like(n: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Purchase-only users: money and visits vary, the viewing features are empty."""
    rng = np.random.default_rng(seed)
    purchases = rng.geometric(0.4, n).astype(float)
    frame = pd.DataFrame(0.0, index=range(n), columns=[*COLS, *COUNT_COLUMNS])
    frame["recency_days"] = rng.uniform(0, 90, n)
    frame["frequency"] = purchases
    frame["active_days"] = purchases
    frame["monetary"] = purchases * rng.lognormal(3, 1.2, n)  # heavy-tailed
    frame["n_events"] = purchases
    weekend = rng.binomial(purchases.astype(int), 2 / 7)
    frame["weekend_share"] = weekend / purchases
    frame["searches_per_session"] = np.where(rng.random(n) < 0.02, 1.0, 0.0)  # 98 % zero
    frame["unique_genres"] = 3.0  # constant
    return frame


def test_empty_features_are_left_out_with_the_reason() -> None:
    space, notes = fit_space(purchase_like(), SpaceParams())
    assert space.columns == (
        "recency_days",
        "frequency",
        "monetary",
        "weekend_share",
        "active_days",
    )
    assert space.left_out["unique_genres"] == "zero variance (every user has 3)"
    assert space.left_out["searches_per_session"].startswith("zero for 98.")
    assert space.left_out["avg_session_minutes"] == "zero variance (every user has 0)"
    assert set(space.left_out) == set(COLS) - set(space.columns)
    assert notes == []  # the counts are there: every kept share is shrunk
    assert set(space.shrinkage) == {"weekend_share"}
    # a looser threshold keeps the 98 %-zero feature
    loose, _ = fit_space(purchase_like(), SpaceParams(sparse_share=0.99))
    assert "searches_per_session" in loose.columns


def test_one_saturday_purchase_does_not_make_a_weekend_customer() -> None:
    frame = purchase_like()
    space, _ = fit_space(frame, SpaceParams(shrink_events=10))
    spec = space.shrinkage["weekend_share"]
    pooled = (frame["n_events"] * frame["weekend_share"]).sum() / frame["n_events"].sum()
    assert spec.prior_share == pytest.approx(pooled) and 0.2 < pooled < 0.37
    one = shrink(np.array([1.0]), np.array([1.0]), spec)[0]
    assert one == pytest.approx((1 + 10 * pooled) / 11) and one < 0.45
    many = shrink(np.array([1.0]), np.array([300.0]), spec)[0]
    assert many > 0.97  # a share over many events barely moves
    off, _ = fit_space(frame, SpaceParams(shrink_events=0))
    assert off.shrinkage == {}


def test_heavy_tails_are_log_transformed_and_the_document_reproduces_the_space() -> None:
    frame = purchase_like()
    space, _ = fit_space(frame, SpaceParams())
    assert space.log1p == ("frequency", "monetary", "active_days")
    x = space.transform(frame)
    np.testing.assert_allclose(x.mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(x.std(axis=0, ddof=1), 1, atol=1e-9)
    j = space.columns.index("monetary")
    logged = np.log1p(frame["monetary"])
    np.testing.assert_allclose(x[:, j], (logged - logged.mean()) / logged.std(ddof=1))
    # an extreme spender is a few sd out, not dozens: it cannot take a cluster of its own
    assert x[:, j].max() < 5
    raw_z = (frame["monetary"] - frame["monetary"].mean()) / frame["monetary"].std()
    assert raw_z.max() > 2 * x[:, j].max()

    doc = ModelDocument.model_construct(
        scaler=Scaler(
            mean=dict(zip(space.columns, space.mean.tolist(), strict=True)),
            std=dict(zip(space.columns, space.std.tolist(), strict=True)),
        ),
        feature_space=space.document(),
    )
    again = FeatureSpace.of_document(doc)
    assert again is not None and again.left_out == space.left_out
    np.testing.assert_allclose(again.transform(frame), x, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="lack column.*n_events"):
        again.transform(frame.drop(columns=["n_events"]))


def test_every_feature_empty_is_refused() -> None:
    frame = pd.DataFrame(0.0, index=range(10), columns=COLS)
    with pytest.raises(ValueError, match="every feature is uninformative"):
        fit_space(frame, SpaceParams())


def test_the_params_model_knows_every_feature() -> None:
    import typing

    from segmentation.pipeline.params import ClusterParams, FeatureName

    assert typing.get_args(FeatureName) == FEATURE_COLUMNS
    assert ClusterParams(log_features="none").log_features == []
    assert ClusterParams(log_features="monetary, frequency").log_features == [
        "monetary",
        "frequency",
    ]
