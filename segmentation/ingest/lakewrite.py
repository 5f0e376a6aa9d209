"""Turn validated events into lake rows (user id replaced by its HMAC) and write them to S3.

Object keys are chosen by the caller from where the records came from (Kafka offsets, landing
object + chunk), never from the clock or a random id: writing the same input twice replaces the
same objects, so a retried batch cannot duplicate events.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from segmentation.anonymise import Anonymiser
from segmentation.contract import STORED_COLUMNS
from segmentation.lake import LAKE_EVENT_SCHEMA, LAKE_NAMES, PARTITION_COLUMN

_TS = pa.timestamp("us", tz="UTC")


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` -> (``bucket``, ``a/b``)."""
    if not uri.startswith("s3://"):
        raise ValueError(f"expected an s3:// URI, got {uri!r}")
    bucket, _, prefix = uri[5:].partition("/")
    return bucket, prefix.strip("/")


def to_lake(
    valid: pa.Table,
    anonymiser: Anonymiser,
    source: Sequence[str] | str,
    ingest_ts: datetime,
) -> pa.Table:
    """Validated events (``validate.VALID_SCHEMA``) -> ``LAKE_EVENT_SCHEMA`` + ``event_date``.

    The raw ``user_id`` column is consumed here and is not part of the result; only its HMAC is.
    """
    n = valid.num_rows
    anon = anonymise_column(valid.column("user_id"), anonymiser)
    sources = pa.array([source] * n, pa.string()) if isinstance(source, str) else pa.array(source)
    # the contract's stored columns under their lake names (LAKE_NAMES), the raw id replaced
    columns: dict[str, Any] = {LAKE_NAMES.get(c, c): valid.column(c) for c in STORED_COLUMNS}
    columns["user_anon_id"] = anon
    columns["ingest_ts"] = pa.array([ingest_ts] * n, _TS)
    columns["source"] = sources
    table = pa.table([columns[f.name] for f in LAKE_EVENT_SCHEMA], schema=LAKE_EVENT_SCHEMA)
    day = pc.cast(pc.cast(table.column("event_ts"), pa.date32()), pa.string())
    return table.append_column(PARTITION_COLUMN, day)


def anonymise_column(ids: pa.Array | pa.ChunkedArray, anonymiser: Anonymiser) -> pa.Array:
    """HMAC of every id, computed once per distinct id (a batch repeats its active users)."""
    encoded = pc.dictionary_encode(
        ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
    )
    distinct = pa.array(anonymiser.anon_many(encoded.dictionary.to_pylist()), pa.string())
    return distinct.take(encoded.indices)


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue()


def write_partitioned(s3: Any, uri: str, table: pa.Table, name: str) -> list[str]:
    """Write ``table`` under ``uri`` as ``event_date=<day>/<name>.parquet``, one object per day.

    The partition value lives in the path (Hive style), as Spark and Athena expect; the file
    holds ``LAKE_EVENT_SCHEMA`` exactly.
    """
    bucket, prefix = split_s3_uri(uri)
    keys = []
    days = table.column(PARTITION_COLUMN)
    for day in sorted(pc.unique(days).to_pylist()):
        part = table.filter(pc.equal(days, day)).drop_columns([PARTITION_COLUMN])
        key = f"{prefix}/{PARTITION_COLUMN}={day}/{name}.parquet"
        s3.put_object(Bucket=bucket, Key=key, Body=parquet_bytes(part))
        keys.append(f"s3://{bucket}/{key}")
    return keys


class DayBuffer:
    """Rows of a landing file held per ``event_date`` and written as few objects as memory allows.

    A file is read in chunks, and a chunk writes one object per day it touches: late and
    out-of-window events scatter a few rows of every chunk over many days, so a 4.6M-row history
    of 93 chunks wrote ~4,700 objects, and every object costs each later Spark scan of the zone
    several S3 requests. Here rows wait per day; when more than ``max_rows`` wait, the largest
    days are written until half of that remains, and ``close`` writes the rest. Objects are named
    ``<name>-<sequence>``, and the sequence follows only from the file's content and chunking,
    so a retried file rewrites the same keys. Nothing is written for rows never closed (a file
    that turns out unreadable contributes no rows).
    """

    def __init__(self, s3: Any, uri: str, name: str, max_rows: int) -> None:
        self.s3, self.uri, self.name, self.max_rows = s3, uri, name, max(1, max_rows)
        self.days: dict[str, list[pa.Table]] = {}
        self.rows: dict[str, int] = {}
        self.sequence = 0
        self.written: list[str] = []

    @property
    def buffered(self) -> int:
        return sum(self.rows.values())

    def add(self, table: pa.Table) -> None:
        """Buffer lake rows (``to_lake`` output, with ``event_date``); may write some days."""
        days = table.column(PARTITION_COLUMN)
        for day in sorted(pc.unique(days).to_pylist()):
            part = table.filter(pc.equal(days, day))
            self.days.setdefault(day, []).append(part)
            self.rows[day] = self.rows.get(day, 0) + part.num_rows
        if self.buffered > self.max_rows:
            # largest first; ties by day, so the order never depends on dict history
            for day in sorted(self.rows, key=lambda d: (-self.rows[d], d)):
                self._write(day)
                if self.buffered <= self.max_rows // 2:
                    break

    def close(self) -> list[str]:
        """Write every buffered day; returns the URIs of all objects this buffer wrote."""
        for day in sorted(self.rows):
            self._write(day)
        return self.written

    def _write(self, day: str) -> None:
        table = pa.concat_tables(self.days.pop(day))
        del self.rows[day]
        self.written += write_partitioned(
            self.s3, self.uri, table, f"{self.name}-{self.sequence:05d}"
        )
        self.sequence += 1
