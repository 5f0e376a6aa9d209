"""The whole local system at paper scale, timed stage by stage.

Runs the very demo a user runs (``segmentation demo``: moto server, Kafka broker, MLflow server,
Terraform envs/local, generated data, Kafka + landing ingest, the state machine executed locally,
the API) on 50k users x 90 days (~5M events) and prints each stage's time, the ingest split
(Kafka path, landing path), each state machine task's time, and the peak resident memory of the
whole process tree (moto, broker, MLflow, Spark's JVM included).
Usage: python bench/bench_e2e.py [users=50000] [provision=terraform|python]
"""

from __future__ import annotations

import sys

from _common import first_load, parse_kv, stage_lines


def main() -> int:
    cfg = parse_kv(
        sys.argv[1:],
        {"users": 50_000, "provision": "terraform"},
        {"provision": {"python", "terraform"}},
    )
    result, total, mem = first_load(cfg["users"], 90, cfg["provision"], "bench-e2e")
    print(
        f"\npaper-scale end to end: {cfg['users']} users x 90 days, provisioning {cfg['provision']}"
    )
    print("\n".join(stage_lines(result, total)))
    print(f"  peak RSS of the process tree: {mem.peak_gb:.2f} GB")
    m = result.model
    if m is not None:
        print(
            f"  model {m.model_version}: {m.n_users} users, k={m.params.get('k')}, "
            f"metrics {m.metrics}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
