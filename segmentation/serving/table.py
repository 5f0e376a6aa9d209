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
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
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
    """BatchWriteItem in chunks of 25, ``workers`` chunks in flight, re-sending UnprocessedItems
    with exponential backoff.

    DynamoDB answers throttling inside a batch by returning the items it did not write; ignoring
    them silently drops users, so they are retried (full jitter, capped) and a persistent failure
    raises instead of publishing an incomplete version. Chunks go out from a few threads: one
    request at a time spends most of its time waiting for the answer (a paper-scale publish,
    50k users: 2,000 requests, 11 s of it waiting on the socket), and the table takes the
    chunks in any order. :meth:`flush` returns when every chunk is written (or raises the first
    failure once the others are done), so a caller that flips a pointer after it never points
    at half a version.
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
        workers: int = 4,
    ) -> None:
        self.client, self.table = client, table
        self.max_attempts, self.base_delay, self.max_delay = max_attempts, base_delay, max_delay
        self.sleep = sleep
        self.workers = max(1, workers)
        self.written = 0
        self.retries = 0
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._inflight: deque[Future[None]] = deque()

    def put(self, item: Mapping[str, Any]) -> None:
        self._pending.append({"PutRequest": {"Item": serialize(item)}})
        if len(self._pending) >= BATCH_SIZE:
            self._send_full()

    def delete(self, key: Mapping[str, Any]) -> None:
        self._pending.append({"DeleteRequest": {"Key": serialize(key)}})
        if len(self._pending) >= BATCH_SIZE:
            self._send_full()

    def put_many(self, items: Iterable[Mapping[str, Any]]) -> None:
        for item in items:
            self.put(item)

    def flush(self) -> None:
        """Send what is pending and wait for every chunk in flight."""
        try:
            while self._pending:
                chunk, self._pending = self._pending[:BATCH_SIZE], self._pending[BATCH_SIZE:]
                self._send(chunk)
            while self._inflight:
                self._inflight.popleft().result()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)  # no chunk is still being written after a failure
                self._pool = None
                self._inflight.clear()

    def _send_full(self) -> None:
        while len(self._pending) >= BATCH_SIZE:
            chunk, self._pending = self._pending[:BATCH_SIZE], self._pending[BATCH_SIZE:]
            self._send(chunk)

    def _send(self, chunk: list[dict[str, Any]]) -> None:
        if self.workers == 1:
            self._write(chunk)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="batch-writer")
        while len(self._inflight) >= 2 * self.workers:  # bounded: the items are not all in memory
            self._inflight.popleft().result()
        self._inflight.append(self._pool.submit(self._write, chunk))

    def _write(self, requests: list[dict[str, Any]]) -> None:
        attempt = 0
        while requests:
            resp = self.client.batch_write_item(RequestItems={self.table: requests})
            unprocessed = resp.get("UnprocessedItems", {}).get(self.table, [])
            with self._lock:
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
            with self._lock:
                self.retries += 1
            cap = min(self.max_delay, self.base_delay * 2**attempt)
            self.sleep(random.uniform(0, cap))

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.flush()
        elif self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def ensure_table(client: Any, settings: Settings) -> bool:
    """Create the table (as Terraform defines it) when missing; True if it was created.

    For tests and a local stack without ``terraform apply``; on AWS Terraform owns the table."""
    from segmentation.awsclients import ensure_table as create

    return create(client, settings.segments_table, ("pk", "sk"), ttl="expires_at")
