"""Clustering at paper scale and beyond, through the real pipeline steps on local Spark + moto.

Part 1 (this process): ~5M generated events of 50k users with defects -> clean -> features ->
K-Means with auto k (ARI against the generator's hidden personas), K-Means with k = #personas,
DBSCAN with eps from the k-distance curve, and the paper's eps=0.5.
Part 2 (fresh processes, so the generated data set does not count in their memory): 500k users
whose feature vectors are resampled from the 50k real ones with 2% jitter -> K-Means (given k,
auto k) in one process and DBSCAN (auto eps) in another, as separate EMR job runs would. Each
phase prints its time and the peak resident memory of the process tree (Python driver + Spark
JVM + Python workers; moto excluded).
Usage: python bench/bench_cluster.py [users=50000] [big=500000]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    PeakMemory,
    anonymised_ids,
    lake_events,
    moto_lake,
    upload_events,
    upload_parquet,
)

SNAP = "2026-09-30"


def _phase(label: str, moto_pids: set[int], fn):
    with PeakMemory(moto_pids) as mem:
        t = time.perf_counter()
        result = fn()
        dt = time.perf_counter() - t
    print(f"{label:<40} {dt:8.1f} s   peak RSS {mem.peak_gb:5.2f} GB", flush=True)
    return result


def _mlflow(tmp: str) -> str:
    import mlflow

    uri = f"sqlite:///{tmp}/mlflow.db"
    mlflow.MlflowClient(uri).create_experiment("bench", artifact_location=f"{tmp}/art")
    return uri


def _segments(result: dict) -> str:
    return ", ".join(f"{s['name']} ({s['size']})" for s in result["segments"])


def paper_scale(users: int, features_out: Path) -> int:
    import pandas as pd
    from sklearn.metrics import adjusted_rand_score

    from segmentation.pipeline.steps import run_clean, run_cluster, run_features
    from segmentation.spark import get_spark
    from segmentation_local.synthetic import GenerateParams, generate

    ds = generate(GenerateParams(users=users, seed=42))
    n_personas = len(ds.summary["personas"])
    print(
        f"generated {users} users, {ds.events.num_rows} events, {n_personas} personas", flush=True
    )
    labels = pd.DataFrame(
        {
            "user_anon_id": anonymised_ids(ds.labels["user_id"].combine_chunks()).to_pylist(),
            "persona": ds.labels["persona"].to_pylist(),
        }
    )
    uri = _mlflow(tempfile.mkdtemp(prefix="bench-mlflow-"))
    with moto_lake("bench") as (settings, moto):
        upload_events(settings, lake_events(ds.events))
        upload_parquet(settings, "raw", "catalog/catalog.parquet", ds.catalog)
        del ds
        spark = _phase("spark session", moto, lambda: get_spark("bench", settings))
        base = {"lake_prefix": settings.lake_prefix, "snapshot_date": SNAP, "run_id": "bench"}
        cl = {**base, "mlflow_tracking_uri": uri, "mlflow_experiment": "bench"}

        c = _phase("clean (~5M events)", moto, lambda: run_clean(base, spark))
        print(
            f"  rows {c['rows_in']} -> {c['rows_out']}, quarantined {c['quarantined']}, "
            f"duplicates {c['duplicates']}, outliers capped {c['outliers_capped']}"
        )
        f = _phase("features", moto, lambda: run_features(base, spark))
        print(f"  users {f['users']}")

        def ari(result: dict) -> tuple[float, pd.DataFrame]:
            seg = spark.read.parquet(result["segment_map"]).toPandas().merge(labels)
            keep = seg["segment_id"] != -1
            return adjusted_rand_score(seg["persona"][keep], seg["segment_id"][keep]), seg

        km = _phase(
            f"kmeans auto k, {users} users",
            moto,
            lambda: run_cluster({**cl, "algorithm": "kmeans", "k_min": "2", "k_max": "10"}, spark),
        )
        score, seg = ari(km)
        m = km["metrics"]
        print(
            f"  auto k = {km['k']} (personas {n_personas}); ARI vs personas {score:.3f}; "
            f"silhouette {m['silhouette']:.3f}, CH {m['calinski_harabasz']:.0f}, "
            f"DB {m['davies_bouldin']:.3f}"
        )
        print(f"  segments: {_segments(km)}")
        table = seg.groupby(["persona", "segment_name"]).size().unstack(fill_value=0)
        print("    " + table.to_string().replace("\n", "\n    "))

        k6 = _phase(
            f"kmeans k={n_personas}, {users} users",
            moto,
            lambda: run_cluster(
                {**cl, "algorithm": "kmeans", "k": str(n_personas), "register_model": "false"},
                spark,
            ),
        )
        print(f"  ARI vs personas {ari(k6)[0]:.3f}; segments: {_segments(k6)}")

        db = _phase(
            f"dbscan auto eps, {users} users",
            moto,
            lambda: run_cluster({**cl, "algorithm": "dbscan"}, spark),
        )
        m = db["metrics"]
        score, seg = ari(db)
        print(
            f"  eps {db['eps']:.3f} (min_samples 24): clusters {m['n_clusters']:.0f}, noise "
            f"{m['noise_share']:.1%}, ARI vs personas (non-noise) {score:.3f}, "
            f"ARI all (noise as a cluster) "
            f"{adjusted_rand_score(seg['persona'], seg['segment_id']):.3f}"
        )
        print(f"  segments: {_segments(db)}")
        for ms in ("10", "24"):
            p = _phase(
                f"dbscan eps=0.5 (paper), min_samples={ms}",
                moto,
                lambda ms=ms: run_cluster(
                    {
                        **cl,
                        "algorithm": "dbscan",
                        "eps": "0.5",
                        "min_samples": ms,
                        "register_model": "false",
                    },
                    spark,
                ),
            )
            print(
                f"  noise share {p['metrics']['noise_share']:.1%}, "
                f"clusters {p['metrics']['n_clusters']:.0f}"
            )
        spark.read.parquet(f["output"]).toPandas().to_parquet(features_out)
        spark.stop()
    return n_personas


def large(features_in: Path, big: int, k: int, algorithm: str) -> None:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from segmentation.pipeline.features import FEATURE_COLUMNS
    from segmentation.pipeline.steps import run_cluster
    from segmentation.spark import get_spark

    cols = list(FEATURE_COLUMNS)
    feats = pd.read_parquet(features_in)
    rng = np.random.default_rng(0)
    x = feats[cols].to_numpy()[rng.integers(0, len(feats), size=big)]
    x = np.maximum(0.0, x * (1.0 + 0.02 * rng.standard_normal(x.shape)))
    table = pa.table(
        {
            "user_anon_id": [f"{i:064x}" for i in range(big)],
            **{c: x[:, j] for j, c in enumerate(cols)},
        }
    )
    del feats, x
    uri = _mlflow(tempfile.mkdtemp(prefix="bench-mlflow-"))
    with moto_lake("big") as (settings, moto):
        upload_parquet(settings, "features", f"user_features/snapshot_date={SNAP}/p.parquet", table)
        del table
        spark = _phase("spark session", moto, lambda: get_spark("bench-big", settings))
        args = {
            "lake_prefix": settings.lake_prefix,
            "snapshot_date": SNAP,
            "run_id": "big",
            "mlflow_tracking_uri": uri,
            "mlflow_experiment": "bench",
        }
        if algorithm == "kmeans":
            r = _phase(
                f"kmeans k={k}, {big} users",
                moto,
                lambda: run_cluster(
                    {**args, "algorithm": "kmeans", "k": str(k), "register_model": "false"}, spark
                ),
            )
            print(f"  silhouette {r['metrics']['silhouette']:.3f}")
            r = _phase(
                f"kmeans auto k, {big} users",
                moto,
                lambda: run_cluster({**args, "algorithm": "kmeans"}, spark),
            )
            print(f"  auto k = {r['k']}")
        else:
            r = _phase(
                f"dbscan auto eps, {big} users",
                moto,
                lambda: run_cluster({**args, "algorithm": "dbscan"}, spark),
            )
            print(
                f"  eps {r['eps']:.3f}: clusters {r['metrics']['n_clusters']:.0f}, "
                f"noise {r['metrics']['noise_share']:.1%}"
            )
        spark.stop()


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--large":
        large(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
        return 0
    users = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    big = int(sys.argv[2]) if len(sys.argv) > 2 else 500_000
    with tempfile.TemporaryDirectory() as tmp:
        feats = Path(tmp) / "features.parquet"
        k = paper_scale(users, feats)
        status = 0
        # One fresh process per algorithm, as one EMR job run each: the JVM keeps the heap an
        # earlier phase grew, so a shared process would charge K-Means' memory to DBSCAN.
        for algorithm in ("kmeans", "dbscan"):
            print(f"--- {big} users, {algorithm} (fresh process) ---", flush=True)
            argv = [sys.executable, __file__, "--large", str(feats), str(big), str(k), algorithm]
            status = status or subprocess.call(argv)
        return status


if __name__ == "__main__":
    sys.exit(main())
