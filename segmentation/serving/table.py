"""The segments table's item design, shared by publish (writer) and the API (reader).

One DynamoDB table, hash key ``pk`` (S), range key ``sk`` (S), TTL attribute ``expires_at``:

================================  ==================================================================
pk / sk                           attributes
================================  ==================================================================
``META`` / ``CURRENT``            model_version, previous_version, published_at, users, segments,
                                  previous_model_version (the version the keys were matched to) —
                                  the pointer every lookup starts from; flipped only after a whole
                                  version is loaded, so no reader ever sees half a version
``META`` / ``VERSION#<v>``        status (loading | complete | retired), started_at, published_at,
                                  users, segments, expires_at once retired — the version registry
``MODEL#<v>`` / ``SEGMENT#<id>``  segment_id, segment_name, size, share, profile, summary, actions,
                                  segment_key, since, previous_size (each absent when unknown)
``USER#<anon>`` / ``V#<v>``       segment_id, segment_name, model_version, segment_key,
                                  moved_since_previous (each absent when unknown)
``USER#<anon>`` / ``V#<v>#P``     a provisional assignment (a user assigned between weekly runs,
                                  :mod:`.provisional`), beside the weekly item
``PROVISIONAL#<v>`` / ``SUMMARY`` the provisional users per segment of the version
================================  ==================================================================

Items of the current version carry no ``expires_at``, so it never expires; when a newer version
becomes current, publish re-writes the superseded version's items with
``expires_at = now + segments_retention_days`` and DynamoDB's TTL deletes them later.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from segmentation.config import Settings

META_PK = "META"
CURRENT_SK = "CURRENT"
BATCH_SIZE = 25  # BatchWriteItem's limit

_SER = TypeSerializer()
_DESER = TypeDeserializer()


def user_key(user_anon_id: str, model_version: str) -> dict[str, str]:
    return {"pk": f"USER#{user_anon_id}", "sk": f"V#{model_version}"}


def segment_item_key(model_version: str, segment_id: int) -> dict[str, str]:
    """The DynamoDB key of a segment's item (not the segment's durable ``segment_key``)."""
    return {"pk": f"MODEL#{model_version}", "sk": f"SEGMENT#{segment_id}"}


def version_key(model_version: str) -> dict[str, str]:
    return {"pk": META_PK, "sk": f"VERSION#{model_version}"}


CURRENT_KEY = {"pk": META_PK, "sk": CURRENT_SK}


def to_dynamo(value: Any) -> Any:
    """Plain Python (floats, numpy scalars, nested dicts) -> what TypeSerializer accepts.

    DynamoDB numbers are decimals: floats are rounded to 6 significant decimals to stay exact and
    compact; NaN/inf (which DynamoDB rejects) become null."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return {str(k): to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_dynamo(v) for v in value]
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        f = float(value)
        if math.isnan(f) or math.isinf(f):
            return None
        return Decimal(repr(round(f, 6)))
    raise TypeError(f"cannot store {type(value).__name__} in DynamoDB")


def from_dynamo(value: Any) -> Any:
    """Decimals back to int/float, for JSON responses."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_dynamo(v) for v in value]
    return value


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _SER.serialize(to_dynamo(v)) for k, v in item.items()}


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: from_dynamo(_DESER.deserialize(v)) for k, v in item.items()}


class BatchWriter:
    """BatchWriteItem in chunks of 25, re-sending UnprocessedItems with exponential backoff.

    DynamoDB answers throttling inside a batch by returning the items it did not write; ignoring
    them silently drops users, so they are retried (full jitter, capped) and a persistent failure
    raises instead of publishing an incomplete version.
    """

    def __init__(
        self,
        client: Any,
        table: str,
        *,
        max_attempts: int = 10,
        base_delay: float = 0.05,
        max_delay: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client, self.table = client, table
        self.max_attempts, self.base_delay, self.max_delay = max_attempts, base_delay, max_delay
        self.sleep = sleep
        self.written = 0
        self.retries = 0
        self._pending: list[dict[str, Any]] = []

    def put(self, item: Mapping[str, Any]) -> None:
        self._pending.append({"PutRequest": {"Item": serialize(item)}})
        if len(self._pending) >= BATCH_SIZE:
            self.flush()

    def delete(self, key: Mapping[str, Any]) -> None:
        self._pending.append({"DeleteRequest": {"Key": serialize(key)}})
        if len(self._pending) >= BATCH_SIZE:
            self.flush()

    def put_many(self, items: Iterable[Mapping[str, Any]]) -> None:
        for item in items:
            self.put(item)

    def flush(self) -> None:
        while self._pending:
            chunk, self._pending = self._pending[:BATCH_SIZE], self._pending[BATCH_SIZE:]
            self._write(chunk)

    def _write(self, requests: list[dict[str, Any]]) -> None:
        attempt = 0
        while requests:
            resp = self.client.batch_write_item(RequestItems={self.table: requests})
            unprocessed = resp.get("UnprocessedItems", {}).get(self.table, [])
            self.written += len(requests) - len(unprocessed)
            requests = unprocessed
            if not requests:
                return
            attempt += 1
            if attempt >= self.max_attempts:
                raise RuntimeError(
                    f"DynamoDB left {len(requests)} items unprocessed after {attempt} attempts "
                    f"on table {self.table}; the version was not published"
                )
            self.retries += 1
            cap = min(self.max_delay, self.base_delay * 2**attempt)
            self.sleep(random.uniform(0, cap))

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.flush()


def ensure_table(client: Any, settings: Settings) -> bool:
    """Create the table (as Terraform defines it) when missing; True if it was created.

    For tests and a local stack without ``terraform apply``; on AWS Terraform owns the table."""
    from segmentation.awsclients import ensure_table as create

    return create(client, settings.segments_table, ("pk", "sk"), ttl="expires_at")
