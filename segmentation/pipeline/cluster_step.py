"""Cluster: features -> segments (segment map + profiles), tracked in MLflow.

Standard scaling (Spark MLlib StandardScaler, mean and std), then either

* K-Means (Spark MLlib) with ``k`` given, or chosen by an elbow + silhouette sweep over
  ``k_min..k_max`` on a sample of ``sample_size`` users (scikit-learn, several starts per k, in
  the driver); the final model is fitted on everyone;
* DBSCAN (scikit-learn) fitted on a sample of ``sample_size`` users, with eps at the knee of the
  k-distance curve unless given; every user then takes the cluster of the nearest core point if
  it lies within eps, else noise (-1). The assignment runs in Spark (mapInPandas), so the fit
  costs the same at 50k and 5M users.

Metrics (scikit-learn, on the non-noise users): silhouette (on ``silhouette_sample`` users),
Calinski-Harabasz, Davies-Bouldin.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from segmentation.lake import LakePaths
from segmentation.pipeline import lakeio
from segmentation.pipeline.clustering import (
    DbscanModel,
    choose_eps,
    choose_k,
    fit_dbscan,
    metrics,
)
from segmentation.pipeline.features import FEATURE_COLUMNS, FEATURES
from segmentation.pipeline.model import SegmentModel, pyfunc_wrapper
from segmentation.pipeline.profiles import build_profiles
from segmentation.pipeline.tracking import Tracker, code_version

log = logging.getLogger(__name__)
COLS = list(FEATURE_COLUMNS)


def read_features(spark: SparkSession, uri: str) -> DataFrame:
    if not lakeio.exists(spark, uri):
        raise FileNotFoundError(
            f"no features at {uri}; expected the features step's output for this --snapshot_date"
        )
    df = spark.read.parquet(uri)
    missing = [c for c in ["user_anon_id", *COLS] if c not in df.columns]
    if missing:
        raise ValueError(
            f"features at {uri} lack column(s) {', '.join(missing)}; expected user_anon_id and "
            + ", ".join(COLS)
        )
    return df.select("user_anon_id", *[F.col(c).cast("double") for c in COLS])


def _scale(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    return (x - mean) / np.where(std > 0, std, 1.0)


def fit_scaler(df: DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (sample) standard deviation per feature, from Spark MLlib's StandardScaler."""
    from pyspark.ml.feature import StandardScaler, VectorAssembler

    vec = VectorAssembler(inputCols=COLS, outputCol="_raw").transform(df)
    model = StandardScaler(inputCol="_raw", outputCol="_z", withMean=True, withStd=True).fit(vec)
    return np.asarray(model.mean.toArray()), np.asarray(model.std.toArray())


def scaled_vectors(df: DataFrame, mean: np.ndarray, std: np.ndarray) -> DataFrame:
    """``features`` vector column in scaled units (same formula as the numpy side)."""
    from pyspark.ml.feature import VectorAssembler

    safe = np.where(std > 0, std, 1.0)
    cols = [
        ((F.col(c) - float(m)) / float(s)).alias(f"_z_{c}")
        for c, m, s in zip(COLS, mean, safe, strict=True)
    ]
    z = df.select("user_anon_id", *COLS, *cols)
    return VectorAssembler(inputCols=[f"_z_{c}" for c in COLS], outputCol="features").transform(z)


def sample(df: DataFrame, n_total: int, size: int, seed: int) -> DataFrame:
    """The ``size`` users with the smallest seeded hash of their id, in that order.

    Chosen by content, not by position: a Bernoulli sample plus ``limit`` depends on how the
    rows happen to be partitioned and ordered, which changes with the lake's object layout
    (e.g. how the stream was batched), and the k sweep and the DBSCAN fit on it changed with it
    (measured: the same generated data gave auto k = 6 in two demo runs and 5 in a third). The
    same users in the same order give the same sweep, the same k and the same fit."""
    key = F.xxhash64(F.col("user_anon_id"), F.lit(seed))
    return df.orderBy(key, "user_anon_id").limit(min(size, n_total))


#: K-Means starts per k in the sweep; the lowest-cost fit counts.
SWEEP_STARTS = 4


def kmeans_sweep(x_sample: np.ndarray, args: dict[str, Any]) -> list[dict[str, Any]]:
    """K-Means for each k of the range on the sample: cost (WSSE) and silhouette.

    The sample is in the driver's memory already (``sample_size`` rows), so the sweep runs there
    with scikit-learn, from SWEEP_STARTS k-means++ starts per k: one Spark fit per k, as before,
    kept whichever local optimum its one start fell into, and a bad one at the right k (cost
    barely below k - 1) hides the elbow (seen on four well-separated blobs: auto k = 3). The
    final model is still Spark MLlib's, fitted on every user with the chosen k.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    rows = []
    k_max = min(args["k_max"], len(x_sample) - 1)
    n_sil = min(args["silhouette_sample"], len(x_sample))
    for k in range(args["k_min"], k_max + 1):
        model = KMeans(
            n_clusters=k, n_init=SWEEP_STARTS, max_iter=50, random_state=args["seed"]
        ).fit(x_sample)
        labels = model.labels_
        sil = (
            float(
                silhouette_score(
                    x_sample,
                    labels,
                    sample_size=n_sil if n_sil < len(x_sample) else None,
                    random_state=args["seed"],
                )
            )
            if np.unique(labels).size > 1
            else float("nan")
        )
        rows.append({"k": k, "wsse": float(model.inertia_), "silhouette": sil})
        log.info("k=%d wsse=%.1f silhouette=%.4f", k, rows[-1]["wsse"], sil)
    return rows


def assign_dbscan(
    df: DataFrame, model: DbscanModel, mean: np.ndarray, std: np.ndarray
) -> DataFrame:
    """Every user's DBSCAN cluster, computed in the executors against the broadcast core points."""
    schema = T.StructType(
        [T.StructField("user_anon_id", T.StringType())]
        + [T.StructField(c, T.DoubleType()) for c in COLS]
        + [T.StructField("prediction", T.LongType())]
    )

    def assign(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in batches:
            x = _scale(pdf[COLS].to_numpy(dtype=float), mean, std)
            yield pdf.assign(prediction=model.assign(x))

    return df.mapInPandas(assign, schema)


def _name_expr(names: dict[int, str]) -> Any:
    expr = F.lit("unassigned (noise)")
    for seg, name in names.items():
        expr = F.when(F.col("prediction") == seg, F.lit(name)).otherwise(expr)
    return expr


def run(spark: SparkSession, args: dict[str, Any], paths: LakePaths) -> dict[str, Any]:
    snapshot = args["snapshot_date"].isoformat()
    algorithm = args["algorithm"]
    features_uri = paths.features(snapshot)
    spark.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    df = read_features(spark, features_uri).cache()
    n = df.count()
    need = max(args["k"] or args["k_min"], 2) + 1 if algorithm == "kmeans" else args["min_samples"]
    if n < need:
        raise ValueError(f"{n} users in {features_uri}; expected at least {need} for {algorithm}")

    mean, std = fit_scaler(df)
    scaled = scaled_vectors(df, mean, std).cache()
    samp = sample(scaled, n, args["sample_size"], args["seed"])  # collected once: no cache
    x_sample = np.asarray(
        samp.select([F.col(f"_z_{c}") for c in COLS]).toPandas().to_numpy(dtype=float)
    )

    params: dict[str, Any] = {
        "algorithm": algorithm,
        "snapshot_date": snapshot,
        "n_users": n,
        "n_features": len(COLS),
        "features": ",".join(COLS),
        "scaler": "standard",
        "sample_size": args["sample_size"],
        "silhouette_sample": args["silhouette_sample"],
        "seed": args["seed"],
    }
    sweep: list[dict[str, Any]] = []
    eps_rows: list[dict[str, Any]] = []
    extra_artifacts: dict[str, Any] = {}
    centers = None
    dbscan_model = None
    if algorithm == "kmeans":
        from pyspark.ml.clustering import KMeans

        if args["k"] is None:
            sweep = kmeans_sweep(x_sample, args)
            choice = choose_k(
                [r["k"] for r in sweep],
                [r["wsse"] for r in sweep],
                [r["silhouette"] for r in sweep],
            )
            k = choice.k
            params.update(
                k_min=args["k_min"],
                k_max=args["k_max"],
                k_mode="auto",
                k_elbow=choice.elbow_k,
                k_best_silhouette=choice.silhouette_k,
                k_rule=choice.rule,
            )
        else:
            k = args["k"]
            params.update(k_mode="given")
        params["k"] = k
        km = KMeans(k=k, seed=args["seed"], maxIter=50, featuresCol="features").fit(scaled)
        centers = np.asarray(km.clusterCenters())
        labeled = km.transform(scaled).select("user_anon_id", *COLS, "prediction")
    else:
        if args["eps"] is None:
            dbscan_model, eps_rows, curve = choose_eps(
                x_sample, args["min_samples"], args["silhouette_sample"], args["seed"]
            )
            eps = dbscan_model.eps
            params["eps_mode"] = "k-distance curve: best silhouette x (1 - noise)"
            qs = [0.1, 0.25, 0.5, 0.75, 0.9, 0.99]
            extra_artifacts["k_distance.json"] = {
                "k": args["min_samples"],
                "quantiles": dict(zip(map(str, qs), np.quantile(curve, qs).tolist(), strict=True)),
                "eps": eps,
            }
        else:
            eps = float(args["eps"])
            params["eps_mode"] = "given"
            dbscan_model = fit_dbscan(x_sample, eps, args["min_samples"])
        params.update(eps=eps, min_samples=args["min_samples"])
        labeled = assign_dbscan(df, dbscan_model, mean, std)
    labeled = labeled.withColumn("prediction", F.col("prediction").cast("long")).cache()

    local = labeled.select(*COLS, "prediction").toPandas()
    labels = local["prediction"].to_numpy(dtype=np.int64)
    x_all = _scale(local[COLS].to_numpy(dtype=float), mean, std)
    scores = metrics(x_all, labels, args["silhouette_sample"], args["seed"])
    profiles = build_profiles(local, labels, COLS)
    names = {p["segment_id"]: p["name"] for p in profiles}
    seg_model = SegmentModel(
        algorithm=algorithm,
        columns=COLS,
        mean=mean,
        std=std,
        names=names,
        centers=centers,
        dbscan=dbscan_model,
        params={k: v for k, v in params.items() if isinstance(v, int | float | str)},
    )

    tracker = Tracker(args["mlflow_tracking_uri"], args["mlflow_experiment"])
    registered = f"segmentation-{algorithm}" if args["register_model"] else None
    tags = {
        "pipeline_run_id": args["run_id"],
        "snapshot_date": snapshot,
        "data_snapshot": features_uri,
        "code_version": code_version(),
        "algorithm": algorithm,
        "lake_prefix": args["lake_prefix"],
    }
    mlflow_run_id = tracker.start(f"{algorithm}-{snapshot}-{args['run_id']}", tags)
    try:
        tracker.params(params)
        if sweep:
            tracker.sweep("k_sweep", sweep, step_key="k")
        if eps_rows:
            tracker.sweep("eps_sweep", eps_rows)
        tracker.metrics({k: v for k, v in scores.items() if v is not None})
        tracker.metrics({f"segment_{p['segment_id']}_share": p["share"] for p in profiles})
        tracker.json_artifact("scaler.json", seg_model.scaler_json(), "model_parts")
        if centers is not None:
            tracker.json_artifact("centers.json", centers.tolist(), "model_parts")
        for name, payload in extra_artifacts.items():
            tracker.json_artifact(name, payload)
        quality_uri = paths.quality_report(args["run_id"])
        if lakeio.exists(spark, quality_uri):
            tracker.json_artifact("quality_report.json", lakeio.read_json(spark, quality_uri))
        example = local[COLS].head(5).reset_index(drop=True)
        version = tracker.model(pyfunc_wrapper(seg_model), registered, example)
        model_version = (
            f"{registered}-v{version}"
            if registered and version
            else f"{algorithm}-{args['run_id']}"
        )
        tracker.client.set_tag(mlflow_run_id, "model_version", model_version)

        doc = {
            "model_version": model_version,
            "algorithm": algorithm,
            "snapshot_date": snapshot,
            "pipeline_run_id": args["run_id"],
            "mlflow_run_id": mlflow_run_id,
            "registered_model": registered,
            "n_users": n,
            "params": params,
            "metrics": scores,
            "k_sweep": sweep,
            "eps_sweep": eps_rows,
            "features": [f.__dict__ for f in FEATURES],
            "segments": profiles,
        }
        tracker.json_artifact("profiles.json", doc)

        map_uri = paths.segment_map(model_version)
        (
            labeled.select(
                "user_anon_id",
                F.col("prediction").cast("int").alias("segment_id"),
                _name_expr(names).alias("segment_name"),
                F.lit(model_version).alias("model_version"),
            )
            .coalesce(max(1, math.ceil(n / 2_000_000)))
            .write.mode("overwrite")
            .parquet(map_uri)
        )
        profiles_uri = paths.profiles(model_version)
        lakeio.write_json(spark, profiles_uri, doc)
        tracker.end()
    except BaseException:
        tracker.end("FAILED")
        raise
    finally:
        for frame in (labeled, scaled, df):
            frame.unpersist()

    return {
        "step": "cluster",
        "run_id": args["run_id"],
        "algorithm": algorithm,
        "model_version": model_version,
        "mlflow_run_id": mlflow_run_id,
        "registered_model": registered,
        "n_users": n,
        "k": params.get("k"),
        "k_rule": params.get("k_rule"),
        "k_sweep": sweep,
        "eps": params.get("eps"),
        "metrics": scores,
        "segments": [
            {"segment_id": p["segment_id"], "name": p["name"], "size": p["size"]} for p in profiles
        ],
        "segment_map": map_uri,
        "profiles": profiles_uri,
    }
