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
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import PeakMemory


def parse_args(argv: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "users": 500_000,
        "provision": "python",
        "days": 90,
        "driver_memory": "10g",
    }
    order = list(out)
    for i, arg in enumerate(argv):
        key, sep, value = arg.partition("=")
        if not sep:
            key, value = order[i], arg
        if key not in out:
            raise SystemExit(f"unknown argument {arg!r}; expected {', '.join(order)}")
        out[key] = value if key in {"provision", "driver_memory"} else int(value)
    return out


def main() -> int:
    from segmentation_local.demo import DemoConfig, clean_line, run_demo

    cfg = parse_args(sys.argv[1:])
    os.environ["SEG_SPARK_DRIVER_MEMORY"] = cfg["driver_memory"]  # before any Settings is read
    with tempfile.TemporaryDirectory(prefix="bench-big-") as tmp, PeakMemory() as mem:
        t0 = time.perf_counter()
        result = run_demo(
            DemoConfig(
                snapshots=1,  # one full run: the figures are of a first load
                users=cfg["users"],
                days=cfg["days"],
                provision=cfg["provision"],
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

    print(
        f"\nbig pipeline: {cfg['users']:,} users x {cfg['days']} days "
        f"({cfg['users'] / 50_000:g}x paper scale), provisioning {cfg['provision']}, "
        f"Spark driver {cfg['driver_memory']}"
    )
    for stage, seconds in result.timings.items():
        line(stage, seconds)
        if stage.startswith("ingest"):
            line("split: last days to stream, the rest as a CSV", ing["split_seconds"], 4)
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
    if result.clean:
        print(f"  {clean_line(result.clean)}")
    print(f"  peak RSS of the process tree: {mem.peak_gb:.2f} GB")
    m = result.model
    if m is not None:
        print(f"  model {m.model_version}: {m.n_users} users, k={m.params.get('k')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
