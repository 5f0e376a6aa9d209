"""Clustering at paper scale and beyond, through the real pipeline steps on local Spark + moto.

Prints: clean / features / cluster times at 50k users (~5M generated events with defects),
K-Means auto-k and its ARI against the generator's hidden personas, DBSCAN (auto eps) and the
paper's eps=0.5 noise share, then K-Means and DBSCAN at 500k users (feature vectors resampled
from the 50k real ones with 2% jitter) with the peak memory of the process tree (driver JVM +
Python), moto excluded. Usage: python bench/bench_cluster.py [users=50000] [big=500000]
"""

from __future__ import annotations

import sys
import tempfile
import time

from _common import PeakMemory, lake_events, moto_lake, upload_events, upload_parquet

SNAP = "2026-09-30"
SNAP_BIG = "2026-10-01"


def _phase(label: str, moto_pids: set[int], fn):
    with PeakMemory(moto_pids) as mem:
        t = time.perf_counter()
        result = fn()
        dt = time.perf_counter() - t
    print(f"{label:<44} {dt:8.1f} s   peak {mem.peak_gb:5.2f} GB", flush=True)
    return result


def main() -> int:
    import numpy as np
    import pyarrow as pa
    from _common import anonymised_ids
    from sklearn.metrics import adjusted_rand_score

    from segmentation.pipeline.features import FEATURE_COLUMNS
    from segmentation.pipeline.steps import run_clean, run_cluster, run_features
    from segmentation.spark import get_spark
    from segmentation.synthetic import GenerateParams, generate

    users = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    big = int(sys.argv[2]) if len(sys.argv) > 2 else 500_000
    ds = generate(GenerateParams(users=users, seed=42))
    n_personas = len(ds.summary["personas"])
    print(f"generated {users} users, {ds.events.num_rows} events, {n_personas} personas")
    tmp = tempfile.mkdtemp(prefix="bench-mlflow-")
    mlflow_uri = f"sqlite:///{tmp}/mlflow.db"
    import mlflow

    mlflow.MlflowClient(mlflow_uri).create_experiment("bench", artifact_location=f"{tmp}/art")

    with moto_lake("bench") as (settings, moto_pids):
        upload_events(settings, lake_events(ds.events))
        upload_parquet(settings, "raw", "catalog/catalog.parquet", ds.catalog)
        spark = _phase("spark session", moto_pids, lambda: get_spark("bench", settings))
        base = {"lake_prefix": settings.lake_prefix, "snapshot_date": SNAP, "run_id": "bench"}
        cl = {**base, "mlflow_tracking_uri": mlflow_uri, "mlflow_experiment": "bench"}

        c = _phase("clean (5M events)", moto_pids, lambda: run_clean(base, spark))
        print(
            f"  rows {c['rows_in']} -> {c['rows_out']}, quarantined {c['quarantined']}, "
            f"duplicates {c['duplicates']}, capped {c['outliers_capped']}"
        )
        f = _phase("features", moto_pids, lambda: run_features(base, spark))
        print(f"  users {f['users']}")

        km = _phase(
            f"kmeans auto k at {users}",
            moto_pids,
            lambda: run_cluster({**cl, "algorithm": "kmeans", "k_min": "2", "k_max": "10"}, spark),
        )
        seg = spark.read.parquet(km["segment_map"]).toPandas()
        labels = ds.labels.append_column(
            "user_anon_id", anonymised_ids(ds.labels["user_id"].combine_chunks())
        ).to_pandas()
        merged = seg.merge(labels, on="user_anon_id")
        ari = adjusted_rand_score(merged["persona"], merged["segment_id"])
        print(
            f"  auto k = {km['k']} (personas: {n_personas}), ARI vs personas = {ari:.3f}, "
            f"silhouette {km['metrics']['silhouette']:.3f}, "
            f"CH {km['metrics']['calinski_harabasz']:.0f}, "
            f"DB {km['metrics']['davies_bouldin']:.3f}"
        )
        print("  segments: " + ", ".join(f"{s['name']} ({s['size']})" for s in km["segments"]))
        print("  crosstab persona x segment name:")
        seg_names = merged.groupby(["persona", "segment_name"]).size().unstack(fill_value=0)
        print("    " + seg_names.to_string().replace("\n", "\n    "))

        k6 = _phase(
            f"kmeans k={n_personas} at {users}",
            moto_pids,
            lambda: run_cluster(
                {**cl, "algorithm": "kmeans", "k": str(n_personas), "register_model": "false"},
                spark,
            ),
        )
        seg6 = spark.read.parquet(k6["segment_map"]).toPandas().merge(labels, on="user_anon_id")
        print(
            f"  ARI (k={n_personas}) = "
            f"{adjusted_rand_score(seg6['persona'], seg6['segment_id']):.3f}"
        )

        db = _phase(
            f"dbscan auto eps at {users}",
            moto_pids,
            lambda: run_cluster({**cl, "algorithm": "dbscan"}, spark),
        )
        segd = spark.read.parquet(db["segment_map"]).toPandas().merge(labels, on="user_anon_id")
        keep = segd["segment_id"] != -1
        print(
            f"  eps = {db['eps']:.3f} (min_samples 24), clusters "
            f"{db['metrics']['n_clusters']:.0f}, noise {db['metrics']['noise_share']:.1%}, "
            f"ARI non-noise "
            f"{adjusted_rand_score(segd['persona'][keep], segd['segment_id'][keep]):.3f}"
        )
        p = _phase(
            "dbscan eps=0.5 (paper) at 50k",
            moto_pids,
            lambda: run_cluster(
                {
                    **cl,
                    "algorithm": "dbscan",
                    "eps": "0.5",
                    "min_samples": "10",
                    "register_model": "false",
                },
                spark,
            ),
        )
        print(
            f"  paper eps=0.5, min_samples=10: noise share {p['metrics']['noise_share']:.1%}, "
            f"clusters {p['metrics']['n_clusters']:.0f}"
        )

        feats = spark.read.parquet(f["output"]).toPandas()
        rng = np.random.default_rng(0)
        idx = rng.integers(0, len(feats), size=big)
        x = feats[list(FEATURE_COLUMNS)].to_numpy()[idx]
        x = np.maximum(0.0, x * (1.0 + 0.02 * rng.standard_normal(x.shape)))
        table = pa.table(
            {
                "user_anon_id": [f"{i:064x}" for i in range(big)],
                **{c: x[:, j] for j, c in enumerate(FEATURE_COLUMNS)},
            }
        )
        upload_parquet(
            settings, "features", f"user_features/snapshot_date={SNAP_BIG}/p.parquet", table
        )
        del feats, x, table
        big_args = {**cl, "snapshot_date": SNAP_BIG, "register_model": "false"}
        r = _phase(
            f"kmeans k={n_personas} at {big}",
            moto_pids,
            lambda: run_cluster({**big_args, "algorithm": "kmeans", "k": str(n_personas)}, spark),
        )
        print(f"  silhouette {r['metrics']['silhouette']:.3f}")
        r = _phase(
            f"kmeans auto k at {big}",
            moto_pids,
            lambda: run_cluster({**big_args, "algorithm": "kmeans"}, spark),
        )
        print(f"  auto k = {r['k']}")
        r = _phase(
            f"dbscan auto eps at {big}",
            moto_pids,
            lambda: run_cluster({**big_args, "algorithm": "dbscan"}, spark),
        )
        print(
            f"  eps = {r['eps']:.3f}, clusters {r['metrics']['n_clusters']:.0f}, "
            f"noise {r['metrics']['noise_share']:.1%}"
        )
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
