"""Producer -> real broker (Tansu) -> poller (local ESM) -> ingest Lambda -> moto S3.

Checks the delivery semantics (every valid event lands once, even when a batch is retried after
it was written; offsets are committed only after success) and that malformed records are
quarantined with a reason without failing their batch.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_helpers import make_events, read_events, read_quarantine, write_csv

from segmentation.anonymise import load_anonymiser
from segmentation.ingest.producer import produce_file
from segmentation_local.poller import HandlerFailed, Poller, PollerConfig

pytestmark = [pytest.mark.broker, pytest.mark.moto]


def _poller(broker: str, topic: str, handler: Any, **kw: Any) -> Poller:
    config = PollerConfig(
        bootstrap=broker,
        topic=topic,
        group=f"ingest-{topic}",
        batch_size=kw.pop("batch_size", 400),
        batch_window=0.2,
        idle_timeout=kw.pop("idle_timeout", 4.0),
        retry_backoff=0.05,
        **kw,
    )
    return Poller(config, handler)


def test_every_event_lands_once_after_a_batch_is_retried(
    broker: str, topic: str, lake: Any, tmp_path: Path, ingest_module: Any
) -> None:
    events = make_events(2000, seed=1)
    summary = produce_file(write_csv(tmp_path / "ev.csv", events), broker, topic, progress=False)
    assert (summary.sent, summary.failed) == (2000, 0)

    calls = 0

    def fails_once_after_writing(event: dict, context: Any) -> Any:
        nonlocal calls
        result = ingest_module.handler(event, context)  # the batch's objects are written...
        calls += 1
        if calls == 2:
            raise RuntimeError("injected failure after the write")  # ...then the invocation fails
        return result

    stats = _poller(broker, topic, fails_once_after_writing, max_records=2000).run()
    assert stats.records == 2000 and stats.retries == 1 and stats.batches >= 5

    rows = read_events(lake, "hot")
    counts = Counter(r["event_id"] for r in rows)
    assert set(counts) == {e["event_id"] for e in events}
    assert max(counts.values()) == 1, "a retried batch duplicated events"

    anon = load_anonymiser(lake)
    by_id = {e["event_id"]: e for e in events}
    for row in rows:
        src = by_id[row["event_id"]]
        assert row["user_anon_id"] == anon.anon(src["user_id"])
        assert row["event_ts"] == datetime.fromisoformat(src["timestamp"].replace("Z", "+00:00"))
        assert row["amount"] == src["amount"] and row["device"] == src["device"]
        assert row["source"].startswith(f"kafka:{topic}/")
    assert not read_quarantine(lake)

    # Offsets were committed after success: the same group has nothing left to read.
    again = _poller(broker, topic, ingest_module.handler, idle_timeout=2.5).run()
    assert again.records == 0


def test_a_batch_that_keeps_failing_is_not_committed_and_is_read_again(
    broker: str, topic: str, lake: Any, tmp_path: Path, ingest_module: Any
) -> None:
    events = make_events(900, seed=2)
    produce_file(write_csv(tmp_path / "ev.csv", events), broker, topic, progress=False)
    calls = 0

    def broken_after_first(event: dict, context: Any) -> Any:
        nonlocal calls
        calls += 1
        result = ingest_module.handler(event, context)
        if calls > 1:
            raise RuntimeError("S3 is down")
        return result

    poller = _poller(broker, topic, broken_after_first, batch_size=300, max_retries=1)
    with pytest.raises(HandlerFailed, match="offsets not committed"):
        poller.run()
    assert poller.stats.batches == 1  # only the first batch was committed

    rest = 900 - poller.stats.records
    stats = _poller(broker, topic, ingest_module.handler, batch_size=300, max_records=rest).run()
    assert stats.records == rest  # resumed from the last commit
    counts = Counter(r["event_id"] for r in read_events(lake, "hot"))
    assert set(counts) == {e["event_id"] for e in events}  # at-least-once: nothing lost


# --- malformed records -----------------------------------------------------------------------

GOOD = make_events(1, seed=3)[0]


def _mutated(field: str, value: Any) -> bytes:
    event = {k: v for k, v in GOOD.items() if v is not None}
    event[field] = value
    return json.dumps(event).encode()


def _without(field: str) -> bytes:
    return json.dumps({k: v for k, v in GOOD.items() if k != field and v is not None}).encode()


malformed = st.one_of(
    # not JSON at all, or truncated JSON
    st.binary(min_size=1, max_size=60).filter(lambda b: not b.strip().startswith((b"{", b"["))),
    st.integers(1, 40).map(lambda n: json.dumps(GOOD).encode()[:n]),
    # JSON but not an object
    st.sampled_from([b"[1, 2]", b'"text"', b"42", b"null"]),
    # wrong types
    st.sampled_from(
        [
            _mutated("user_id", 12345),
            _mutated("amount", "a lot"),
            _mutated("amount", True),
            _mutated("timestamp", [2026, 1, 1]),
            _mutated("event_type", "PLAY"),
            _mutated("device", "fridge"),
            _mutated("watch_seconds", -5),
            _mutated("country", "France"),
        ]
    ),
    # missing required fields
    st.sampled_from(["user_id", "timestamp", "event_type"]).map(_without),
    # huge values
    st.integers(129, 5000).map(lambda n: _mutated("content_id", "x" * n)),
    st.just(_mutated("session_id", "y" * 70_000)),  # beyond ingest_max_record_bytes
    st.floats(1_000_001, 1e300).map(lambda x: _mutated("amount", x)),
    # bad timestamps
    st.sampled_from(
        [
            _mutated("timestamp", "2026-13-45T00:00:00Z"),
            _mutated("timestamp", "yesterday"),
            _mutated("timestamp", "1999-12-31T23:59:59Z"),
            _mutated("timestamp", "2100-01-01T00:00:00Z"),
            _mutated("timestamp", 10**20),
            _mutated("timestamp", ""),
        ]
    ),
)


@pytest.mark.slow
@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(bad=st.lists(malformed, min_size=5, max_size=25))
def test_malformed_records_are_quarantined_and_never_fail_the_batch(
    broker: str, lake: Any, ingest_module: Any, bad: list[bytes]
) -> None:
    from segmentation_local.broker import create_topic

    topic = f"malformed-{datetime.now(UTC).strftime('%H%M%S%f')}"
    create_topic(broker, topic)
    good = make_events(30, seed=4)
    producer = Producer({"bootstrap.servers": broker, "message.max.bytes": 2_000_000})
    for i, value in enumerate(bad):
        producer.produce(topic, key=f"bad-{i}".encode(), value=value)
    for e in good:
        producer.produce(topic, key=e["user_id"].encode(), value=json.dumps(e).encode())
    assert producer.flush(10) == 0

    failures = []

    def handler(event: dict, context: Any) -> Any:
        try:
            return ingest_module.handler(event, context)
        except Exception as exc:
            failures.append(exc)
            raise

    stats = _poller(broker, topic, handler, max_records=len(bad) + len(good)).run()
    assert not failures and stats.retries == 0

    anon = load_anonymiser(lake)
    mine = [q for q in read_quarantine(lake) if q["topic"] == topic]
    expected = {anon.anon(f"bad-{i}") for i in range(len(bad))}
    assert Counter(q["key_anon"] for q in mine) == Counter(expected)
    for q in mine:
        assert q["reason"] in {"invalid_json", "not_an_object", "contract", "too_large"}
        assert q["partition"] in (0, 1, 2) and q["offset"] >= 0 and q["detail"]
        if q["reason"] == "contract":
            assert q["errors"] and all(e["column"] and e["expected"] for e in q["errors"])
        if q["payload"] is None:  # unparsed: only a digest of the record is kept
            assert q["payload_sha256"] and q["payload_bytes"]
    landed = {r["event_id"] for r in read_events(lake, "hot") if topic in r["source"]}
    assert landed == {e["event_id"] for e in good}
