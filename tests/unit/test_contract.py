"""The event contract: valid, invalid and edge cases, and property tests of the validator."""

from __future__ import annotations

import io
import json
import math
from datetime import UTC, datetime

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentation.contract import (
    AMOUNT_MAX,
    COLUMNS,
    EVENT_TYPES,
    STORED_COLUMNS,
    CsvHeaderError,
    Event,
    RowError,
    event_arrow_schema,
    read_csv_events,
    validate_record,
)

GOOD = {
    "user_id": "u-1",
    "timestamp": "2026-09-14T20:31:07Z",
    "event_type": "purchase",
    "amount": "7.99",
}


def test_valid_minimal_record() -> None:
    ev = validate_record(GOOD)
    assert isinstance(ev, Event)
    assert ev.timestamp == datetime(2026, 9, 14, 20, 31, 7, tzinfo=UTC)
    assert ev.amount == pytest.approx(7.99)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-09-14T20:31:07Z", datetime(2026, 9, 14, 20, 31, 7, tzinfo=UTC)),
        ("2026-09-14T22:31:07+02:00", datetime(2026, 9, 14, 20, 31, 7, tzinfo=UTC)),
        ("2026-09-14 20:31:07", datetime(2026, 9, 14, 20, 31, 7, tzinfo=UTC)),
        (1789417867, datetime(2026, 9, 14, 20, 31, 7, tzinfo=UTC)),
        (1789417867000, datetime(2026, 9, 14, 20, 31, 7, tzinfo=UTC)),
        ("1789417867", datetime(2026, 9, 14, 20, 31, 7, tzinfo=UTC)),
    ],
)
def test_timestamp_spellings_normalise_to_utc(raw: object, expected: datetime) -> None:
    ev = validate_record({**GOOD, "timestamp": raw})
    assert isinstance(ev, Event)
    assert ev.timestamp == expected


def test_empty_amount_is_missing_not_an_error() -> None:
    ev = validate_record({**GOOD, "event_type": "play", "amount": ""})
    assert isinstance(ev, Event) and ev.amount is None


def test_unknown_fields_are_dropped() -> None:
    ev = validate_record({**GOOD, "email": "a@b.c", "ip": "1.2.3.4"})
    assert isinstance(ev, Event)
    assert "email" not in ev.model_dump() and "ip" not in ev.model_dump()


@pytest.mark.parametrize(
    ("column", "value", "needle"),
    [
        ("event_type", "watch", "one of"),
        ("amount", "-1", "between 0 and"),
        ("amount", str(AMOUNT_MAX * 10), "between 0 and"),
        ("amount", "nan", "finite"),
        ("amount", "abc", "finite decimal"),
        ("timestamp", "yesterday", "ISO-8601"),
        ("timestamp", "1970-01-01T00:00:00Z", "1990-01-01"),
        ("timestamp", "2999-01-01T00:00:00Z", "now + 1 day"),
        ("user_id", "", "1 to 128"),
        ("user_id", "a b", "without whitespace"),
        ("country", "France", "ISO-3166"),
        ("device", "fridge", "one of"),
    ],
)
def test_invalid_value_names_column_and_expectation(column: str, value: str, needle: str) -> None:
    result = validate_record({**GOOD, column: value}, line=7)
    assert isinstance(result, list) and result
    err = next(e for e in result if e.column == column)
    assert err.line == 7
    assert needle in err.expected, str(err)
    assert f"line 7, column {column!r}" in str(err)


def test_missing_required_field_is_reported() -> None:
    record = dict(GOOD)
    del record["event_type"]
    result = validate_record(record)
    assert isinstance(result, list)
    assert [e.column for e in result] == ["event_type"]
    assert "required" in result[0].expected


def test_all_problems_are_reported_at_once() -> None:
    result = validate_record({**GOOD, "amount": "-3", "event_type": "x", "country": "zz1"})
    assert isinstance(result, list)
    assert {e.column for e in result} == {"amount", "event_type", "country"}


def _csv(text: str) -> list[tuple[int, Event | list[RowError]]]:
    return list(read_csv_events(io.StringIO(text)))


def test_csv_rows_report_line_and_column() -> None:
    text = (
        "user_id,timestamp,event_type,amount,device\n"
        "u1,2026-09-01T10:00:00Z,play,,tv\n"
        "u2,not-a-date,play,,tv\n"
        "u3,2026-09-01T10:00:00Z,play\n"
        "u4,2026-09-01T10:00:00Z,purchase,4.5,web,extra\n"
        "\n"
        "u5,2026-09-01T10:00:00Z,dance,1,tv\n"
    )
    rows = _csv(text)
    assert isinstance(rows[0][1], Event) and rows[0][0] == 2
    bad = {line: errs for line, errs in rows if isinstance(errs, list)}
    assert bad[3][0].column == "timestamp"
    assert bad[4][0].column == "amount" and "5 fields" in bad[4][0].expected
    assert bad[5][0].column == "<extra field 6>"
    assert bad[7][0].column == "event_type" and bad[7][0].line == 7


def test_csv_quoted_newline_keeps_physical_line_numbers() -> None:
    text = 'user_id,timestamp,event_type,amount\n"u\n1",2026-09-01T10:00:00Z,play,\nu2,bad,play,\n'
    rows = _csv(text)
    assert rows[-1][0] == 4
    assert isinstance(rows[-1][1], list) and rows[-1][1][0].line == 4


def test_csv_header_missing_required_columns() -> None:
    with pytest.raises(CsvHeaderError, match=r"missing required column.*amount"):
        _csv("user_id,timestamp,event_type\nu1,2026-09-01T10:00:00Z,play\n")
    with pytest.raises(CsvHeaderError, match="empty"):
        _csv("")


@pytest.mark.parametrize(("sep", "name"), [(";", "semicolons"), ("\t", "tabs")])
def test_a_spreadsheet_export_with_another_separator_is_named(sep: str, name: str) -> None:
    header = sep.join(["user_id", "timestamp", "event_type", "amount"])
    with pytest.raises(CsvHeaderError, match=f"separated by {name}: export the file comma-sep"):
        _csv(f"{header}\nu1{sep}2026-09-01T10:00:00Z{sep}play{sep}\n")


def test_json_schema_lists_every_column() -> None:
    schema = Event.model_json_schema()
    assert set(schema["properties"]) == set(COLUMNS)
    json.dumps(schema)


# --- property tests: the validator never crashes and never lets a bad value through ---------

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=200),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from((*COLUMNS, "junk")), values, max_size=12))
def test_validator_total_on_arbitrary_records(record: dict) -> None:
    result = validate_record(record, line=3)
    if isinstance(result, Event):
        assert result.event_type in EVENT_TYPES
        assert result.amount is None or (0 <= result.amount <= AMOUNT_MAX)
        assert result.amount is None or math.isfinite(result.amount)
        assert result.timestamp.tzinfo is not None
        assert result.user_id.strip() == result.user_id and result.user_id
    else:
        assert result, "a rejected record must carry at least one reason"
        for err in result:
            assert err.line == 3 and err.column and err.expected


@settings(max_examples=200, deadline=None)
@given(
    amount=st.floats(min_value=0, max_value=AMOUNT_MAX, allow_nan=False),
    ts=st.datetimes(
        min_value=datetime(2000, 1, 2), max_value=datetime(2026, 1, 1), timezones=st.just(UTC)
    ),
    etype=st.sampled_from(EVENT_TYPES),
    uid=st.text(
        alphabet=st.characters(blacklist_categories=("Zs", "Cc", "Zl", "Zp", "Cs", "Cf")),
        min_size=1,
        max_size=40,
    ).filter(lambda s: s.strip() == s and not any(c.isspace() for c in s)),
)
def test_validator_accepts_every_valid_record(
    amount: float, ts: datetime, etype: str, uid: str
) -> None:
    result = validate_record(
        {"user_id": uid, "timestamp": ts.isoformat(), "event_type": etype, "amount": repr(amount)}
    )
    assert isinstance(result, Event), result
    assert result.timestamp == ts
    assert result.amount == pytest.approx(amount)


def test_arrow_schema_follows_the_model() -> None:
    schema = event_arrow_schema()
    assert schema.names == list(COLUMNS) == list(Event.model_fields)
    # the columns a record must have are the non-nullable ones
    assert [f.name for f in schema if not f.nullable] == ["user_id", "timestamp", "event_type"]
    assert schema.field("timestamp").type == pa.timestamp("us", tz="UTC")
    assert schema.field("device").type == pa.string()  # an optional Literal is text
    assert {schema.field(c).type for c in ("amount", "watch_seconds")} == {pa.float64()}


def test_arrow_schema_orders_and_renames_for_storage() -> None:
    schema = event_arrow_schema(STORED_COLUMNS, {"user_id": "user_anon_id"})
    assert schema.names[:2] == ["event_id", "user_anon_id"]
    assert set(schema.names) == set(COLUMNS) - {"user_id"} | {"user_anon_id"}
    assert not schema.field("user_anon_id").nullable
    with pytest.raises(KeyError, match="not contract fields: user_anon_id"):
        event_arrow_schema(["user_anon_id"])


def test_the_timestamp_lower_bound_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from segmentation.config import get_settings
    from segmentation.contract import contract_as_text

    old = {**GOOD, "timestamp": "1997-03-04T10:00:00Z"}
    assert not isinstance(validate_record(old), list)  # the default bound is 1990-01-01
    assert "Accepted range: 1990-01-01 .. now + 1 day" in contract_as_text()
    monkeypatch.setenv("SEG_TIMESTAMP_MIN", "1998-01-01")
    get_settings.cache_clear()
    try:
        errors = validate_record(old)
        assert isinstance(errors, list) and "1998-01-01" in errors[0].expected
        assert "Accepted range: 1998-01-01 .. now + 1 day" in contract_as_text()
    finally:
        monkeypatch.delenv("SEG_TIMESTAMP_MIN")
        get_settings.cache_clear()
