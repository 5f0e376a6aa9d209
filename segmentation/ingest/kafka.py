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
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

UNPARSED = object()


@dataclass
class KafkaRecord:
    topic: str
    partition: int
    offset: int
    timestamp: int | None
    key: bytes | None
    value: bytes | None
    problem: str | None = None  # quarantine reason found while decoding


def decode_event(event: Mapping[str, Any]) -> list[KafkaRecord]:
    """All records of the event, partition by partition, in offset order.

    A record whose key or value is not base64 is kept with ``problem`` set: one bad record must
    not fail the batch. An event without ``records`` is not a Kafka event at all, which is a
    deployment fault: it raises.
    """
    groups = event.get("records") if isinstance(event, Mapping) else None
    if not isinstance(groups, Mapping):
        raise ValueError(
            "not a Kafka event: expected {'eventSource': 'aws:kafka', 'records': "
            "{'<topic>-<partition>': [...]}}"
        )
    out: list[KafkaRecord] = []
    for name in sorted(groups):
        for rec in sorted(groups[name], key=lambda r: int(r["offset"])):
            problem = None
            try:
                key = _b64(rec.get("key"))
            except ValueError:
                key = None
            try:
                value = _b64(rec.get("value"))
                if value is None:
                    problem = "empty_value"
            except ValueError:
                value, problem = None, "invalid_base64"
            out.append(
                KafkaRecord(
                    topic=str(rec["topic"]),
                    partition=int(rec["partition"]),
                    offset=int(rec["offset"]),
                    timestamp=rec.get("timestamp"),
                    key=key,
                    value=value,
                    problem=problem,
                )
            )
    return out


def _b64(text: Any) -> bytes | None:
    if text is None:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise ValueError("invalid base64") from None


def parse_value(value: bytes) -> tuple[Any, str | None]:
    """(parsed JSON, None) or (UNPARSED, parser message).

    orjson first (strict RFC 8259, fast; integers beyond 64 bits become floats); the standard
    parser second, because it also reads NaN and Infinity, which the contract then refuses with a
    precise reason rather than a bare "invalid JSON". Parser messages name positions, never
    content.
    """
    try:
        return orjson.loads(value), None
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(value), None
    except (ValueError, RecursionError) as exc:
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
        return UNPARSED, f"invalid JSON: {message}"


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
