"""Send events from a file (CSV or Parquet, e.g. the generator's output) to the Kafka topic.

Idempotent producer (no duplicates from its own retries), keyed by user id so one user's events
stay in order on one partition, JSON values with the contract's field names. The producer does
not judge the events: invalid ones are sent as they are, and the ingest quarantines them.
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson

from segmentation.contract import COLUMNS
from segmentation.ingest.kafka_auth import client_config

NUMERIC = {"amount", "watch_seconds"}


@dataclass
class ProduceSummary:
    sent: int = 0
    failed: int = 0
    seconds: float = 0.0
    first_error: str | None = None

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    def __str__(self) -> str:
        text = f"sent {self.sent} events in {self.seconds:.2f} s ({self.rate:,.0f} events/s)"
        if self.failed:
            text += f"; {self.failed} failed (first error: {self.first_error})"
        return text


def _json_value(name: str, value: Any) -> Any:
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if name in NUMERIC and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value  # sent as is: the ingest's contract check will say what is wrong
    return value


def to_message(row: dict[str, Any]) -> tuple[bytes | None, bytes]:
    """(key, value) for one row: only contract fields, empty CSV cells left out."""
    event = {
        name: _json_value(name, row[name])
        for name in COLUMNS
        if name in row and row[name] is not None and row[name] != ""
    }
    user = event.get("user_id")
    key = str(user).encode() if user is not None else None
    return key, orjson.dumps(event)


def read_rows(path: Path) -> tuple[Iterator[dict[str, Any]], int | None]:
    """Rows of a CSV or Parquet file, streamed; and their count when known cheaply."""
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        wanted = [c for c in COLUMNS if c in pf.schema_arrow.names]

        def parquet_rows() -> Iterator[dict[str, Any]]:
            for batch in pf.iter_batches(batch_size=10000, columns=wanted):
                yield from batch.to_pylist()

        return parquet_rows(), pf.metadata.num_rows
    if name.endswith(".csv"):

        def csv_rows() -> Iterator[dict[str, Any]]:
            with path.open(newline="", encoding="utf-8-sig") as f:
                yield from csv.DictReader(f)

        return csv_rows(), None
    raise ValueError(f"cannot read {path}: expected a .csv or .parquet file")


def produce_file(
    path: Path,
    bootstrap: str,
    topic: str,
    *,
    iam: bool = False,
    region: str = "us-east-1",
    limit: int | None = None,
    progress: bool = True,
) -> ProduceSummary:
    from confluent_kafka import Producer
    from tqdm import tqdm

    if not path.is_file():
        raise FileNotFoundError(f"input file not found: {path}")
    rows, total = read_rows(path)
    if limit is not None:
        total = min(total, limit) if total is not None else limit
    producer = Producer(
        {
            **client_config(bootstrap, iam=iam, region=region),
            "enable.idempotence": True,  # acks=all, no duplicates or reordering from retries
            "linger.ms": 20,
            "batch.num.messages": 10000,
            "queue.buffering.max.messages": 200000,
        }
    )
    summary = ProduceSummary()

    def delivered(err: Any, _msg: Any) -> None:
        if err is None:
            summary.sent += 1
        else:
            summary.failed += 1
            summary.first_error = summary.first_error or str(err)

    started = time.perf_counter()
    bar = tqdm(total=total, unit="ev", disable=not progress, mininterval=0.5)
    try:
        for n, row in enumerate(rows):
            if limit is not None and n >= limit:
                break
            key, value = to_message(row)
            while True:
                try:
                    producer.produce(topic, value=value, key=key, on_delivery=delivered)
                    break
                except BufferError:  # local queue full: let deliveries drain
                    producer.poll(0.1)
            producer.poll(0)
            bar.update(1)
        remaining = producer.flush(60)
        if remaining:
            summary.failed += remaining
            summary.first_error = summary.first_error or f"{remaining} not delivered within 60 s"
    finally:
        bar.close()
    summary.seconds = time.perf_counter() - started
    return summary
