"""The pure clustering fit on a plain local Spark: a DataFrame built in the test, no lake, no
MLflow. The s3a/moto/MLflow path of the same step is in tests/integration/pipeline."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from feature_blobs import COLS, blobs
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)
from sklearn.preprocessing import StandardScaler

from segmentation.model_document import ModelDocument

pytestmark = pytest.mark.spark

SHARES = {"completion_rate", "banner_ctr", "morning_share", "evening_share", "weekend_share"}
LOGGED = ["frequency", "monetary", "active_days"]
NAMES = {"loyal high-value", "at-risk / lapsed", "binge watcher", "browser / searcher"}


def blobs_by_user(per: int, seed: int = 0) -> tuple[pd.DataFrame, dict[str, int]]:
    df, truth = blobs(per, seed)
    return df, dict(zip(df["user_anon_id"], truth.tolist(), strict=True))


@pytest.fixture(scope="module")
def feats() -> tuple[pd.DataFrame, dict[str, int]]:
    return blobs_by_user(per=60)


@pytest.fixture(scope="module")
def auto_k(spark, feats):
    """One K-Means fit with auto k, shared: the sweep is the slow part."""
    from segmentation.pipeline.fit import fit

    result = fit(spark.createDataFrame(feats[0]), params(k_min=2, k_max=6))
    yield result
    result.release()


def params(**kw):
    from segmentation.pipeline.fit import FitParams

    return FitParams(**{"sample_size": 300, "silhouette_sample": 1000, **kw})


def assigned(result) -> tuple[pd.DataFrame, np.ndarray]:
    """Features and label per user, in a fixed order (the fit's own order is Spark's)."""
    out = result.labeled.toPandas().sort_values("user_anon_id").reset_index(drop=True)
    return out, out["prediction"].to_numpy()


def test_kmeans_with_auto_k_finds_the_four_behaviours(auto_k, feats) -> None:
    result, truth = auto_k, feats[1]
    assert result.params["k"] == 4 and result.params["k_mode"] == "auto"
    assert [r["k"] for r in result.k_sweep] == [2, 3, 4, 5, 6]
    assert result.centers is not None and result.centers.shape == (4, len(COLS))
    users, labels = assigned(result)
    assert adjusted_rand_score([truth[u] for u in users["user_anon_id"]], labels) > 0.95
    # the metrics are in the model's space: log1p of the heavy-tailed features, then scaled
    logged = users[COLS].assign(**{c: np.log1p(users[c]) for c in LOGGED})
    x = StandardScaler().fit_transform(logged)
    assert result.scores["silhouette"] == pytest.approx(silhouette_score(x, labels), rel=1e-6)
    assert result.scores["calinski_harabasz"] == pytest.approx(
        calinski_harabasz_score(x, labels), rel=1e-6
    )
    assert result.scores["davies_bouldin"] == pytest.approx(
        davies_bouldin_score(x, labels), rel=1e-6
    )
    assert {p.name for p in result.profiles} == NAMES
    assert all(p.size == 60 and p.share == 0.25 for p in result.profiles)
    # the model that is logged reproduces the fit's assignment from raw features
    pred = result.model.predict(users[COLS])  # the blobs carry no counts: nothing shrunk
    np.testing.assert_array_equal(pred["segment_id"].to_numpy(), labels)
    assert result.names == result.model.names


def test_kmeans_with_given_k_skips_the_sweep_and_release_frees_its_frames(spark, feats) -> None:
    from segmentation.pipeline.fit import fit

    result = fit(spark.createDataFrame(feats[0]), params(k=3))
    assert result.labeled.is_cached
    result.release()
    assert not result.labeled.is_cached
    assert result.params["k"] == 3 and result.params["k_mode"] == "given"
    assert result.k_sweep == [] and len(result.profiles) == 3
    assert result.n_users == 240 and len(result.labels) == 240


def test_dbscan_with_auto_eps_separates_the_blobs_and_flags_far_users(spark, feats) -> None:
    from segmentation.pipeline.fit import fit

    df, truth = feats
    # far from every blob, within what the features can be (a share is at most 1)
    far = pd.DataFrame(
        [{"user_anon_id": "f" * 64, **{c: 1.0 if c in SHARES else 1e3 for c in COLS}}]
    )
    result = fit(spark.createDataFrame(pd.concat([df, far])), params(algorithm="dbscan"))
    result.release()
    assert result.params["eps_mode"].startswith("k-distance curve")
    assert result.params["eps"] == result.dbscan.eps > 0
    assert result.eps_sweep and result.k_distance["eps"] == result.params["eps"]
    users, labels = assigned(result)
    assert labels[users["user_anon_id"] == "f" * 64].tolist() == [-1]
    kept = users["user_anon_id"] != "f" * 64
    assert result.scores["noise_share"] < 0.1
    members = labels[kept.to_numpy()] != -1
    ids = users["user_anon_id"][kept][members]
    assert adjusted_rand_score([truth[u] for u in ids], labels[kept.to_numpy()][members]) > 0.95
    assert next(p for p in result.profiles if p.segment_id == -1).name == "unassigned (noise)"


def test_too_few_users_are_refused_naming_the_source(spark, feats) -> None:
    from segmentation.pipeline.fit import fit

    few = spark.createDataFrame(feats[0].head(3))
    with pytest.raises(ValueError, match="3 users in s3://x/f; expected at least 5 for kmeans"):
        fit(few, params(k=4), "s3://x/f")
    with pytest.raises(ValueError, match="3 users in the features; expected at least 24"):
        fit(few, params(algorithm="dbscan", min_samples=24))


def test_params_are_read_from_the_step_parameters() -> None:
    from segmentation.pipeline.fit import FitParams

    given = dict(
        algorithm="dbscan",
        k=None,
        k_min=3,
        k_max=9,
        eps=0.7,
        min_samples=12,
        sample_size=500,
        silhouette_sample=400,
        seed=7,
    )
    extra = {"lake_prefix": "p", "run_id": "r"}  # the step's other arguments are ignored
    assert FitParams.from_args(SimpleNamespace(**given, **extra)) == FitParams(**given)
    assert FitParams(k=None, k_min=5).min_users() == 6
    assert FitParams(algorithm="dbscan", min_samples=9).min_users() == 9


def test_the_document_of_a_fit_validates_and_reads_back(auto_k) -> None:
    from segmentation.pipeline.cluster_outputs import build_document

    result = auto_k
    doc = build_document(
        result,
        params={"algorithm": "kmeans", "snapshot_date": "2026-09-30", **result.params},
        model_version="kmeans-r1",
        snapshot_date=date(2026, 9, 30),
        pipeline_run_id="r1",
        mlflow_run_id="m1",
        registered_model=None,
    )
    assert ModelDocument.from_json(doc.to_json(), "here") == doc
    assert [s.name for s in doc.segments] == [p.name for p in result.profiles]
    assert [f.name for f in doc.features] == COLS
    assert [r.k for r in doc.k_sweep] == [2, 3, 4, 5, 6]


@pytest.mark.parametrize("algorithm", ["kmeans", "dbscan"])
def test_the_fit_does_not_depend_on_the_layout(spark, algorithm) -> None:
    """The same features, partitioned and ordered three ways, give the same labels, centres and
    metrics: the fit sees the users in id order, whatever the lake's layout."""
    from pyspark.sql import functions as F

    from segmentation.pipeline.fit import fit

    df, _ = blobs_by_user(per=50, seed=4)
    base = spark.createDataFrame(df)
    layouts = [base, base.repartition(5), base.orderBy(F.rand(9)).coalesce(2)]
    kw = {"k": 4} if algorithm == "kmeans" else {"eps": None}
    results = [fit(layout, params(algorithm=algorithm, **kw)) for layout in layouts]
    try:
        _, labels = assigned(results[0])
        for other in results[1:]:
            _, other_labels = assigned(other)
            assert np.array_equal(other_labels, labels)
            assert other.scores == results[0].scores
            if algorithm == "kmeans":
                np.testing.assert_allclose(other.centers, results[0].centers, rtol=0, atol=1e-9)
            np.testing.assert_allclose(other.mean, results[0].mean, rtol=0, atol=1e-12)
        assert len(set(labels)) >= 3
    finally:
        for r in results:
            r.release()


def test_the_fit_does_not_depend_on_the_pseudonymisation_key(spark) -> None:
    """The same users under other pseudonyms (another deployment's HMAC key) get the same
    sample, sweep, k, centres and segments: two fresh demos of one data set chose k = 7 and 6
    when the sample followed the ids."""
    import hashlib

    from segmentation.pipeline.fit import fit

    df, _ = blobs_by_user(per=60, seed=5)
    renamed = df.assign(
        user_anon_id=[hashlib.sha256(u.encode()).hexdigest() for u in df["user_anon_id"]]
    )
    kw = {"sample_size": 90, "k_max": 6}
    a, b = (fit(spark.createDataFrame(d), params(**kw)) for d in (df, renamed))
    try:
        assert a.params["k"] == b.params["k"] and a.k_sweep == b.k_sweep
        np.testing.assert_allclose(a.centers, b.centers, rtol=0, atol=1e-9)
        la, lb = (r.labeled.toPandas() for r in (a, b))
        back = dict(zip(renamed["user_anon_id"], df["user_anon_id"], strict=True))
        lb["user_anon_id"] = lb["user_anon_id"].map(back)
        la, lb = (x.sort_values("user_anon_id").reset_index(drop=True) for x in (la, lb))
        assert np.array_equal(la["prediction"], lb["prediction"])
    finally:
        a.release()
        b.release()


def test_clusters_are_numbered_by_size_whatever_order_the_starts_found_them_in() -> None:
    """The same clusters found from other starts (other row positions) get the same numbers:
    a first version hands out its keys in cluster order, and two demos of one data set gave the
    same segment S2 in one deployment and S6 in the other."""
    from sklearn.cluster import KMeans

    from segmentation.pipeline.fit import canonical_order

    rng = np.random.default_rng(3)
    sizes = [120, 80, 60, 40]
    x = np.vstack([rng.normal(loc=4.0 * i, scale=0.3, size=(n, 2)) for i, n in enumerate(sizes)])
    fits = [KMeans(n_clusters=4, n_init=1, random_state=s).fit(x) for s in range(12)]
    raw = {tuple(f.labels_[[0, 120, 200, 260]]) for f in fits}
    assert len(raw) > 1, "the starts should number the clusters differently (the precondition)"
    out = [canonical_order(f.labels_, f.cluster_centers_) for f in fits]
    for labels, centres, _ in out[1:]:
        np.testing.assert_array_equal(labels, out[0][0])
        np.testing.assert_allclose(centres, out[0][1], rtol=0, atol=1e-9)
    assert np.bincount(out[0][0]).tolist() == sizes  # largest first
    for f, (labels, _, new_of_old) in zip(fits, out, strict=True):
        np.testing.assert_array_equal(new_of_old[f.labels_], labels)


def test_dbscan_clusters_are_numbered_by_size_whatever_row_order_found_them() -> None:
    """scikit-learn numbers DBSCAN's clusters in the order it meets them; the same points in
    another order get the same numbers here (largest first), and the model assigns with them."""
    from segmentation.pipeline.clustering import fit_dbscan
    from segmentation.pipeline.fit import canonical_dbscan_order, drop_small_dbscan

    rng = np.random.default_rng(5)
    sizes = [40, 150, 20, 90]  # the 20 fall under the floor
    x = np.vstack([rng.normal(loc=6.0 * i, scale=0.3, size=(n, 2)) for i, n in enumerate(sizes)])
    out, raw = [], set()
    for seed in range(4):
        perm = np.random.default_rng(seed).permutation(len(x))
        model = fit_dbscan(x[perm], eps=0.8, min_samples=5)
        labels, _ = drop_small_dbscan(x, model, floor=30)
        raw.add(tuple(labels[[0, 40, 190, 210]]))
        before = labels
        labels, new_of_old = canonical_dbscan_order(x, model, labels)
        np.testing.assert_array_equal(new_of_old[before[before >= 0]], labels[before >= 0])
        np.testing.assert_array_equal(model.assign(x), labels)
        out.append(labels)
    assert len(raw) > 1, "the row orders should number the clusters differently (precondition)"
    for labels in out[1:]:
        np.testing.assert_array_equal(labels, out[0])
    assert np.bincount(out[0][out[0] >= 0]).tolist() == [150, 90, 40]
    assert (out[0][190:210] == -1).all()


def _with_whales(per: int = 60, whales: int = 8) -> pd.DataFrame:
    """The blobs plus a handful of extreme spenders: what pulled K-Means clusters of 6 and 29
    users onto themselves on a real purchase log."""
    df, _ = blobs(per, seed=2)
    rich = df.iloc[:whales].copy()
    rich["user_anon_id"] = [f"w{i:063x}" for i in range(whales)]
    rich["monetary"] = 5e4 * (1 + np.arange(whales) / 10)
    rich["searches_per_session"] = 40.0
    return pd.concat([df, rich], ignore_index=True)


def test_a_kmeans_cluster_under_the_floor_is_merged_into_the_nearest_segment(spark) -> None:
    from segmentation.pipeline.fit import fit

    df = _with_whales()
    result = fit(spark.createDataFrame(df), params(k=5, log_features=()))
    result.release()
    assert result.floor == 50  # max(50 users, 1 % of 248)
    assert result.params["k_fitted"] == 5 and result.params["k"] == 4
    (merged,) = result.merged
    assert merged.size == 8 and 0 <= merged.into < 4
    sizes = [p.size for p in sorted(result.profiles, key=lambda p: p.segment_id)]
    assert sizes == sorted(sizes, reverse=True)  # numbered by size, the merge's target too
    assert all(p.size >= 50 for p in result.profiles)
    (note,) = [n for n in result.notes if "under the floor of 50" in n]
    assert note.startswith("a cluster of 8 users (the fit's no. ")
    assert note.endswith(f"merged into segment {merged.into}")  # the published number
    # still a nearest-centre model: the registered model reproduces the merged assignment
    users, labels = assigned(result)
    pred = result.model.predict(users[COLS])
    np.testing.assert_array_equal(pred["segment_id"].to_numpy(), labels)
    # without a floor the whales keep a segment of their own
    free = fit(spark.createDataFrame(df), params(k=5, log_features=(), min_segment_users=1))
    free.release()
    assert min(p.size for p in free.profiles) == 8 and not free.merged


def test_auto_k_counts_only_solutions_that_respect_the_floor(spark) -> None:
    from segmentation.pipeline.fit import fit

    result = fit(
        spark.createDataFrame(_with_whales()),
        params(k_min=2, k_max=6, log_features=(), min_segment_share=0.1, min_segment_users=1),
    )
    result.release()
    ok = [r["k"] for r in result.k_sweep if r["smallest_share"] >= 0.1]
    assert result.params["k_floor_ok"] == ",".join(map(str, ok))
    assert result.params["k_fitted"] in ok
    assert all(p.share >= 0.1 for p in result.profiles)


def test_a_dbscan_cluster_under_the_floor_is_noise_and_gets_no_profile(spark) -> None:
    from segmentation.pipeline.fit import fit

    df, _ = blobs(60, seed=5)
    rich = df.iloc[:30].copy()  # a tight little group far from the blobs: a cluster of 30
    rich["user_anon_id"] = [f"r{i:063x}" for i in range(30)]
    rich["monetary"] = 500 + np.arange(30) * 0.01
    rich["frequency"] = 50 + np.arange(30) * 0.001
    result = fit(
        spark.createDataFrame(pd.concat([df, rich], ignore_index=True)),
        params(algorithm="dbscan", min_samples=10, log_features=()),
    )
    result.release()
    assert [m.into for m in result.merged] == [-1] and result.merged[0].size >= 30
    users, labels = assigned(result)
    assert (labels[users["user_anon_id"].str.startswith("r").to_numpy()] == -1).all()
    noise = next(p for p in result.profiles if p.segment_id == -1)
    assert all(p.size >= 50 for p in result.profiles if p.segment_id != -1)
    if noise.size < 50:
        assert noise.means == {} and noise.z_scores == {}
    pred = result.model.predict(users[COLS])
    np.testing.assert_array_equal(pred["segment_id"].to_numpy(), labels)


def test_purchase_only_features_leave_the_empty_ones_out_and_name_segments_distinctly(
    spark,
) -> None:
    from segmentation.pipeline.fit import fit
    from segmentation.pipeline.profiles import VIEWING_FEATURES
    from segmentation_local.synthetic.purchases import purchase_only_features

    df = purchase_only_features(users=1500, seed=3)
    assert set(df.columns) >= {"user_anon_id", *COLS, "n_events"}
    result = fit(spark.createDataFrame(df), params(k_min=2, k_max=8, sample_size=1500))
    result.release()
    space = result.space
    assert set(space.left_out) >= VIEWING_FEATURES  # sessions, completion, genres, ...
    assert {"morning_share", "evening_share"} <= set(space.left_out)  # dates only
    assert "weekend_share" in space.shrinkage
    assert result.params["features_left_out"].count(",") >= 6
    assert all(f"{c} left out of the model" in " ".join(result.notes) for c in space.left_out)
    assert all(p.size >= result.floor for p in result.profiles)
    names = [p.name for p in result.profiles]
    assert len(set(names)) == len(names) and not any(ch.isdigit() for n in names for ch in n)
    assert "mainstream" not in names[:1]


def test_kmeans_warm_starts_from_the_previous_segments_read_in_this_space(spark, feats) -> None:
    """Issue 13: the previous version's keys (user -> key) give the initial centres; the given
    k is then the previous version's, and a too-thin predecessor falls back to a cold start."""
    from segmentation.pipeline.fit import fit

    df, truth = feats
    previous = {u: f"S{t + 1}" for u, t in truth.items()}
    previous.update(dict.fromkeys(list(previous)[:5], "noise"))  # noise is no centre
    warm = fit(spark.createDataFrame(df), params(k=2), previous=previous)
    warm.release()
    assert warm.params["k_mode"] == "warm start" and warm.params["k"] == 4
    assert warm.params["warm_keys"] == "S1,S2,S3,S4" and warm.k_sweep == []
    users, labels = assigned(warm)
    assert adjusted_rand_score([truth[u] for u in users["user_anon_id"]], labels) > 0.95
    # the initial centres are the previous groups' means in this run's space, in key order:
    # segment i is key S(i+1)
    keyed = pd.Series(labels, index=users["user_anon_id"]).groupby(
        users["user_anon_id"].map(previous).to_numpy()
    )
    assert {k: int(v.mode()[0]) for k, v in keyed if k != "noise"} == {
        "S1": 0,
        "S2": 1,
        "S3": 2,
        "S4": 3,
    }
    thin = fit(spark.createDataFrame(df), params(k=2), previous={df["user_anon_id"][0]: "S1"})
    thin.release()
    assert thin.params["k_mode"] == "given" and thin.params["k"] == 2
    assert any(n.startswith("warm start skipped") for n in thin.notes)


def _sweep_row(k: int, wsse: float, silhouette: float) -> dict[str, float]:
    return {"k": k, "wsse": wsse, "silhouette": silhouette, "smallest_share": 0.1}


def test_auto_k_keeps_the_previous_versions_k_unless_the_sweep_clearly_prefers_another() -> None:
    from segmentation.pipeline.fit import K_KEEP_TOLERANCE, _choose_k

    # a sweep whose elbow is 7, with 6 a hair below it in silhouette: last week's 6 stays
    sweep = [
        _sweep_row(5, 100.0, 0.30),
        _sweep_row(6, 70.0, 0.355),
        _sweep_row(7, 45.0, 0.36),
        _sweep_row(8, 43.0, 0.34),
    ]
    fresh: dict = {}
    assert _choose_k(sweep, 0.01, fresh) == 7 and fresh["k_previous"] == "none"
    kept: dict = {}
    assert _choose_k(sweep, 0.01, kept, previous_k=6) == 6
    assert kept["k_rule"].startswith("the previous version's k")
    # 6 scoring clearly below the best: the structure changed, k moves
    worse = [dict(r) for r in sweep]
    worse[1]["silhouette"] = 0.36 - K_KEEP_TOLERANCE - 0.01
    assert _choose_k(worse, 0.01, {}, previous_k=6) == 7
    # a previous k outside the sweep, or one under the floor, is not kept
    assert _choose_k(sweep, 0.01, {}, previous_k=12) == 7
    floored = [dict(r) for r in sweep]
    floored[1]["smallest_share"] = 0.001
    assert _choose_k(floored, 0.01, {}, previous_k=6) == 7
