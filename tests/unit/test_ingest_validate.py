"""The vectorised batch validator judges every record exactly as the contract's pydantic model does.

The fast path may only *accept*; anything it does not accept goes to the contract. These tests throw
random, mostly-malformed records at both and require the same verdict and the same values.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmentation.contract import EVENT_TYPES, Event, validate_record
from segmentation.ingest.validate import ROW, validate_columns, validate_records

MISSING = object()

ids = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=12),
    st.text(max_size=6),  # unicode, whitespace, empty
    st.sampled_from(["", " ", " u-1 ", "a b", "x" * 128, "x" * 129, "ü", "\u00a0u", "u\t"]),
    # control, invisible and unencodable characters: the contract refuses them in every id
    st.sampled_from(["u\x00", "\x00", "a\tb", "a\x7fb", "a\x85b", "u\u200b1", "\ufeffu", "\ud800"]),
    st.integers(-5, 5),
    st.none(),
    st.booleans(),
)
timestamps = st.one_of(
    st.datetimes(
        min_value=datetime(1995, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ).map(lambda d: d.isoformat()),
    st.datetimes(min_value=datetime(1999, 6, 1), max_value=datetime(2027, 1, 1)).map(
        lambda d: d.strftime("%Y-%m-%dT%H:%M:%S") + st_suffix(d)
    ),
    st.integers(0, 2_000_000_000_000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "2026-02-30T00:00:00",
            "2026-09-14T20:31:07Z",
            "2026-09-14 20:31:07.5",
            "2026-09-14T20:31:07.1234567",
            "2026-09-14T20:31:07+02:00",
            "2026-09-14",
            "1767225600",
            "1767225600000",
            " 2026-09-14T20:31:07Z ",
            "2026-13-01T00:00:00",
            "2026-09-14T24:00:00",
            "not a date",
            "",
            "9999-01-01T00:00:00Z",
        ]
    ),
    st.none(),
    st.booleans(),
)


def st_suffix(d: datetime) -> str:
    return ["", "Z", "+00:00", ".123", ".5Z"][d.second % 5]


numbers = st.one_of(
    st.floats(-10, 2e6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-10, 10**7),
    st.integers(2**62, 2**70),
    st.sampled_from(["", " ", "7.99", "007.5", "1e3", "-0", "abc", " 7", "1_0", "10000000"]),
    st.none(),
    st.booleans(),
)
enums = st.one_of(
    st.sampled_from([*EVENT_TYPES, "tv", "web", "unknown", "", " play", "PLAY", "x"]),
    st.none(),
    st.integers(0, 3),
)
countries = st.one_of(
    st.sampled_from(["FR", "fr", "F", "FRA", "", " FR", "É1"]), st.none(), st.integers(0, 3)
)

FIELDS = {
    "user_id": ids,
    "timestamp": timestamps,
    "event_type": enums,
    "amount": numbers,
    "event_id": ids,
    "session_id": ids,
    "content_id": ids,
    "device": enums,
    "watch_seconds": numbers,
    "country": countries,
}


@st.composite
def records(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 20)) == 0:
        return draw(st.one_of(st.lists(st.integers(), max_size=2), st.text(max_size=3)))
    out: dict[str, Any] = {}
    for name, strategy in FIELDS.items():
        value = draw(st.one_of(st.just(MISSING), strategy))
        if value is not MISSING:
            out[name] = value
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


def _check(batch: list[Any]) -> None:
    result = validate_records(batch)
    rejected = {r.row: r.errors for r in result.rejected}
    accepted = {row[ROW]: row for row in result.table.to_pylist()}
    assert set(rejected) | set(accepted) == set(range(len(batch)))
    assert not set(rejected) & set(accepted)
    for i, record in enumerate(batch):
        expected = validate_record(record)
        if isinstance(expected, Event):
            assert i in accepted, (record, rejected.get(i))
            got = accepted[i]
            for name, value in expected.model_dump().items():
                assert _same(got[name], value), (name, record, got[name], value)
        else:
            assert i in rejected, (record, accepted.get(i))
            assert rejected[i] == expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records(), min_size=1, max_size=30))
def test_batch_validation_agrees_with_the_contract(batch: list[Any]) -> None:
    _check(batch)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "user_id": st.text(
                    alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1
                ),
                "timestamp": st.datetimes(
                    min_value=datetime(2000, 1, 2), max_value=datetime(2026, 1, 1)
                ).map(lambda d: d.isoformat() + "Z"),
                "event_type": st.sampled_from(EVENT_TYPES),
                "amount": st.one_of(st.none(), st.floats(0, 1e6)),
            }
        ),
        min_size=1,
        max_size=20,
    )
)
def test_well_formed_batches_take_the_fast_path_and_keep_values(batch: list[dict]) -> None:
    result = validate_records(batch)
    assert not result.rejected
    assert result.table[ROW].to_pylist() == list(range(len(batch)))
    _check(batch)


def test_csv_strings_empty_means_missing_and_line_numbers_are_kept() -> None:
    header = ["user_id", "timestamp", "event_type", "amount", "device", "watch_seconds"]
    rows = [
        ["u-1", "2026-01-01T00:00:00Z", "play", "", "", "12.5"],
        ["u-2", "2026-01-01T00:00:00Z", "purchase", "7.99", "tv", ""],
        ["u-3", "2026-01-01T00:00:00Z", "purchase", "-1", "tv", ""],
    ]
    columns = {h: [r[j] for r in rows] for j, h in enumerate(header)}
    result = validate_columns(
        columns, 3, lambda i: dict(zip(header, rows[i], strict=True)), lines=[2, 3, 5]
    )
    assert result.table.column("amount").to_pylist() == [None, 7.99]
    assert result.table.column("device").to_pylist() == [None, "tv"]
    assert [r.row for r in result.rejected] == [2]
    (error,) = result.rejected[0].errors
    assert (error.line, error.column) == (5, "amount")


def test_future_timestamps_are_refused_by_both_paths() -> None:
    soon = datetime.now(UTC) + timedelta(hours=1)
    late = datetime.now(UTC) + timedelta(days=2)
    batch = [
        {"user_id": "u", "event_type": "play", "timestamp": soon.strftime("%Y-%m-%dT%H:%M:%SZ")},
        {"user_id": "u", "event_type": "play", "timestamp": late.strftime("%Y-%m-%dT%H:%M:%SZ")},
    ]
    result = validate_records(batch)
    assert result.table.num_rows == 1 and [r.row for r in result.rejected] == [1]
    assert result.table.schema.field("timestamp").type == pa.timestamp("us", tz="UTC")


@pytest.mark.parametrize("column", ["user_id", "event_id", "session_id", "content_id"])
@pytest.mark.parametrize("value", ["usr-1\x00", "c\x00x", "a\x1fb", "a\x9bb", "a\tb"])
def test_a_control_character_in_an_id_is_refused_naming_its_column(column: str, value: str) -> None:
    good = {"user_id": "usr-1", "timestamp": "2026-08-01T00:00:00Z", "event_type": "play"}
    record = {**good, column: value}
    expected = validate_record(record, line=4)
    assert isinstance(expected, list) and [e.column for e in expected] == [column]
    assert "control characters" in expected[0].expected
    result = validate_records([good, record], lines=[3, 4])
    assert result.table[ROW].to_pylist() == [0]
    assert [r.row for r in result.rejected] == [1] and result.rejected[0].errors == expected


def test_a_lone_surrogate_or_deep_nesting_is_refused_not_raised() -> None:
    """json reads "\\ud800" into a str Arrow cannot encode; orjson nests 1,024 levels, past
    what ``str()`` of the value survives: both used to raise out of the batch."""
    good = {"user_id": "usr-1", "timestamp": "2026-08-01T00:00:00Z", "event_type": "play"}
    deep: Any = []
    for _ in range(1020):
        deep = [deep]
    batch = [{**good, "content_id": "c\ud800"}, {**good, "user_id": deep}, {**good, "amount": deep}]
    _check(batch)
    result = validate_records(batch)
    assert result.n_valid == 0
    assert [[e.column for e in r.errors] for r in result.rejected] == [
        ["content_id"],
        ["user_id"],
        ["amount"],
    ]
