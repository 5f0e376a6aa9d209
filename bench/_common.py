"""Shared pieces of the Spark benchmarks: a private moto lake, generated data in the lake's
shape, and a peak-memory sampler over this process and its children (the Spark JVM)."""

from __future__ import annotations

import io
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
for key, value in {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
}.items():
    os.environ.setdefault(key, value)

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from segmentation.anonymise import Anonymiser  # noqa: E402
from segmentation.config import ZONES, Settings  # noqa: E402
from segmentation.lake import LAKE_EVENT_SCHEMA  # noqa: E402

if TYPE_CHECKING:
    from segmentation_local.demo import DemoResult

ANON = Anonymiser(b"b" * 32)


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


class PeakMemory:
    """Peak summed RSS of this process and its descendants (Spark's JVM, Python workers),
    excluding the moto server's process tree, sampled every 0.2 s."""

    def __init__(self, exclude: set[int] | None = None) -> None:
        self.exclude = exclude or set()
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = [p for p in _tree(os.getpid()) if p not in self.exclude]
            self.peak_kb = max(self.peak_kb, sum(_rss_kb(p) for p in pids))
            time.sleep(0.2)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_gb(self) -> float:
        return self.peak_kb / 1024 / 1024


@contextmanager
def moto_lake(prefix: str = "bench") -> Iterator[tuple[Settings, set[int]]]:
    """A moto server on a free port with every zone bucket; yields settings and moto's pids."""
    import boto3

    from segmentation_local.motoserver import moto_service
    from segmentation_local.process import free_port

    port = free_port()
    with tempfile.TemporaryDirectory() as tmp, moto_service(port, Path(tmp)) as svc:
        endpoint = f"http://127.0.0.1:{port}"
        os.environ["SEG_AWS_ENDPOINT_URL"] = endpoint
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        from segmentation.config import get_settings

        get_settings.cache_clear()
        settings = Settings(aws_endpoint_url=endpoint, lake_prefix=prefix)
        s3 = boto3.client("s3", endpoint_url=endpoint)
        for zone in ZONES:
            s3.create_bucket(Bucket=settings.bucket(zone))
        assert svc.process is not None
        yield settings, set(_tree(svc.process.pid))


def anonymised_ids(user_ids: pa.Array) -> pa.Array:
    """HMAC each distinct id once, then map (50k HMACs instead of 5M)."""
    uniq = pc.unique(user_ids)
    anon = pa.array(ANON.anon_many(uniq.to_pylist()))
    return pc.take(anon, pc.index_in(user_ids, value_set=uniq))


def lake_events(events: pa.Table) -> pa.Table:
    """Generator events (contract columns) -> LAKE_EVENT_SCHEMA, as ingest writes them."""
    n = events.num_rows
    now = pa.scalar(int(time.time() * 1e6), pa.timestamp("us", tz="UTC"))
    cols = {
        "event_id": events["event_id"],
        "user_anon_id": anonymised_ids(events["user_id"].combine_chunks()),
        "event_ts": events["timestamp"],
        "event_type": events["event_type"],
        "amount": events["amount"],
        "session_id": events["session_id"],
        "content_id": events["content_id"],
        "device": events["device"],
        "watch_seconds": events["watch_seconds"],
        "country": events["country"],
        "ingest_ts": pa.array(np.full(n, now.value), pa.timestamp("us", tz="UTC")),
        "source": pa.array(np.full(n, "batch", dtype=object), pa.string()),
    }
    return pa.table(cols, schema=LAKE_EVENT_SCHEMA)


def upload_events(settings: Settings, table: pa.Table, zone: str = "raw") -> None:
    """One Parquet object per event_date partition, as batch ingest lays them out."""
    import boto3

    s3 = boto3.client("s3", endpoint_url=settings.endpoint_url)
    days = pc.strftime(table["event_ts"], format="%Y-%m-%d")
    for day in pc.unique(days).to_pylist():
        part = table.filter(pc.equal(days, day))
        buf = io.BytesIO()
        pq.write_table(part, buf, compression="zstd")
        s3.put_object(
            Bucket=settings.bucket(zone),
            Key=f"events/event_date={day}/part-0.parquet",
            Body=buf.getvalue(),
        )


def upload_parquet(settings: Settings, zone: str, key: str, table: pa.Table) -> None:
    import boto3

    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    boto3.client("s3", endpoint_url=settings.endpoint_url).put_object(
        Bucket=settings.bucket(zone), Key=key, Body=buf.getvalue()
    )


def parse_kv(
    argv: list[str], defaults: dict[str, object], choices: dict[str, set[str]] | None = None
) -> dict[str, object]:
    """A bench's ``key=value`` arguments (or bare values, in the order of ``defaults``), each
    converted to its default's type (a ``None`` default takes a float); an unknown key or a value
    outside ``choices`` stops the bench with what was expected."""
    out = dict(defaults)
    order = list(defaults)
    for i, arg in enumerate(argv):
        key, sep, value = arg.partition("=")
        if not sep:
            if i >= len(order):
                raise SystemExit(f"unexpected argument {arg!r}; expected {', '.join(order)}")
            key, value = order[i], arg
        if key not in out:
            raise SystemExit(f"unknown argument {arg!r}; expected {', '.join(order)}")
        default = defaults[key]
        kind = float if default is None else type(default)
        try:
            out[key] = kind(value)
        except ValueError:
            raise SystemExit(f"{key}= takes a {kind.__name__}, not {value!r}") from None
        allowed = (choices or {}).get(key)
        if allowed and out[key] not in allowed:
            raise SystemExit(f"{key}= is one of {', '.join(sorted(allowed))}, not {value!r}")
    return out


def first_load(
    users: int,
    days: int,
    provision: str,
    name: str,
    on_ready: Callable[[DemoResult], None] | None = None,
) -> tuple[DemoResult, float, PeakMemory]:
    """The demo a user runs, one snapshot (a first load), quietly, in ``.local/<name>`` (wiped
    when the next run of the bench starts, kept after it: when a stage fails, its logs say
    why), ``on_ready`` called while its services still run; returns its result, its seconds
    and the peak memory of the whole process tree."""
    import shutil

    from segmentation_local.demo import DemoConfig, run_demo

    state = ROOT / ".local" / name
    shutil.rmtree(state, ignore_errors=True)
    print(f"{name}: logs (Spark, services) in {state / 'logs'}", flush=True)
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        result = run_demo(
            DemoConfig(
                snapshots=1,  # one full run: the figures are of a first load
                users=users,
                days=days,
                provision=provision,
                free_ports=True,
                state_dir=state,
                quiet=True,
                on_ready=on_ready,
            )
        )
        total = time.perf_counter() - t0
    return result, total, mem


def stage_lines(result: DemoResult, total: float) -> list[str]:
    """The demo's stages with their seconds, the ingest split under the ingest stage and each
    state machine task under the run, then the total."""
    out: list[str] = []

    def line(label: str, seconds: float, indent: int = 2) -> None:
        out.append(f"{' ' * indent}{label:<{70 - indent}} {seconds:8.1f} s")

    ing = result.ingest
    rows = ing["batch_report"].get("rows_total", 0)
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
    return out
