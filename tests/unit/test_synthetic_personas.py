"""Personas differ in the 12 features enough for K-Means to find them (ARI >= 0.6 at k = 5..6)."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from segmentation_local.synthetic import DefectRates, GenerateParams, generate
from segmentation_local.synthetic.personas import PERSONA_NAMES
from segmentation_local.synthetic.reference_features import FEATURE_COLUMNS, compute_features

PARAMS = GenerateParams(users=5000, seed=42, defects=DefectRates.none())


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    ds = generate(PARAMS)
    f = compute_features(
        ds.events.to_pandas(), ds.catalog.to_pandas(), PARAMS.window_end, PARAMS.days
    )
    labels = ds.labels.to_pandas().set_index("user_id")["persona"]
    return f.join(labels, how="inner")


def test_every_user_has_features_and_personas_are_not_tiny(features: pd.DataFrame) -> None:
    assert len(features) == PARAMS.users
    shares = features["persona"].value_counts(normalize=True)
    assert set(shares.index) == set(PERSONA_NAMES) and len(PERSONA_NAMES) >= 5
    assert shares.min() >= 0.08


def test_each_persona_stands_out_in_its_signature_features(features: pd.DataFrame) -> None:
    means = features.groupby("persona")[list(FEATURE_COLUMNS)].mean()
    top = {
        "binge_watcher": ["avg_session_minutes", "completion_rate", "active_days"],
        "weekend_casual": ["weekend_share"],
        "high_spender": ["monetary", "banner_ctr"],
        "lapsed_churn_risk": ["recency_days"],
        "searcher_browser": ["searches_per_session", "unique_genres"],
        "morning_commuter": ["morning_share"],
    }
    for persona, columns in top.items():
        for col in columns:
            assert means[col].idxmax() == persona, (col, means[col].sort_values())
    assert means["completion_rate"].idxmin() == "searcher_browser"
    assert means["active_days"].idxmin() == "lapsed_churn_risk"
    # Differences are large against the spread inside a persona, not just in the mean.
    sd = features.groupby("persona")[list(FEATURE_COLUMNS)].std()
    for persona, columns in top.items():
        for col in columns:
            others = means[col].drop(persona).max()
            assert means.loc[persona, col] - others > 0.5 * sd.loc[persona, col], (persona, col)


@pytest.mark.parametrize("k", [5, 6])
def test_kmeans_on_scaled_features_recovers_personas(features: pd.DataFrame, k: int) -> None:
    x = StandardScaler().fit_transform(features[list(FEATURE_COLUMNS)].to_numpy())
    found = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(x)
    ari = adjusted_rand_score(features["persona"], found)
    assert ari >= 0.6, ari
