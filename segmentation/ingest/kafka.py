"""The MSK event source mapping's event: decode it, and build it (the local poller plays AWS).

Shape (what Lambda receives from an MSK or self-managed Kafka event source mapping)::

    {"eventSource": "aws:kafka", "eventSourceArn": "...", "bootstrapServers": "...",
     "records": {"<topic>-<partition>": [{"topic", "partition", "offset", "timestamp",
                 "timestampType", "key": <base64|null>, "value": <base64|null>,
                 "headers": [{"name": [bytes as ints]}]}]}}
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

UNPARSED = object()


@dataclass
class KafkaBatch:
    """The records of one event, column by column, partition by partition in offset order.

    Columns rather than one object per record: a batch holds up to 10,000 records and the
    ingest's per-record Python work is what bounds its throughput.
    """

    groups: list[tuple[str, int, int, int]]  # (topic, partition, first index, end index)
    offsets: list[int]
    timestamps: list[Any]
    keys_b64: list[str | None]
    values: list[bytes | None]
    problems: dict[int, str]  # index -> quarantine reason found while decoding

    def __len__(self) -> int:
        return len(self.offsets)

    def key(self, i: int) -> bytes | None:
        """The record key, decoded only when needed (a quarantine entry keeps its HMAC)."""
        try:
            return _b64(self.keys_b64[i])
        except ValueError:
            return None

    def location(self, i: int) -> tuple[str, int]:
        for topic, partition, lo, hi in self.groups:
            if lo <= i < hi:
                return topic, partition
        raise IndexError(i)


def decode_event(event: Mapping[str, Any]) -> KafkaBatch:
    """All records of the event, decoded.

    A record whose value is not base64 (or absent) is kept with a problem noted: one bad record
    must not fail the batch. An event without ``records`` is not a Kafka event at all, which is a
    deployment fault: it raises.
    """
    groups = event.get("records") if isinstance(event, Mapping) else None
    if not isinstance(groups, Mapping):
        raise ValueError(
            "not a Kafka event: expected {'eventSource': 'aws:kafka', 'records': "
            "{'<topic>-<partition>': [...]}}"
        )
    batch = KafkaBatch([], [], [], [], [], {})
    a2b = binascii.a2b_base64
    for name in sorted(groups):
        records = groups[name]
        if not records:
            continue
        offsets = [int(r["offset"]) for r in records]
        if any(b <= a for a, b in itertools.pairwise(offsets)):
            records = sorted(records, key=lambda r: int(r["offset"]))
            offsets = sorted(offsets)
        lo = len(batch.offsets)
        first = records[0]
        batch.groups.append((str(first["topic"]), int(first["partition"]), lo, lo + len(records)))
        batch.offsets += offsets
        batch.timestamps += [r.get("timestamp") for r in records]
        batch.keys_b64 += [r.get("key") for r in records]
        for j, rec in enumerate(records, start=lo):
            text = rec.get("value")
            if text is None:
                batch.values.append(None)
                batch.problems[j] = "empty_value"
                continue
            try:
                batch.values.append(a2b(text, strict_mode=True))
            except (binascii.Error, TypeError, ValueError):
                batch.values.append(None)
                batch.problems[j] = "invalid_base64"
    return batch


def _b64(text: Any) -> bytes | None:
    if text is None:
        return None
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, TypeError, ValueError):
        raise ValueError("invalid base64") from None


def parse_value(value: bytes) -> tuple[Any, str | None]:
    """(parsed JSON, None) or (UNPARSED, parser message).

    orjson first (strict RFC 8259, fast; integers beyond 64 bits become floats); the standard
    parser second, because it also reads NaN and Infinity, which the contract then refuses with a
    precise reason rather than a bare "invalid JSON". The second parser gets UTF-8 text (a BOM
    tolerated, as in a CSV): given bytes, it would also read UTF-16 and UTF-32, which the
    contract (and RFC 8259) do not accept. Parser messages name positions, never content.
    """
    try:
        return orjson.loads(value), None
    except orjson.JSONDecodeError:
        pass
    try:
        text = value.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return UNPARSED, f"invalid JSON: not UTF-8 (byte {exc.start + 1})"
    try:
        return json.loads(text), None
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, RecursionError):
            message = "nested deeper than the parsers allow (1,024 levels for orjson)"
        else:
            message = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
        return UNPARSED, f"invalid JSON: {message}"


def duplicate_keys(value: bytes, obj: Any) -> dict[str, list[Any]]:
    """Contract fields a JSON object names more than once, with every value given for them.

    JSON parsers keep the last of a repeated key silently, so ``{"user_id": "a", "user_id":
    "b"}`` would become user b's event; the contract takes one value per field, and a record that
    gives two is refused. The check is a byte count per field name (cheap, and no record without
    a repeated name pays more); only a record whose bytes name a field twice is parsed again
    to tell a repeated key from the name appearing inside a value.
    """
    if not isinstance(obj, dict):
        return {}
    from segmentation.contract import COLUMNS

    if not any(value.count(b'"' + c.encode() + b'"') > 1 for c in COLUMNS):
        return {}
    # object_pairs_hook runs innermost first: the top-level object is the last one built
    top: list[tuple[str, Any]] = []

    def last(items: list[tuple[str, Any]]) -> dict[str, Any]:
        top[:] = items
        return dict(items)

    try:
        json.loads(value.decode("utf-8-sig"), object_pairs_hook=last)
    except (ValueError, RecursionError):
        return {}
    values: dict[str, list[Any]] = {}
    for k, v in top:
        values.setdefault(k, []).append(v)
    return {k: v for k, v in values.items() if len(v) > 1 and k in COLUMNS}


def build_event(
    messages: Iterable[tuple[str, int, int, int | None, bytes | None, bytes | None]],
    bootstrap: str,
    source_arn: str = "arn:aws:kafka:us-east-1:000000000000:cluster/local/local",
    headers: Mapping[tuple[str, int, int], list[tuple[str, bytes]]] | None = None,
) -> dict[str, Any]:
    """The event the event source mapping would send for these (topic, partition, offset,
    timestamp ms, key, value) messages."""
    records: dict[str, list[dict[str, Any]]] = {}
    for topic, partition, offset, ts, key, value in messages:
        records.setdefault(f"{topic}-{partition}", []).append(
            {
                "topic": topic,
                "partition": partition,
                "offset": offset,
                "timestamp": ts,
                "timestampType": "CREATE_TIME",
                "key": base64.b64encode(key).decode() if key is not None else None,
                "value": base64.b64encode(value).decode() if value is not None else None,
                "headers": [
                    {name: list(data or b"")}
                    for name, data in (headers or {}).get((topic, partition, offset), [])
                ],
            }
        )
    return {
        "eventSource": "aws:kafka",
        "eventSourceArn": source_arn,
        "bootstrapServers": bootstrap,
        "records": records,
    }
