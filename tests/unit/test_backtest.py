"""The backtest's figures: outcomes of the horizon, RFM cells, out-of-sample variance explained."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.pipeline.backtest import (
    backtest,
    group_table,
    outcomes,
    report,
    rfm_cells,
    variance_explained,
)


def test_outcomes_of_the_horizon() -> None:
    users = pd.Index(["a", "b", "c"])
    events = pd.DataFrame(
        {
            "user_anon_id": ["a", "a", "b", "z"],
            "event_type": ["play", "purchase", "search", "purchase"],
            "amount": [None, 7.5, None, 99.0],
        }
    )
    out = outcomes(users, events)
    assert out.loc["a"].to_dict() == {
        "came_back": 1.0,
        "bought_again": 1.0,
        "spend": 7.5,
        "churned": 0.0,
    }
    assert out.loc["b", "bought_again"] == 0 and out.loc["b", "came_back"] == 1
    assert out.loc["c"].to_dict() == {
        "came_back": 0.0,
        "bought_again": 0.0,
        "spend": 0.0,
        "churned": 1.0,
    }


def test_rfm_cells_score_recent_frequent_big_spenders_5() -> None:
    f = pd.DataFrame(
        {
            "recency_days": np.arange(10.0),
            "frequency": np.arange(10.0),
            "monetary": np.arange(10.0)[::-1],
        }
    )
    cells = rfm_cells(f)
    assert cells.iloc[0] == "R5F1M5" and cells.iloc[9] == "R1F5M1"
    assert cells.nunique() == 5


def test_more_groups_earn_no_free_credit_out_of_sample() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    kind = rng.integers(0, 3, n)
    y = pd.Series((rng.random(n) < np.array([0.1, 0.4, 0.8])[kind]).astype(float))
    true_groups = pd.Series(kind)
    noise_groups = pd.Series(rng.integers(0, 125, n))
    r2_true = variance_explained(true_groups, y)
    r2_noise = variance_explained(noise_groups, y)
    assert r2_true == pytest.approx(0.32, abs=0.05)  # the groups' means differ a lot
    assert r2_noise < 0.005  # 125 random cells: nothing out of sample
    # in sample the random cells would have scored > 0
    in_sample = (
        1
        - ((y - y.groupby(noise_groups).transform("mean")) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    )
    assert in_sample > 0.02
    table = group_table(
        true_groups, pd.DataFrame({c: y for c in ["came_back", "bought_again", "spend", "churned"]})
    )
    assert table["bought_again_lift"].max() > 1.5 and table["users"].sum() == n


def test_a_backtest_compares_the_segments_with_the_rfm_cells() -> None:
    rng = np.random.default_rng(1)
    n = 3000
    ids = pd.Index([f"u{i}" for i in range(n)], name="user_anon_id")
    kind = rng.integers(0, 4, n)
    features = pd.DataFrame(
        {
            "recency_days": rng.uniform(0, 90, n),
            "frequency": rng.poisson(5, n).astype(float),
            "monetary": rng.lognormal(3, 1, n),
        },
        index=ids,
    )
    segments = pd.Series(np.array(["a", "b", "c", "d"])[kind], index=ids)
    buys = rng.random(n) < np.array([0.05, 0.3, 0.6, 0.9])[kind]
    events = pd.DataFrame({"user_anon_id": ids[buys], "event_type": "purchase", "amount": 10.0})
    result = backtest(features, segments, events, horizon_days=28)
    seg, rfm = result.groupings
    assert seg.groups == 4 and rfm.groups > 60
    assert seg.r2["bought_again"] > 0.3 > rfm.r2["bought_again"]
    text = report(result)
    assert "RFM 5x5x5" in text and "out-of-sample variance explained" in text
    with pytest.raises(ValueError, match="no user is in both"):
        backtest(features, segments.rename(lambda u: u + "x"), events, 28)


def test_the_figures_go_to_an_mlflow_run(tmp_path) -> None:
    import mlflow

    from segmentation.pipeline.backtest import log_to_mlflow

    rng = np.random.default_rng(2)
    ids = pd.Index([f"u{i}" for i in range(400)], name="user_anon_id")
    features = pd.DataFrame(
        {
            "recency_days": rng.uniform(0, 90, 400),
            "frequency": rng.poisson(4, 400).astype(float),
            "monetary": rng.lognormal(3, 1, 400),
        },
        index=ids,
    )
    segments = pd.Series(np.where(features["frequency"] > 4, "repeat", "rare"), index=ids)
    events = pd.DataFrame(
        {"user_anon_id": ids[features["frequency"] > 5], "event_type": "purchase", "amount": 5.0}
    )
    result = backtest(features, segments, events, 28)
    uri = f"sqlite:///{tmp_path}/m.db"
    run_id = log_to_mlflow(result, uri, "bt", "kmeans-v1", "2026-09-30")
    run = mlflow.MlflowClient(uri).get_run(run_id)
    assert run.data.tags["model_version"] == "kmeans-v1" and run.data.tags["kind"] == "backtest"
    seg = result.groupings[0].r2["bought_again"]
    assert run.data.metrics["r2_segments_bought_again"] == pytest.approx(seg)
    assert "r2_rfm_spend" in run.data.metrics and run.data.metrics["groups_segments"] == 2
