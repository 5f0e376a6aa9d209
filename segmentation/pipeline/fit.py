"""The clustering fit: feature vectors and parameters in, labels, centres, metrics and profiles
out. No lake paths, no MLflow: the cluster step (:mod:`.cluster_step`) reads the features,
tracks the result (:mod:`.tracking`) and writes it (:mod:`.cluster_outputs`), so the fit itself
runs on any SparkSession and any DataFrame, e.g. one built with ``createDataFrame`` in a test.

The features are collected to the driver in user id order (:func:`collect_features`) and every
step below runs on that frame, so the result does not depend on the lake's layout. Standard
scaling (mean and sample std), then either

* K-Means (scikit-learn) with ``k`` given, or chosen by an elbow + silhouette sweep over
  ``k_min..k_max`` on a sample of ``sample_size`` users (several starts per k); the final model
  starts from the best of several k-means++ starts on the sample and iterates on everyone;
* DBSCAN (scikit-learn) fitted on a sample of ``sample_size`` users, with eps at the knee of the
  k-distance curve unless given; every user then takes the cluster of the nearest core point if
  it lies within eps, else noise (-1).

Metrics (scikit-learn, on the non-noise users): silhouette (on ``silhouette_sample`` users),
Calinski-Harabasz, Davies-Bouldin.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from segmentation.model_document import SegmentProfile
from segmentation.pipeline.clustering import (
    DbscanModel,
    choose_eps,
    choose_k,
    fit_dbscan,
    metrics,
)
from segmentation.pipeline.features import FEATURE_COLUMNS
from segmentation.pipeline.model import SegmentModel
from segmentation.pipeline.profiles import build_profiles

log = logging.getLogger(__name__)
COLS = list(FEATURE_COLUMNS)

#: K-Means starts per k in the sweep; the lowest-cost fit counts.
SWEEP_STARTS = 4


@dataclass(frozen=True)
class FitParams:
    """What the fit depends on; the step's other arguments (paths, MLflow) are not its business."""

    algorithm: Literal["kmeans", "dbscan"] = "kmeans"
    k: int | None = None
    k_min: int = 2
    k_max: int = 10
    eps: float | None = None
    min_samples: int = 24
    sample_size: int = 20_000
    silhouette_sample: int = 10_000
    seed: int = 42

    @classmethod
    def from_args(cls, args: Any) -> FitParams:
        """From the cluster step's parameters (:class:`~segmentation.pipeline.params.ClusterParams`
        or any object with the same attribute names): the fit reads only what it needs."""
        return cls(**{f.name: getattr(args, f.name) for f in fields(cls)})

    def min_users(self) -> int:
        """Fewest users the algorithm can be fitted on."""
        if self.algorithm == "kmeans":
            return max(self.k or self.k_min, 2) + 1
        return self.min_samples


@dataclass
class FitResult:
    """The fit of one run. ``labeled`` (user_anon_id, the features, prediction) stays a Spark
    DataFrame, cached: the segment map is written from it at any scale; :meth:`release` frees
    it once written."""

    algorithm: Literal["kmeans", "dbscan"]
    n_users: int
    params: dict[str, Any]
    mean: np.ndarray
    std: np.ndarray
    labels: np.ndarray
    scores: dict[str, float | None]
    profiles: list[SegmentProfile]
    model: SegmentModel
    labeled: DataFrame
    example: pd.DataFrame
    centers: np.ndarray | None = None
    dbscan: DbscanModel | None = None
    k_sweep: list[dict[str, Any]] = field(default_factory=list)
    eps_sweep: list[dict[str, Any]] = field(default_factory=list)
    k_distance: dict[str, Any] | None = None
    _cached: list[DataFrame] = field(default_factory=list, repr=False)

    @property
    def names(self) -> dict[int, str]:
        return {p.segment_id: p.name for p in self.profiles}

    def release(self) -> None:
        for frame in self._cached:
            frame.unpersist()


def _scale(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    return (x - mean) / np.where(std > 0, std, 1.0)


#: Column of the seeded hash of the user id that orders the sample (:func:`collect_features`).
HASH = "_h"


def collect_features(df: DataFrame, seed: int) -> pd.DataFrame:
    """Every user's features in the driver, in user id order, with the seeded hash of the id.

    The fit runs on this frame, so it sees the same rows in the same order however the lake and
    the features happen to be laid out: Spark's K-Means started from its own initialisation over
    data whose partitioning differed from run to run, and the same data set gave two different
    segmentations (silhouette 0.372 and 0.302, both k = 6). The driver already held every user
    for the metrics and the profiles, so this costs no more memory than before.
    """
    key = F.xxhash64(F.col("user_anon_id"), F.lit(seed)).alias(HASH)
    local = df.select("user_anon_id", *COLS, key).toPandas()
    return local.sort_values("user_anon_id", kind="stable").reset_index(drop=True)


def scaler(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sample standard deviation per feature (StandardScaler's definition), in numpy
    over the rows in id order: a Spark aggregation sums in partition order, and the last bits of
    the scale would move with the layout."""
    if len(raw) < 2:
        return raw.mean(axis=0), np.zeros(raw.shape[1])
    return raw.mean(axis=0), raw.std(axis=0, ddof=1)


def sample_positions(local: pd.DataFrame, size: int) -> np.ndarray:
    """Rows (of :func:`collect_features`' frame) of the ``size`` users with the smallest seeded
    hash of their id, in that order.

    Chosen by content, not by position: a Bernoulli sample plus ``limit`` depends on how the
    rows happen to be partitioned and ordered, which changes with the lake's object layout
    (e.g. how the stream was batched), and the k sweep and the DBSCAN fit on it changed with it
    (measured: the same generated data gave auto k = 6 in two demo runs and 5 in a third). The
    same users in the same order give the same sweep, the same k and the same fit."""
    order = local.sort_values([HASH, "user_anon_id"], kind="stable").index.to_numpy()
    return order[: min(size, len(local))]


def final_kmeans(
    x_all: np.ndarray, x_sample: np.ndarray, k: int, seed: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """Labels, centres and cost of K-Means on every user, best of starts and deterministic.

    The starts are scikit-learn's k-means++ on the sample (SWEEP_STARTS of them, seeded; the
    lowest cost wins); Lloyd's iterations then run on all users from those centres. Same
    features in the same order -> the same centres, labels and cost.
    """
    from sklearn.cluster import KMeans

    starts = KMeans(n_clusters=k, n_init=SWEEP_STARTS, max_iter=50, random_state=seed).fit(x_sample)
    model = KMeans(
        n_clusters=k, init=starts.cluster_centers_, n_init=1, max_iter=300, random_state=seed
    ).fit(x_all)
    return model.labels_.astype(np.int64), model.cluster_centers_, float(model.inertia_)


def kmeans_sweep(x_sample: np.ndarray, params: FitParams) -> list[dict[str, Any]]:
    """K-Means for each k of the range on the sample: cost (WSSE) and silhouette.

    The sample is in the driver's memory already (``sample_size`` rows), so the sweep runs there
    with scikit-learn, from SWEEP_STARTS k-means++ starts per k: one Spark fit per k, as before,
    kept whichever local optimum its one start fell into, and a bad one at the right k (cost
    barely below k - 1) hides the elbow (seen on four well-separated blobs: auto k = 3). The
    final model (:func:`final_kmeans`) is fitted on every user with the chosen k.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    rows = []
    k_max = min(params.k_max, len(x_sample) - 1)
    n_sil = min(params.silhouette_sample, len(x_sample))
    for k in range(params.k_min, k_max + 1):
        model = KMeans(
            n_clusters=k, n_init=SWEEP_STARTS, max_iter=50, random_state=params.seed
        ).fit(x_sample)
        labels = model.labels_
        sil = (
            float(
                silhouette_score(
                    x_sample,
                    labels,
                    sample_size=n_sil if n_sil < len(x_sample) else None,
                    random_state=params.seed,
                )
            )
            if np.unique(labels).size > 1
            else float("nan")
        )
        rows.append({"k": k, "wsse": float(model.inertia_), "silhouette": sil})
        log.info("k=%d wsse=%.1f silhouette=%.4f", k, rows[-1]["wsse"], sil)
    return rows


_LABELED = T.StructType(
    [T.StructField("user_anon_id", T.StringType())]
    + [T.StructField(c, T.DoubleType()) for c in COLS]
    + [T.StructField("prediction", T.LongType())]
)


def fit(features: DataFrame, params: FitParams, source: str = "the features") -> FitResult:
    """Cluster ``features`` (user_anon_id and the FEATURE_COLUMNS as doubles).

    ``source`` only names the input in the too-few-users error. The frames the fit caches are
    kept until :meth:`FitResult.release` (or freed here if the fit fails)."""
    features.sparkSession.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    df = features.cache()
    cached = [df]
    try:
        return _fit(df, params, source, cached)
    except BaseException:
        for frame in cached:
            frame.unpersist()
        raise


def _fit(df: DataFrame, params: FitParams, source: str, cached: list[DataFrame]) -> FitResult:
    algorithm = params.algorithm
    n = df.count()
    need = params.min_users()
    if n < need:
        raise ValueError(f"{n} users in {source}; expected at least {need} for {algorithm}")

    local = collect_features(df, params.seed)
    raw = local[COLS].to_numpy(dtype=float)
    mean, std = scaler(raw)
    x_all = _scale(raw, mean, std)
    x_sample = x_all[sample_positions(local, params.sample_size)]

    run_params: dict[str, Any] = {
        "algorithm": algorithm,
        "n_users": n,
        "n_features": len(COLS),
        "features": ",".join(COLS),
        "scaler": "standard",
        "sample_size": params.sample_size,
        "silhouette_sample": params.silhouette_sample,
        "seed": params.seed,
    }
    sweep: list[dict[str, Any]] = []
    eps_rows: list[dict[str, Any]] = []
    k_distance = None
    centers = None
    dbscan_model = None
    if algorithm == "kmeans":
        if params.k is None:
            sweep = kmeans_sweep(x_sample, params)
            choice = choose_k(
                [r["k"] for r in sweep],
                [r["wsse"] for r in sweep],
                [r["silhouette"] for r in sweep],
            )
            k = choice.k
            run_params.update(
                k_min=params.k_min,
                k_max=params.k_max,
                k_mode="auto",
                k_elbow=choice.elbow_k,
                k_best_silhouette=choice.silhouette_k,
                k_rule=choice.rule,
            )
        else:
            k = params.k
            run_params.update(k_mode="given")
        run_params["k"] = k
        run_params["final_fit"] = "k-means++ best of starts on the sample, Lloyd on all users"
        labels, centers, _ = final_kmeans(x_all, x_sample, k, params.seed)
    else:
        if params.eps is None:
            dbscan_model, eps_rows, curve = choose_eps(
                x_sample, params.min_samples, params.silhouette_sample, params.seed
            )
            eps = dbscan_model.eps
            run_params["eps_mode"] = "k-distance curve: best silhouette x (1 - noise)"
            qs = [0.1, 0.25, 0.5, 0.75, 0.9, 0.99]
            k_distance = {
                "k": params.min_samples,
                "quantiles": dict(zip(map(str, qs), np.quantile(curve, qs).tolist(), strict=True)),
                "eps": eps,
            }
        else:
            eps = float(params.eps)
            run_params["eps_mode"] = "given"
            dbscan_model = fit_dbscan(x_sample, eps, params.min_samples)
        run_params.update(eps=eps, min_samples=params.min_samples)
        labels = np.asarray(dbscan_model.assign(x_all), dtype=np.int64)
    local = local.drop(columns=[HASH]).assign(prediction=labels)
    labeled = df.sparkSession.createDataFrame(local, schema=_LABELED).cache()
    cached.append(labeled)

    scores = metrics(x_all, labels, params.silhouette_sample, params.seed)
    profiles = build_profiles(local, labels, COLS)
    seg_model = SegmentModel(
        algorithm=algorithm,
        columns=COLS,
        mean=mean,
        std=std,
        names={p.segment_id: p.name for p in profiles},
        centers=centers,
        dbscan=dbscan_model,
        params={k: v for k, v in run_params.items() if isinstance(v, int | float | str)},
    )
    return FitResult(
        algorithm=algorithm,
        n_users=n,
        params=run_params,
        mean=mean,
        std=std,
        labels=labels,
        scores=scores,
        profiles=profiles,
        model=seg_model,
        labeled=labeled,
        example=local[COLS].head(5).reset_index(drop=True),
        centers=centers,
        dbscan=dbscan_model,
        k_sweep=sweep,
        eps_sweep=eps_rows,
        k_distance=k_distance,
        _cached=cached,
    )
