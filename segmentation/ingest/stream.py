"""Streaming ingest: one MSK batch -> validated, anonymised Parquet in the hot zone + quarantine.

Failure semantics follow the event source mapping: a bad record is quarantined and never fails the
batch; a failed write (S3) raises, so the mapping retries the whole batch. Retrying is safe because
every object key is derived from the batch's topic, partition and offset range: the retry
overwrites what the failed attempt wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from segmentation.anonymise import Anonymiser
from segmentation.config import Settings
from segmentation.ingest import quarantine
from segmentation.ingest.kafka import (
    UNPARSED,
    KafkaBatch,
    decode_event,
    duplicate_keys,
    parse_value,
)
from segmentation.ingest.lakewrite import split_s3_uri, to_lake, write_partitioned
from segmentation.ingest.validate import ROW, validate_records
from segmentation.lake import LakePaths


@dataclass
class IngestSummary:
    """What one batch did; logged and turned into metrics by the handler (no ids in it)."""

    records_in: int = 0
    valid: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    objects: list[str] = field(default_factory=list)
    ranges: dict[str, list[int]] = field(default_factory=dict)  # "topic-partition" -> [first, last]
    oldest_record_ms: int | None = None


def object_name(topic: str, partition: int, first: int, last: int) -> str:
    """Zero-padded so keys sort in offset order."""
    return f"kafka-{topic}-{partition}-{first:020d}-{last:020d}"


def ingest_kafka_event(
    event: Mapping[str, Any],
    *,
    anonymiser: Anonymiser,
    s3: Any,
    settings: Settings,
    now: datetime | None = None,
) -> IngestSummary:
    now = now or datetime.now(UTC)
    batch = decode_event(event)
    n = len(batch)
    summary = IngestSummary(records_in=n)
    if not n:
        return summary
    timestamps = [t for t in batch.timestamps if isinstance(t, int)]
    summary.oldest_record_ms = min(timestamps) if timestamps else None

    # Parse what can be parsed; the rest is quarantined with the reason found.
    bad: dict[int, dict[str, Any]] = {
        i: _entry(batch, i, reason, anonymiser, now) for i, reason in batch.problems.items()
    }
    parsed: list[Any] = []
    parsed_at: list[int] = []
    limit = settings.ingest_max_record_bytes
    loads = orjson.loads
    for i, value in enumerate(batch.values):
        if value is None:
            continue
        if len(value) > limit:
            bad[i] = _entry(batch, i, "too_large", anonymiser, now)
            continue
        try:
            obj = loads(value)
        except orjson.JSONDecodeError:
            obj, problem = parse_value(value)
            if obj is UNPARSED:
                bad[i] = _entry(batch, i, "invalid_json", anonymiser, now, detail=problem)
                continue
        repeated = duplicate_keys(value, obj)
        if repeated:
            names = ", ".join(sorted(repeated))
            bad[i] = _entry(
                batch,
                i,
                "duplicate_key",
                anonymiser,
                now,
                record=obj,
                detail=f"the object names {names} more than once (one value per field)",
                extra_ids=[v for vs in repeated.values() for v in vs if isinstance(v, str)],
            )
            continue
        parsed.append(obj)
        parsed_at.append(i)

    result = validate_records(parsed)
    for rej in result.rejected:
        i = parsed_at[rej.row]
        obj = parsed[rej.row]
        reason = "contract" if isinstance(obj, dict) else "not_an_object"
        bad[i] = _entry(batch, i, reason, anonymiser, now, record=obj, errors=rej.errors)

    # Lake rows: the valid events with their lineage; keys per topic-partition and day.
    positions = np.asarray(parsed_at, np.int64)[result.table.column(ROW).to_numpy()]
    group_of = np.empty(n, np.int64)
    for g, (_topic, _partition, lo, hi) in enumerate(batch.groups):
        group_of[lo:hi] = g
    offsets = batch.offsets
    prefixes = [f"kafka:{topic}/{partition}/" for topic, partition, _, _ in batch.groups]
    sources = [
        prefixes[g] + str(offsets[i])
        for g, i in zip(group_of[positions].tolist(), positions.tolist(), strict=True)
    ]
    lake = to_lake(result.table, anonymiser, sources, now)
    paths = LakePaths(settings)
    hot = paths.events("hot")
    row_group = pa.array(group_of[positions])
    single = len(batch.groups) == 1
    for g, (topic, partition, lo, hi) in enumerate(batch.groups):
        first, last = offsets[lo], offsets[hi - 1]
        summary.ranges[f"{topic}-{partition}"] = [first, last]
        part = lake if single else lake.filter(pc.equal(row_group, g))
        if part.num_rows:
            name = object_name(topic, partition, first, last)
            summary.objects += write_partitioned(s3, hot, part, name)

    # Quarantine: one JSON-lines object per topic-partition of the batch.
    if bad:
        q_bucket, q_prefix = split_s3_uri(paths.quarantine("kafka"))
        for topic, partition, lo, hi in batch.groups:
            entries = [bad[i] for i in range(lo, hi) if i in bad]
            if not entries:
                continue
            first, last = offsets[lo], offsets[hi - 1]
            key = f"{q_prefix}/topic={topic}/partition={partition}/{first:020d}-{last:020d}.jsonl"
            s3.put_object(Bucket=q_bucket, Key=key, Body=quarantine.jsonl(entries))
            summary.objects.append(f"s3://{q_bucket}/{key}")
    summary.valid = lake.num_rows
    summary.quarantined = len(bad)
    for e in bad.values():
        summary.reasons[e["reason"]] = summary.reasons.get(e["reason"], 0) + 1
    return summary


def _entry(
    batch: KafkaBatch,
    i: int,
    reason: str,
    anonymiser: Anonymiser,
    now: datetime,
    *,
    record: Any = None,
    errors: Any = (),
    detail: str | None = None,
    extra_ids: list[str] | None = None,
) -> dict[str, Any]:
    key = batch.key(i)
    key_anon, key_text = None, ""
    if key:  # producers key by user id: keep only its HMAC, and mask it wherever it appears
        key_text = key.decode("utf-8", "replace").strip()
        key_anon = anonymiser.anon(key_text)
    topic, partition = batch.location(i)
    return quarantine.entry(
        reason,
        record=record,
        parsed=record is not None,
        raw=batch.values[i],
        errors=errors,
        anonymiser=anonymiser,
        ingest_ts=now,
        detail=detail,
        other_ids=([key_text] if key_text else []) + [x.strip() for x in extra_ids or []],
        context={
            "source": "kafka",
            "topic": topic,
            "partition": partition,
            "offset": batch.offsets[i],
            "kafka_timestamp": batch.timestamps[i],
            "key_anon": key_anon,
        },
    )
