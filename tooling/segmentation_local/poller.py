"""The local event source mapping: Kafka topic -> batches -> the ingest Lambda handler.

On AWS the MSK event source mapping polls the topic, cuts batches (``BatchSize``,
``MaximumBatchingWindowInSeconds``, 6 MB payload), invokes the function with the records grouped
by "topic-partition" and base64-encoded, and moves the consumer group's offsets on only after the
function succeeded; a failed batch is retried as is. This poller does the same against the local
broker, so the handler runs locally exactly as it does on AWS (at-least-once delivery included).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from segmentation.ingest.kafka import build_event
from segmentation_local.lambda_context import LocalContext

log = logging.getLogger(__name__)

#: The synchronous Lambda invocation payload limit; records are base64 in the event (4/3 larger).
MAX_EVENT_BYTES = 6 * 1024 * 1024
RECORD_OVERHEAD = 200  # JSON around each record in the event


class HandlerFailed(RuntimeError):
    """The handler failed a batch on every retry; its offsets were not committed."""


@dataclass
class PollerConfig:
    bootstrap: str
    topic: str
    group: str
    batch_size: int = 1000
    batch_window: float = 0.5
    #: Tansu's first group join waits about half of this (measured: 6000 -> 3.1 s, 2000 -> 1.1 s).
    #: Heartbeats come from librdkafka's own thread, so a slow handler does not expire the session.
    session_timeout_ms: int = 2000
    max_retries: int = 2
    retry_backoff: float = 0.2
    #: Stop after this many seconds without a record (None: run until stopped).
    idle_timeout: float | None = None
    #: Stop once this many records have been handled (None: no limit).
    max_records: int | None = None
    client: dict[str, Any] = field(default_factory=dict)  # e.g. IAM settings (kafka_auth)


@dataclass
class PollStats:
    batches: int = 0
    records: int = 0
    retries: int = 0
    elapsed: float = 0.0
    active: float = 0.0  # from the first record received to the last batch committed

    @property
    def rate(self) -> float:
        return self.records / self.active if self.active else 0.0


class Poller:
    """Consume ``config.topic`` and feed ``handler(event, context)`` batch by batch."""

    def __init__(
        self,
        config: PollerConfig,
        handler: Callable[[dict[str, Any], Any], Any],
        function_name: str = "ingest",
    ) -> None:
        self.config = config
        self.handler = handler
        self.function_name = function_name
        self.stats = PollStats()
        self._stop = False
        self._first_record: float | None = None

    def stop(self) -> None:
        self._stop = True

    def _consumer(self) -> Any:
        from confluent_kafka import Consumer

        c = self.config
        return Consumer(
            {
                **c.client,
                "bootstrap.servers": c.bootstrap,
                "group.id": c.group,
                "group.protocol": "classic",  # Tansu serves no KIP-848 groups
                "enable.auto.commit": False,  # offsets move only after the handler succeeded
                "auto.offset.reset": "earliest",
                "session.timeout.ms": c.session_timeout_ms,
                "heartbeat.interval.ms": max(500, c.session_timeout_ms // 6),
            }
        )

    def _next_batch(self, consumer: Any) -> list[Any]:
        """Up to batch_size records, waiting at most batch_window after the first one."""
        c = self.config
        batch: list[Any] = []
        size = 0
        deadline: float | None = None
        while len(batch) < c.batch_size and not self._stop:
            timeout = 0.5 if deadline is None else max(0.0, deadline - time.monotonic())
            messages = consumer.consume(num_messages=c.batch_size - len(batch), timeout=timeout)
            for m in messages:
                if m.error():
                    log.warning("consumer error: %s", m.error())
                    continue
                batch.append(m)
                size += ((len(m.value() or b"") + len(m.key() or b"")) * 4) // 3 + RECORD_OVERHEAD
                if deadline is None:
                    deadline = time.monotonic() + c.batch_window
                    if self._first_record is None:
                        self._first_record = time.monotonic()
            if not messages and deadline is None:
                return batch  # idle: let the caller check its stop conditions
            if deadline is not None and time.monotonic() >= deadline:
                break
            if size >= MAX_EVENT_BYTES * 0.9:
                break
        return batch

    def _invoke(self, event: dict[str, Any]) -> Any:
        c = self.config
        for attempt in range(c.max_retries + 1):
            try:
                return self.handler(event, LocalContext(self.function_name))
            except Exception as exc:  # any failure means: retry the same batch
                log.warning(
                    "handler failed (attempt %d of %d): %s: %s",
                    attempt + 1,
                    c.max_retries + 1,
                    type(exc).__name__,
                    exc,
                )
                if attempt == c.max_retries:
                    raise HandlerFailed(
                        f"handler failed {attempt + 1} times on the same batch; offsets not "
                        "committed (the batch is consumed again on restart)"
                    ) from exc
                self.stats.retries += 1
                time.sleep(c.retry_backoff * (2**attempt))
        return None

    def run(self) -> PollStats:
        from confluent_kafka import TopicPartition

        c = self.config
        consumer = self._consumer()
        consumer.subscribe([c.topic])
        started = time.monotonic()
        last_record = started
        try:
            while not self._stop:
                batch = self._next_batch(consumer)
                now = time.monotonic()
                if not batch:
                    if c.idle_timeout is not None and now - last_record >= c.idle_timeout:
                        break
                    continue
                last_record = now
                event = build_event(
                    (
                        (m.topic(), m.partition(), m.offset(), m.timestamp()[1], m.key(), m.value())
                        for m in batch
                    ),
                    bootstrap=c.bootstrap,
                    headers={
                        (m.topic(), m.partition(), m.offset()): m.headers()
                        for m in batch
                        if m.headers()
                    },
                )
                self._invoke(event)
                ends: dict[tuple[str, int], int] = {}
                for m in batch:
                    key = (m.topic(), m.partition())
                    ends[key] = max(ends.get(key, -1), m.offset())
                consumer.commit(
                    offsets=[TopicPartition(t, p, o + 1) for (t, p), o in ends.items()],
                    asynchronous=False,
                )
                self.stats.batches += 1
                self.stats.records += len(batch)
                self.stats.active = time.monotonic() - (self._first_record or now)
                if c.max_records is not None and self.stats.records >= c.max_records:
                    break
        finally:
            consumer.close()
            self.stats.elapsed = time.monotonic() - started
        return self.stats
