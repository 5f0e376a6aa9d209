"""Clustering rules without Spark: knee, k choice, sampled DBSCAN, metrics, names, model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import DBSCAN
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

from segmentation.pipeline.clustering import (
    NOISE,
    choose_eps,
    choose_k,
    fit_dbscan,
    k_distance_eps,
    knee,
    metrics,
)
from segmentation.pipeline.features import FEATURE_COLUMNS
from segmentation.pipeline.model import SegmentModel
from segmentation.pipeline.profiles import NOISE_NAME, actions_for, build_profiles, name_segments

COLS = list(FEATURE_COLUMNS)


def blobs(n_per: int, centres: np.ndarray, scale: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = np.vstack([c + scale * rng.standard_normal((n_per, centres.shape[1])) for c in centres])
    return x, np.repeat(np.arange(len(centres)), n_per)


def test_knee_of_an_elbow_curve_and_of_an_increasing_curve():
    ks = [2, 3, 4, 5, 6, 7, 8]
    cost = [1000, 600, 250, 220, 200, 185, 175]  # bends at 4
    assert ks[knee(ks, cost, increasing=False)] == 4
    curve = np.r_[np.linspace(0.1, 0.3, 90), np.linspace(0.4, 3.0, 10)]  # bends near 90
    assert 85 <= knee(np.arange(100), curve, increasing=True) <= 91


def test_choose_k_prefers_the_elbow_unless_its_silhouette_is_clearly_worse():
    ks = [2, 3, 4, 5, 6]
    cost = [1000, 600, 250, 220, 200]
    agree = choose_k(ks, cost, [0.3, 0.4, 0.55, 0.56, 0.5])
    assert agree.k == 4 and agree.elbow_k == 4 and agree.silhouette_k == 5
    disagree = choose_k(ks, cost, [0.3, 0.4, 0.35, 0.6, 0.5])
    assert disagree.k == 5 and disagree.elbow_k == 4


def test_sampled_dbscan_extends_the_sample_clusters_and_flags_noise():
    centres = np.array([[0.0, 0.0], [5.0, 5.0], [0.0, 6.0]])
    x, truth = blobs(300, centres, 0.3)
    rng = np.random.default_rng(1)
    sample = x[rng.choice(len(x), 300, replace=False)]
    eps, curve = k_distance_eps(sample, 10)
    assert 0 < eps < 2.0 and np.all(np.diff(curve) >= 0)
    model = fit_dbscan(sample, eps, 10)
    assert model.n_clusters == 3
    labels = model.assign(x)
    # the same partition as the truth, up to naming
    pairs = set(zip(truth[labels != NOISE], labels[labels != NOISE], strict=True))
    assert len(pairs) == 3
    far = model.assign(np.array([[50.0, 50.0]]))
    assert far[0] == NOISE
    # on the sample, core points keep DBSCAN's own labels
    ref = DBSCAN(eps=eps, min_samples=10).fit(sample)
    core = ref.core_sample_indices_
    np.testing.assert_array_equal(model.assign(sample[core]), ref.labels_[core])


def test_the_sampled_silhouette_is_of_the_head_rows_whatever_the_order_of_the_rest():
    """The rows come in the fit's seeded content order: the silhouette of its head does not
    move when one user lands a row further down (a feature on a rounding edge), which shifted
    every position of scikit-learn's positional draw and moved the printed silhouette."""
    x, labels = blobs(400, np.array([[0.0, 0], [3, 3], [0, 4]]), 0.9)
    order = np.random.default_rng(1).permutation(len(x))
    x, labels = x[order], labels[order]
    head = silhouette_score(x[:300], labels[:300])
    assert metrics(x, labels, silhouette_sample=300, seed=0)["silhouette"] == pytest.approx(head)
    moved = np.r_[np.arange(300), len(x) - 1, np.arange(300, len(x) - 1)]  # last row moves up
    assert metrics(x[moved], labels[moved], 300, 0)["silhouette"] == pytest.approx(head)
    draw = silhouette_score(x, labels, sample_size=300, random_state=0)
    assert silhouette_score(x[moved], labels[moved], sample_size=300, random_state=0) != draw


def test_metrics_are_sklearns_on_non_noise_rows():
    x, labels = blobs(50, np.array([[0.0, 0], [3, 3], [0, 4]]), 0.5)
    labels = labels.copy()
    labels[:5] = NOISE
    m = metrics(x, labels, silhouette_sample=10_000, seed=0)
    keep = labels != NOISE
    assert m["silhouette"] == pytest.approx(silhouette_score(x[keep], labels[keep]))
    assert m["calinski_harabasz"] == pytest.approx(calinski_harabasz_score(x[keep], labels[keep]))
    assert m["davies_bouldin"] == pytest.approx(davies_bouldin_score(x[keep], labels[keep]))
    assert m["noise_share"] == pytest.approx(5 / 150)
    one = metrics(x, np.zeros(len(x), dtype=int), 100, 0)
    assert one["silhouette"] is None and one["n_clusters"] == 1


def _z(**kw: float) -> dict[str, float]:
    return {c: kw.get(c, 0.0) for c in COLS}


def test_names_follow_the_profile_rules_and_a_second_one_takes_its_next_trait():
    names = name_segments(
        {
            0: _z(monetary=2.0, frequency=1.0, recency_days=-0.5),
            1: _z(recency_days=1.5, frequency=-1.0),
            2: _z(weekend_share=1.2, active_days=-0.5),
            3: _z(avg_session_minutes=1.0, completion_rate=0.5),
            4: _z(avg_session_minutes=3.0, evening_share=0.9),
            5: _z(searches_per_session=1.4, banner_ctr=0.8),
            6: _z(),
            7: _z(monetary=0.9, banner_ctr=2.0, evening_share=0.7),
            8: _z(avg_session_minutes=2.0, completion_rate=0.3),
            9: _z(morning_share=0.2),
            NOISE: _z(recency_days=3.0),
        },
        sizes={3: 9000, 4: 1400, 0: 2700, 6: 5000, 7: 3500, 8: 100, 9: 50},
    )
    assert names[0][0] == "loyal high-value"
    assert names[7][0] == "banner responsive"  # its strongest trait, not its spend
    assert names[1][0] == "at-risk / lapsed"
    assert names[2][0] == "weekend casual"
    # the larger binge cluster keeps the plain name; the smaller takes its next rule ...
    assert names[3][0] == "binge watcher" and names[4][0] == "prime-time regular"
    # ... or, with none left, its rule qualified by its next distinguishing trait
    assert names[8][0] == "binge watcher (finishes titles)"
    assert names[5][0] == "browser / searcher"
    assert names[6][0] == "mainstream" and names[9][0] == "mainstream (mornings)"
    assert names[NOISE][0] == NOISE_NAME
    assert not any(ch.isdigit() for name, _ in names.values() for ch in name)
    assert actions_for("binge watcher (finishes titles)") == actions_for("binge watcher")


def test_profiles_have_original_units_and_z_scores():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.uniform(1, 2, size=(200, len(COLS))), columns=COLS)
    labels = np.repeat([0, 1], 100)
    df.loc[labels == 1, "monetary"] += 50.0
    profiles = build_profiles(df, labels, COLS)
    assert [p.size for p in profiles] == [100, 100]
    rich = next(p for p in profiles if p.segment_id == 1)
    assert rich.means["monetary"] == pytest.approx(df["monetary"][labels == 1].mean(), rel=1e-5)
    assert rich.z_scores["monetary"] > 0.9 and rich.name == "loyal high-value"
    assert rich.actions


def test_segment_model_reproduces_nearest_centre_and_refuses_missing_columns():
    centers = np.zeros((2, len(COLS)))
    centers[1, 2] = 3.0
    model = SegmentModel(
        "kmeans", COLS, np.zeros(len(COLS)), np.ones(len(COLS)), {0: "a", 1: "b"}, centers=centers
    )
    x = pd.DataFrame(np.zeros((2, len(COLS))), columns=COLS)
    x.loc[1, COLS[2]] = 2.9
    out = model.predict(x)
    assert out["segment_id"].tolist() == [0, 1] and out["segment_name"].tolist() == ["a", "b"]
    with pytest.raises(ValueError, match="features lack column"):
        model.predict(x.drop(columns=[COLS[0]]))


def test_choose_eps_picks_a_curve_point_that_separates_the_blobs():
    centres = np.array([[0.0, 0.0], [4.0, 4.0], [0.0, 5.0], [5.0, 0.0]])
    x, truth = blobs(150, centres, 0.4, seed=3)
    model, rows, _curve = choose_eps(x, 10, 2000, 0)
    assert model.eps in {r["eps"] for r in rows}
    assert any(r["is_knee"] for r in rows) and len(rows) >= 5
    best = max(rows, key=lambda r: r["score"])
    assert best["eps"] == model.eps and best["n_clusters"] == 4
    labels = model.assign(x)
    assert (labels == NOISE).mean() < 0.2
    assert len(set(zip(truth[labels != NOISE], labels[labels != NOISE], strict=True))) == 4
