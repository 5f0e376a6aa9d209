"""Opt-in (``make bench-big``, not part of ``make bench``): the pipeline end to end at 10x paper
scale, 500k users x 90 days (~50M events), stage by stage.

The very demo a user runs (moto server, Kafka broker, MLflow, provisioning, the generator, Kafka
+ landing ingest, the state machine executed locally, the API), scaled up; prints each stage's
time, the ingest split, each state machine task's time, what clean did, and the peak resident
memory of the whole process tree (moto, broker, MLflow and Spark's JVM included). No target yet:
the figure goes to docs/pipeline.md ("Incremental runs: figures"). It takes long on 2 cores;
``users=100000`` is a quicker check that it runs.

The local Spark driver gets ``driver_memory`` (default 10g; the demo's 2g setting,
``SEG_SPARK_DRIVER_MEMORY``, is sized for paper scale): at 500k users the first clean read all
12,334 objects and wrote its 458 days with 2g, then died of ``OutOfMemoryError: Java heap
space`` after 32 minutes (measured 2026-12-03), and the state machine's retry started it again.

Usage: python bench/big_pipeline.py [users=500000] [provision=python|terraform] [days=90]
       [driver_memory=10g]
"""

from __future__ import annotations

import os
import sys

from _common import first_load, parse_kv, stage_lines


def main() -> int:
    from segmentation_local.demo import clean_line

    cfg = parse_kv(
        sys.argv[1:],
        {"users": 500_000, "provision": "python", "days": 90, "driver_memory": "10g"},
        {"provision": {"python", "terraform"}},
    )
    os.environ["SEG_SPARK_DRIVER_MEMORY"] = cfg["driver_memory"]  # before any Settings is read
    result, total, mem = first_load(cfg["users"], cfg["days"], cfg["provision"], "bench-big")
    print(
        f"\nbig pipeline: {cfg['users']:,} users x {cfg['days']} days "
        f"({cfg['users'] / 50_000:g}x paper scale), provisioning {cfg['provision']}, "
        f"Spark driver {cfg['driver_memory']}"
    )
    print("\n".join(stage_lines(result, total)))
    if result.clean:
        print(f"  {clean_line(result.clean)}")
    print(f"  peak RSS of the process tree: {mem.peak_gb:.2f} GB")
    m = result.model
    if m is not None:
        print(f"  model {m.model_version}: {m.n_users} users, k={m.params.get('k')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
