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
import pyarrow as pa
import pyarrow.compute as pc

from segmentation.anonymise import Anonymiser
from segmentation.config import Settings
from segmentation.ingest import quarantine
from segmentation.ingest.kafka import UNPARSED, KafkaRecord, decode_event, parse_value
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
    records = decode_event(event)
    summary = IngestSummary(records_in=len(records))
    if not records:
        return summary

    groups: dict[tuple[str, int], list[int]] = {}
    for i, rec in enumerate(records):
        groups.setdefault((rec.topic, rec.partition), []).append(i)
    group_of = np.empty(len(records), np.int64)
    group_keys = list(groups)
    for g, (_tp, idx) in enumerate(groups.items()):
        group_of[idx] = g
    timestamps = [r.timestamp for r in records if isinstance(r.timestamp, int)]
    summary.oldest_record_ms = min(timestamps) if timestamps else None

    # Parse what can be parsed; the rest is quarantined with the reason found.
    bad: dict[int, dict[str, Any]] = {}
    parsed: list[Any] = []
    parsed_at: list[int] = []
    for i, rec in enumerate(records):
        if rec.problem:
            bad[i] = _entry(rec, rec.problem, anonymiser, now)
        elif rec.value is not None and len(rec.value) > settings.ingest_max_record_bytes:
            bad[i] = _entry(rec, "too_large", anonymiser, now)
        else:
            obj, problem = parse_value(rec.value or b"")
            if obj is UNPARSED:
                bad[i] = _entry(rec, "invalid_json", anonymiser, now, detail=problem)
            else:
                parsed.append(obj)
                parsed_at.append(i)

    result = validate_records(parsed)
    for rej in result.rejected:
        i = parsed_at[rej.row]
        obj = parsed[rej.row]
        reason = "contract" if isinstance(obj, dict) else "not_an_object"
        bad[i] = _entry(records[i], reason, anonymiser, now, record=obj, errors=rej.errors)

    # Lake rows: the valid events with their lineage; keys per topic-partition and day.
    positions = np.asarray(parsed_at, np.int64)[result.table.column(ROW).to_numpy()]
    sources = [
        f"kafka:{records[i].topic}/{records[i].partition}/{records[i].offset}"
        for i in positions.tolist()
    ]
    lake = to_lake(result.table, anonymiser, sources, now)
    paths = LakePaths(settings)
    hot = paths.events("hot")
    row_group = pa.array(group_of[positions])
    for g, (topic, partition) in enumerate(group_keys):
        idx = groups[(topic, partition)]
        first, last = records[idx[0]].offset, records[idx[-1]].offset
        summary.ranges[f"{topic}-{partition}"] = [first, last]
        part = lake.filter(pc.equal(row_group, g)) if len(group_keys) > 1 else lake
        if part.num_rows:
            name = object_name(topic, partition, first, last)
            summary.objects += write_partitioned(s3, hot, part, name)

    # Quarantine: one JSON-lines object per topic-partition of the batch.
    if bad:
        q_bucket, q_prefix = split_s3_uri(paths.quarantine("kafka"))
        for topic, partition in group_keys:
            idx = groups[(topic, partition)]
            entries = [bad[i] for i in idx if i in bad]
            if not entries:
                continue
            first, last = records[idx[0]].offset, records[idx[-1]].offset
            key = f"{q_prefix}/topic={topic}/partition={partition}/{first:020d}-{last:020d}.jsonl"
            s3.put_object(Bucket=q_bucket, Key=key, Body=quarantine.jsonl(entries))
            summary.objects.append(f"s3://{q_bucket}/{key}")
    summary.valid = lake.num_rows
    summary.quarantined = len(bad)
    for e in bad.values():
        summary.reasons[e["reason"]] = summary.reasons.get(e["reason"], 0) + 1
    return summary


def _entry(
    rec: KafkaRecord,
    reason: str,
    anonymiser: Anonymiser,
    now: datetime,
    *,
    record: Any = None,
    errors: Any = (),
    detail: str | None = None,
) -> dict[str, Any]:
    key_anon = None
    if rec.key:  # producers key by user id: keep only its HMAC
        key_anon = anonymiser.anon(rec.key.decode("utf-8", "replace").strip())
    return quarantine.entry(
        reason,
        record=record,
        parsed=record is not None,
        raw=rec.value,
        errors=errors,
        anonymiser=anonymiser,
        ingest_ts=now,
        detail=detail,
        context={
            "source": "kafka",
            "topic": rec.topic,
            "partition": rec.partition,
            "offset": rec.offset,
            "kafka_timestamp": rec.timestamp,
            "key_anon": key_anon,
        },
    )
