"""Benchmark: the synthetic data set at paper scale (50,000 users, 90 days, ~5M events).

Prints events/s, wall time split into generation and writing, peak RSS and output size.
Override the scale with ``SEG_BENCH_USERS`` (e.g. 5000 for a quick run).
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    from segmentation_local.synthetic import GenerateParams, generate, write_dataset

    users = int(os.environ.get("SEG_BENCH_USERS", "50000"))
    params = GenerateParams(users=users, days=90, seed=42)
    with tempfile.TemporaryDirectory(prefix="seg-bench-gen-") as tmp:
        t0 = time.perf_counter()
        ds = generate(params)
        t1 = time.perf_counter()
        write_dataset(ds, Path(tmp))
        t2 = time.perf_counter()
        sizes = {p.name: p.stat().st_size for p in Path(tmp).iterdir()}
    events = ds.summary["counts"]["events"]
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"users            {users:,}")
    print(f"events           {events:,} (CSV rows {ds.summary['counts']['events_csv_rows']:,})")
    print(f"generate         {t1 - t0:.1f} s")
    print(f"write            {t2 - t1:.1f} s (Parquet + CSV of 4 tables, labels, summary)")
    print(f"wall             {t2 - t0:.1f} s")
    print(f"events/s         {events / (t2 - t0):,.0f} (end to end), {events / (t1 - t0):,.0f} "
          "(generation only)")  # fmt: skip
    print(f"peak RSS         {peak_mib:,.0f} MiB")
    print(f"output           {sum(sizes.values()) / 2**20:,.0f} MiB "
          f"(events.csv {sizes['events.csv'] / 2**20:,.0f} MiB, "
          f"events.parquet {sizes['events.parquet'] / 2**20:,.0f} MiB)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
