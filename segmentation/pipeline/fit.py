"""The clustering fit: feature vectors and parameters in, labels, centres, metrics and profiles
out. No lake paths, no MLflow: the cluster step (:mod:`.cluster_step`) reads the features,
tracks the result (:mod:`.tracking`) and writes it (:mod:`.cluster_outputs`), so the fit itself
runs on any SparkSession and any DataFrame, e.g. one built with ``createDataFrame`` in a test.

The features are collected to the driver in user id order (:func:`collect_features`) and every
step below runs on that frame, so the result does not depend on the lake's layout. The feature
space of the run (:mod:`.feature_space`: uninformative features left out, shares from few events
shrunk, heavy-tailed features log1p-transformed, then standard scaling), then either

* K-Means (scikit-learn) with ``k`` given, or chosen by an elbow + silhouette sweep over
  ``k_min..k_max`` on a sample of ``sample_size`` users (several starts per k); the final model
  starts from the best of several k-means++ starts on the sample and iterates on everyone;
* DBSCAN (scikit-learn) fitted on a sample of ``sample_size`` users, with eps at the knee of the
  k-distance curve unless given; every user then takes the cluster of the nearest core point if
  it lies within eps, else noise (-1).

Then the segment-size floor (:func:`segment_floor`): a K-Means cluster below it is merged into
the nearest segment (its centre dropped, Lloyd's iterations resumed from the others), a DBSCAN
cluster below it becomes noise; the automatic k counts only the ks whose sample solution
respects the floor. With ``warm_start`` (and a previous version's assignment), K-Means starts
from the previous segments' centres, read in this run's space over the users in both versions.

Metrics (scikit-learn, on the non-noise users): silhouette (on ``silhouette_sample`` users),
Calinski-Harabasz, Davies-Bouldin.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import types as T

from segmentation.model_document import MergedSegment, SegmentProfile
from segmentation.pipeline.clustering import (
    NOISE,
    DbscanModel,
    choose_eps,
    choose_k,
    fit_dbscan,
    metrics,
    sampled_silhouette,
)
from segmentation.pipeline.feature_space import FeatureSpace, SpaceParams, fit_space
from segmentation.pipeline.features import COUNT_COLUMNS, FEATURE_COLUMNS
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
    log_features: tuple[str, ...] = ("frequency", "monetary", "active_days")
    sparse_share: float = 0.95
    shrink_events: float = 10.0
    min_segment_share: float = 0.01
    min_segment_users: int = 50

    @classmethod
    def from_args(cls, args: Any) -> FitParams:
        """From the cluster step's parameters (:class:`~segmentation.pipeline.params.ClusterParams`
        or any object with the same attribute names): the fit reads only what it needs."""
        values = {f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)}
        if "log_features" in values:
            values["log_features"] = tuple(values["log_features"])
        return cls(**values)

    def space(self) -> SpaceParams:
        return SpaceParams(tuple(self.log_features), self.sparse_share, self.shrink_events)

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
    space: FeatureSpace | None = None
    #: What the run's data made the fit do differently (features left out, shares unshrunk,
    #: warm start skipped): the report and MLflow carry them.
    notes: list[str] = field(default_factory=list)
    merged: list[MergedSegment] = field(default_factory=list)
    floor: int = 0
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


def count_columns(df: DataFrame) -> list[str]:
    """The event counts the features carry (none in features written before them)."""
    return [c for c in COUNT_COLUMNS if c in df.columns]


def collect_features(df: DataFrame, seed: int) -> pd.DataFrame:
    """Every user's features in the driver, in :func:`content_order`.

    The fit runs on this frame, so it sees the same rows in the same order however the lake and
    the features happen to be laid out: Spark's K-Means started from its own initialisation over
    data whose partitioning differed from run to run, and the same data set gave two different
    segmentations (silhouette 0.372 and 0.302, both k = 6). The driver already held every user
    for the metrics and the profiles, so this costs no more memory than before.
    """
    local = df.select("user_anon_id", *COLS, *count_columns(df)).toPandas()
    return content_order(local, seed)


#: Decimals the feature values are hashed at when ordering users: far above the last-bit noise
#: of Spark's sums (which add a user's events in partition order: ~1e-12 here), far below a
#: difference between two users that matters to the fit.
ORDER_DECIMALS = 4


def content_order(local: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The users ordered by what they did, not by who they are, with the seeded hash ``_h``.

    The order (and the sample, its first rows: :func:`sample_positions`) used to follow the
    pseudonymised id, and the id is an HMAC under the deployment's key: two fresh demos of the
    same data set (each with its own key) sampled other users and chose k = 7 and k = 6
    (silhouettes 0.354 and 0.352). The hash is over the seed, the users' features rounded to
    :data:`ORDER_DECIMALS` and their event counts; users alike in all of these are
    interchangeable to the fit and keep their id order.
    """
    columns = [*COLS, *(c for c in COUNT_COLUMNS if c in local.columns)]
    scale = 10.0**ORDER_DECIMALS
    # the seed is a column of its own: pandas' hash_key reaches strings only, not numbers
    keyed = pd.DataFrame(
        {
            "_seed": np.full(len(local), seed, dtype=np.int64),
            **{
                c: np.rint(local[c].to_numpy(dtype=float) * scale).astype(np.int64) for c in columns
            },
        }
    )
    out = local.assign(**{HASH: pd.util.hash_pandas_object(keyed, index=False).to_numpy()})
    return out.sort_values([HASH, "user_anon_id"], kind="stable").reset_index(drop=True)


def scaler(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sample standard deviation per feature (StandardScaler's definition), in numpy
    over the rows in id order: a Spark aggregation sums in partition order, and the last bits of
    the scale would move with the layout."""
    if len(raw) < 2:
        return raw.mean(axis=0), np.zeros(raw.shape[1])
    return raw.mean(axis=0), raw.std(axis=0, ddof=1)


def sample_positions(local: pd.DataFrame, size: int) -> np.ndarray:
    """Rows (of :func:`collect_features`' frame) of the first ``size`` users in its content order.

    Chosen by content, not by position: a Bernoulli sample plus ``limit`` depends on how the
    rows happen to be partitioned and ordered, which changes with the lake's object layout
    (e.g. how the stream was batched), and the k sweep and the DBSCAN fit on it changed with it
    (measured: the same generated data gave auto k = 6 in two demo runs and 5 in a third). The
    same users in the same order give the same sweep, the same k and the same fit."""
    return np.arange(min(size, len(local)))


def final_kmeans(
    x_all: np.ndarray,
    x_sample: np.ndarray,
    k: int,
    seed: int,
    init: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Labels, centres and cost of K-Means on every user, best of starts and deterministic.

    The starts are scikit-learn's k-means++ on the sample (SWEEP_STARTS of them, seeded; the
    lowest cost wins), or the given ``init`` centres (warm start); Lloyd's iterations then run
    on all users from those centres. Same features in the same order -> the same centres, labels
    and cost.
    """
    from sklearn.cluster import KMeans

    if init is None:
        starts = KMeans(n_clusters=k, n_init=SWEEP_STARTS, max_iter=50, random_state=seed)
        init = starts.fit(x_sample).cluster_centers_
    model = KMeans(n_clusters=len(init), init=init, n_init=1, max_iter=300, random_state=seed)
    model.fit(x_all)
    return model.labels_.astype(np.int64), model.cluster_centers_, float(model.inertia_)


def segment_floor(n_users: int, params: FitParams) -> int:
    """Fewest users a published segment may hold: ``min_segment_users`` (the k-anonymity floor
    of the profiles) or ``min_segment_share`` of the users, whichever is more."""
    return max(params.min_segment_users, math.ceil(params.min_segment_share * n_users))


def merge_small_kmeans(
    x_all: np.ndarray, labels: np.ndarray, centers: np.ndarray, floor: int, seed: int
) -> tuple[np.ndarray, np.ndarray, list[MergedSegment]]:
    """Fold every cluster under ``floor`` into the nearest segment: the smallest one's centre is
    dropped and Lloyd's iterations resume from the others, until every cluster holds ``floor``
    users or one is left. The result is still a nearest-centre model (what the registered
    model and every later assignment apply); ``into`` is the segment that took most of its
    users, numbered as in the returned centres."""
    from sklearn.cluster import KMeans

    merged: list[tuple[np.ndarray, int]] = []  # (members' mask, size), in the order merged
    ids = np.arange(len(centers))  # the fit's cluster number of each current centre
    gone: list[int] = []
    while len(centers) > 1:
        sizes = np.bincount(labels, minlength=len(centers))
        small = int(np.argmin(sizes))
        if sizes[small] >= floor:
            break
        merged.append((labels == small, int(sizes[small])))
        gone.append(int(ids[small]))
        keep = np.arange(len(centers)) != small
        ids = ids[keep]
        model = KMeans(
            n_clusters=int(keep.sum()),
            init=centers[keep],
            n_init=1,
            max_iter=300,
            random_state=seed,
        ).fit(x_all)
        labels, centers = model.labels_.astype(np.int64), model.cluster_centers_
    report = [
        MergedSegment(
            cluster=cluster,
            size=size,
            into=int(np.bincount(labels[mask], minlength=len(centers)).argmax()) if size else -1,
        )
        for cluster, (mask, size) in zip(gone, merged, strict=True)
    ]
    return labels, centers, report


def canonical_order(
    labels: np.ndarray, centers: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Number the clusters by size (largest first; equal sizes by their centres), not by the
    order k-means++ happened to pick its first points in.

    That order follows the rows' positions: two fresh paper-scale demos of one data set found
    the same six clusters (Calinski-Harabasz equal to 1e-11) but numbered them differently, and
    a first version hands out its new keys in cluster order, so the same segment became S2 in
    one deployment and S6 in the other. Returns the new labels, the centres in the new order
    and ``new_of_old`` (old cluster number -> new)."""
    sizes = np.bincount(labels, minlength=len(centers))
    coords = np.round(centers, 6)
    order = sorted(range(len(centers)), key=lambda c: (-int(sizes[c]), tuple(coords[c])))
    new_of_old = np.empty(len(centers), dtype=np.int64)
    new_of_old[order] = np.arange(len(centers))
    return new_of_old[labels], centers[order], new_of_old


def drop_small_dbscan(
    x_all: np.ndarray, model: DbscanModel, floor: int
) -> tuple[np.ndarray, list[MergedSegment]]:
    """Clusters under ``floor`` become noise: their core points are relabelled noise in the
    model itself, so the registered model assigns as the published map does."""
    labels = np.asarray(model.assign(x_all), dtype=np.int64)
    clusters, sizes = np.unique(labels[labels != NOISE], return_counts=True)
    small = {int(c): int(n) for c, n in zip(clusters, sizes, strict=True) if n < floor}
    if not small:
        return labels, []
    model.core_labels = np.where(
        np.isin(model.core_labels, list(small)), NOISE, model.core_labels
    ).astype(np.int64)
    model._nn = None
    labels = np.asarray(model.assign(x_all), dtype=np.int64)
    return labels, [MergedSegment(cluster=c, size=n, into=NOISE) for c, n in sorted(small.items())]


def canonical_dbscan_order(
    x_all: np.ndarray, model: DbscanModel, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """DBSCAN's clusters numbered as :func:`canonical_order` numbers K-Means's: by size, largest
    first (equal sizes by their centres), and without the gaps clusters dropped under the floor
    leave. scikit-learn numbers them in the order it reaches their first core point, which
    follows the sample's row order. The model's core labels are renumbered too, so it assigns
    as the published map does. Returns the new labels and ``new_of_old`` (old number -> new;
    -1 for a number no user has)."""
    clusters = np.unique(labels[labels != NOISE])
    if clusters.size == 0:
        return labels, np.empty(0, dtype=np.int64)
    dense = np.searchsorted(clusters, labels[labels != NOISE])  # 0..n-1 in cluster order
    centres = np.array([x_all[labels == c].mean(axis=0) for c in clusters])
    _, _, rank = canonical_order(dense, centres)
    top = int(max(clusters.max(), model.core_labels.max(initial=NOISE))) + 1
    new_of_old = np.full(top, NOISE, dtype=np.int64)
    new_of_old[clusters] = rank

    def renumber(a: np.ndarray) -> np.ndarray:
        safe = np.where(a >= 0, a, 0)
        return np.where(a >= 0, new_of_old[safe], NOISE).astype(np.int64)

    model.core_labels = renumber(model.core_labels)
    return renumber(labels), new_of_old


def warm_centres(
    x_all: np.ndarray, users: pd.Series, previous: dict[str, str]
) -> tuple[np.ndarray, list[str]]:
    """The previous version's segments' centres in this run's space: the mean of this run's
    scaled features over each previous key's users who are in both versions (noise left out),
    in key order. The previous model's own centres live in its space, which may hold other
    features or transforms; its users, read in this run's space, do not depend on that."""
    keys = users.map(previous)
    found = sorted(
        {k for k in keys.dropna().unique() if k != "noise"},
        key=lambda k: (len(k), k),
    )
    centres = [x_all[(keys == k).to_numpy()].mean(axis=0) for k in found]
    return (np.array(centres) if centres else np.empty((0, x_all.shape[1]))), found


def kmeans_sweep(x_sample: np.ndarray, params: FitParams) -> list[dict[str, Any]]:
    """K-Means for each k of the range on the sample: cost (WSSE) and silhouette.

    The sample is in the driver's memory already (``sample_size`` rows), so the sweep runs there
    with scikit-learn, from SWEEP_STARTS k-means++ starts per k: one Spark fit per k, as before,
    kept whichever local optimum its one start fell into, and a bad one at the right k (cost
    barely below k - 1) hides the elbow (seen on four well-separated blobs: auto k = 3). The
    final model (:func:`final_kmeans`) is fitted on every user with the chosen k.
    """
    from sklearn.cluster import KMeans

    rows = []
    k_max = min(params.k_max, len(x_sample) - 1)
    n_sil = min(params.silhouette_sample, len(x_sample))
    for k in range(params.k_min, k_max + 1):
        model = KMeans(
            n_clusters=k, n_init=SWEEP_STARTS, max_iter=50, random_state=params.seed
        ).fit(x_sample)
        labels = model.labels_
        sil = (
            sampled_silhouette(x_sample, labels, n_sil, params.seed)
            if np.unique(labels).size > 1
            else float("nan")
        )
        smallest = float(np.bincount(labels, minlength=k).min() / len(labels))
        rows.append(
            {"k": k, "wsse": float(model.inertia_), "silhouette": sil, "smallest_share": smallest}
        )
        log.info("k=%d wsse=%.1f silhouette=%.4f", k, rows[-1]["wsse"], sil)
    return rows


def _labeled_schema(counts: list[str]) -> T.StructType:
    return T.StructType(
        [T.StructField("user_anon_id", T.StringType())]
        + [T.StructField(c, T.DoubleType()) for c in [*COLS, *counts]]
        + [T.StructField("prediction", T.LongType())]
    )


def fit(
    features: DataFrame,
    params: FitParams,
    source: str = "the features",
    previous: dict[str, str] | None = None,
    previous_k: int | None = None,
) -> FitResult:
    """Cluster ``features`` (user_anon_id, the FEATURE_COLUMNS as doubles, and the
    COUNT_COLUMNS when the features step wrote them).

    ``source`` only names the input in the too-few-users error; ``previous`` (user_anon_id ->
    segment key of the published version) makes K-Means warm-start from those segments;
    ``previous_k`` (that version's number of segments) is kept by an automatic k unless the
    sweep clearly prefers another (:func:`_choose_k`). The
    frames the fit caches are kept until :meth:`FitResult.release` (or freed here if the fit
    fails)."""
    features.sparkSession.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    df = features.cache()
    cached = [df]
    try:
        return _fit(df, params, source, cached, previous, previous_k)
    except BaseException:
        for frame in cached:
            frame.unpersist()
        raise


#: How far below the sweep's best silhouette the previous version's k may score and still be
#: kept (the same tolerance the elbow rule allows).
K_KEEP_TOLERANCE = 0.02


def _choose_k(
    sweep: list[dict[str, Any]],
    floor_share: float,
    run_params: dict[str, Any],
    previous_k: int | None = None,
) -> int:
    """The automatic k among the ks whose sample solution respects the segment-size floor
    (every k when none does: the floor's merge then shrinks the chosen one).

    With a published predecessor of ``previous_k`` segments, that k is kept while its
    silhouette is within :data:`K_KEEP_TOLERANCE` of the sweep's best: a week's noise must not
    add or drop a segment (measured at paper scale: auto k flipped 6 -> 7 -> 6 over four
    unchanged weeks, a key born and retired each time), while a real change of structure still
    moves k."""
    ok = [r for r in sweep if r["smallest_share"] >= floor_share]
    rows = ok if len(ok) >= 1 else sweep
    choice = choose_k(
        [r["k"] for r in rows], [r["wsse"] for r in rows], [r["silhouette"] for r in rows]
    )
    k, rule = choice.k, choice.rule
    kept = next((r for r in rows if r["k"] == previous_k), None)
    best = max((r["silhouette"] for r in rows if r["silhouette"] == r["silhouette"]), default=None)
    if (
        kept is not None
        and previous_k != k
        and best is not None
        and kept["silhouette"] >= best - K_KEEP_TOLERANCE
    ):
        k, rule = int(previous_k), "the previous version's k (silhouette within tolerance of best)"
    run_params.update(
        k_mode="auto",
        k_elbow=choice.elbow_k,
        k_best_silhouette=choice.silhouette_k,
        k_rule=rule,
        k_previous=previous_k if previous_k is not None else "none",
        k_floor_ok=",".join(str(r["k"]) for r in ok) or "none",
    )
    return k


def _fit(
    df: DataFrame,
    params: FitParams,
    source: str,
    cached: list[DataFrame],
    previous: dict[str, str] | None,
    previous_k: int | None = None,
) -> FitResult:
    algorithm = params.algorithm
    n = df.count()
    need = params.min_users()
    if n < need:
        raise ValueError(f"{n} users in {source}; expected at least {need} for {algorithm}")

    local = collect_features(df, params.seed)
    counts = [c for c in COUNT_COLUMNS if c in local.columns]
    space, notes = fit_space(local, params.space(), COLS)
    for feature, why in space.left_out.items():
        notes.append(f"{feature} left out of the model: {why}")
    for note in notes:
        log.warning("cluster: %s", note)
    x_all = space.transform(local)
    x_sample = x_all[sample_positions(local, params.sample_size)]
    floor = segment_floor(n, params)

    run_params: dict[str, Any] = {
        "algorithm": algorithm,
        "n_users": n,
        "n_features": len(space.columns),
        "features": ",".join(space.columns),
        "features_left_out": ",".join(space.left_out) or "none",
        "log1p": ",".join(space.log1p) or "none",
        "shrunk": ",".join(space.shrinkage) or "none",
        "shrink_events": params.shrink_events,
        "sparse_share": params.sparse_share,
        "scaler": "standard",
        "sample_size": params.sample_size,
        "silhouette_sample": params.silhouette_sample,
        "seed": params.seed,
        "min_segment_users": params.min_segment_users,
        "min_segment_share": params.min_segment_share,
        "segment_floor": floor,
    }
    sweep: list[dict[str, Any]] = []
    eps_rows: list[dict[str, Any]] = []
    k_distance = None
    centers = None
    dbscan_model = None
    merged: list[MergedSegment] = []
    if algorithm == "kmeans":
        init = None
        if previous:
            init, keys = warm_centres(x_all, local["user_anon_id"], previous)
            if len(init) >= 2:
                run_params.update(warm_start="previous centres", warm_keys=",".join(keys))
            else:
                notes.append(
                    f"warm start skipped: {len(init)} previous segment(s) among this run's users"
                )
                init = None
        if init is not None:
            k = len(init)
            run_params.update(k_mode="warm start")
        elif params.k is None:
            sweep = kmeans_sweep(x_sample, params)
            k = _choose_k(sweep, floor / n, run_params, previous_k)
            run_params.update(k_min=params.k_min, k_max=params.k_max)
        else:
            k = params.k
            run_params.update(k_mode="given")
        run_params["final_fit"] = (
            "Lloyd on all users from the previous version's centres"
            if init is not None
            else "k-means++ best of starts on the sample, Lloyd on all users"
        )
        labels, centers, _ = final_kmeans(x_all, x_sample, k, params.seed, init)
        labels, centers, merged = merge_small_kmeans(x_all, labels, centers, floor, params.seed)
        if init is None:  # a warm start keeps its previous keys' order (segment i = i-th key)
            labels, centers, new_of_old = canonical_order(labels, centers)
            merged = [
                m.model_copy(update={"into": int(new_of_old[m.into])}) if m.into >= 0 else m
                for m in merged
            ]
        run_params["k_fitted"] = k
        run_params["k"] = len(centers)
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
        labels, merged = drop_small_dbscan(x_all, dbscan_model, floor)
        labels, _ = canonical_dbscan_order(x_all, dbscan_model, labels)
    for m in merged:
        notes.append(
            f"a cluster of {m.size} users (the fit's no. {m.cluster}, before the numbering by "
            f"size) under the floor of {floor}: "
            + ("declared noise" if m.into == NOISE else f"merged into segment {m.into}")
        )
    run_params["segments_merged"] = len(merged)
    local = local.drop(columns=[HASH]).assign(prediction=labels)
    labeled = df.sparkSession.createDataFrame(local, schema=_labeled_schema(counts)).cache()
    cached.append(labeled)

    scores = metrics(x_all, labels, params.silhouette_sample, params.seed)
    profiles = build_profiles(
        local, labels, COLS, x_model=x_all, model_columns=list(space.columns), floor=floor
    )
    seg_model = SegmentModel(
        algorithm=algorithm,
        columns=list(space.columns),
        mean=space.mean,
        std=space.std,
        names={p.segment_id: p.name for p in profiles},
        centers=centers,
        dbscan=dbscan_model,
        params={k: v for k, v in run_params.items() if isinstance(v, int | float | str)},
        space=space,
    )
    return FitResult(
        algorithm=algorithm,
        n_users=n,
        params=run_params,
        mean=space.mean,
        std=space.std,
        labels=labels,
        scores=scores,
        profiles=profiles,
        model=seg_model,
        labeled=labeled,
        example=local[space.input_columns].head(5).reset_index(drop=True),
        centers=centers,
        dbscan=dbscan_model,
        k_sweep=sweep,
        eps_sweep=eps_rows,
        k_distance=k_distance,
        space=space,
        notes=notes,
        merged=merged,
        floor=floor,
        _cached=cached,
    )
