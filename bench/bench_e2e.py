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
import tempfile
import time
from pathlib import Path

from _common import PeakMemory


def main() -> int:
    from segmentation_local.demo import DemoConfig, run_demo

    users = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    provision = sys.argv[2] if len(sys.argv) > 2 else "terraform"
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp, PeakMemory() as mem:
        t0 = time.perf_counter()
        result = run_demo(
            DemoConfig(
                snapshots=1,  # one full run: the figures are of a first load
                users=users,
                days=90,
                provision=provision,
                free_ports=True,
                state_dir=Path(tmp),
                quiet=True,
            )
        )
        total = time.perf_counter() - t0
    ing = result.ingest
    rows = ing["batch_report"].get("rows_total", 0)

    def line(label: str, seconds: float, indent: int = 2) -> None:
        print(f"{' ' * indent}{label:<{70 - indent}} {seconds:8.1f} s")

    print(f"\npaper-scale end to end: {users} users x 90 days, provisioning {provision}")
    for stage, seconds in result.timings.items():
        line(stage, seconds)
        if stage.startswith("ingest"):
            line(
                "split the data set: last days to stream, the rest as a CSV",
                ing["split_seconds"],
                4,
            )
            line(
                f"Kafka -> poller -> ingest Lambda ({ing['polled']:,} events)",
                ing["stream_seconds"],
                4,
            )
            line(f"landing CSV -> batch ingest Lambda ({rows:,} rows)", ing["batch_seconds"], 4)
        if stage.startswith("run the state machine"):
            for state in result.execution.get("states", []):
                if state["type"] == "Task":
                    line(f"task {state['name']}", state["duration_s"], 4)
    line("total", total)
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
