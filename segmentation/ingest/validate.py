"""Validate a whole batch of records against the contract, column by column.

Validating 10,000 events one pydantic model at a time costs ~100 ms (its Python validators run per
record), too slow for a streaming ingest that must keep up with Kafka. This module judges a batch
with pyarrow compute instead, but it never decides a rejection itself: a vectorised test only
*accepts* values that are certainly valid under the contract (and converts them exactly as the
contract would); every row it does not accept goes to :func:`segmentation.contract.validate_record`,
which accepts it or rejects it with the contract's own messages. So the contract is the only judge
of what is wrong, and the rules' numbers (lengths, ranges, enums, patterns) are read from the
contract's model and constants rather than restated. A property test checks that both paths agree
on random, mostly-wrong records.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import repeat
from typing import Any

import annotated_types
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmentation.contract import (
    TIMESTAMP_MAX_SKEW,
    Event,
    RowError,
    event_arrow_schema,
    parse_timestamp,
    timestamp_min,
    validate_record,
)

#: Columns of validated events before anonymisation: the contract's fields, normalised.
VALID_SCHEMA = event_arrow_schema()
ROW = "_row"  # position of the row in the input batch, carried through validation
_NULL_STR = pa.scalar(None, pa.string())


# --- the contract's rules, read from the model -----------------------------------------------


def _meta(name: str, kind: type) -> Any:
    for item in Event.model_fields[name].metadata:
        if isinstance(item, kind):
            return item
    return None


def _pattern(name: str) -> str | None:
    for item in Event.model_fields[name].metadata:
        pattern = getattr(item, "pattern", None)
        if pattern:
            return str(pattern)
    return None


def _literals(name: str) -> list[str]:
    """The allowed strings of a Literal (or Optional[Literal]) field."""

    def walk(tp: Any) -> list[str]:
        if typing.get_origin(tp) is typing.Literal:
            return [a for a in typing.get_args(tp) if isinstance(a, str)]
        return [v for arg in typing.get_args(tp) for v in walk(arg)]

    return walk(Event.model_fields[name].annotation)


def _length_bounds(name: str) -> tuple[int, int]:
    lo = _meta(name, annotated_types.MinLen)
    hi = _meta(name, annotated_types.MaxLen)
    return (lo.min_length if lo else 0), (hi.max_length if hi else 1 << 30)


def _number_bounds(name: str) -> tuple[float, float]:
    return _meta(name, annotated_types.Ge).ge, _meta(name, annotated_types.Le).le


def _ascii_text_regex(name: str, inner_spaces: bool) -> str:
    """Values the fast path may accept for a text field: printable ASCII within the length
    bounds and without surrounding whitespace (the contract strips it; stripping changes nothing
    here). Non-ASCII text is left to pydantic, whose notion of whitespace is Unicode's."""
    lo, hi = _length_bounds(name)
    if not inner_spaces:  # e.g. user_id: ``^\\S+$``
        return rf"^[!-~]{{{max(lo, 1)},{hi}}}$"
    if hi == 1:
        return r"^[!-~]$"
    return rf"^[!-~](?:[ -~]{{0,{hi - 2}}}[!-~])?$"


USER_ID_FAST = _ascii_text_regex("user_id", inner_spaces=False)
ID_FAST = {
    n: _ascii_text_regex(n, inner_spaces=True) for n in ("event_id", "session_id", "content_id")
}
COUNTRY_FAST = _pattern("country") or r"^[A-Z]{2}$"
EVENT_TYPE_VALUES = pa.array(_literals("event_type"), pa.string())
DEVICE_VALUES = pa.array(_literals("device"), pa.string())
AMOUNT_BOUNDS = _number_bounds("amount")
WATCH_BOUNDS = _number_bounds("watch_seconds")
#: Decimal text the fast path parses (CSV); exponents, signs or spaces are left to pydantic.
DECIMAL_FAST = r"^[0-9]{1,15}(?:\.[0-9]{1,15})?$"
#: ISO-8601 spellings the fast path parses; naive and Z / +00:00 are UTC, as in parse_timestamp.
TIMESTAMP_FAST = (
    r"^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])[T ]"
    r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?(?:Z|\+00:00)?$"
)


# --- results -------------------------------------------------------------------------------------


@dataclass
class Rejected:
    """One refused record: its position in the batch and every reason the contract gave."""

    row: int
    errors: list[RowError]


@dataclass
class Validated:
    """Accepted rows (``VALID_SCHEMA`` plus ``_row``, in input order) and refused rows."""

    table: pa.Table
    rejected: list[Rejected]

    @property
    def n_valid(self) -> int:
        return self.table.num_rows


# --- column checks: each returns (values, ok) where ok marks values certainly valid -----------


def _bool(ok: pa.Array | pa.ChunkedArray, null_is: bool) -> np.ndarray:
    return np.asarray(pc.fill_null(ok, null_is).to_numpy(zero_copy_only=False), dtype=bool)


def _is_text(value: Any) -> bool:
    """A str Arrow can hold: one with a lone surrogate (``json`` reads ``"\\ud800"`` into one)
    cannot be encoded as UTF-8, so it is left to the contract, which refuses it."""
    if type(value) is not str:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _strings(col: Sequence[Any]) -> tuple[pa.Array, np.ndarray]:
    """The str values as an array (others null) and a mask of values that were not str/None."""
    try:
        return pa.array(col, pa.string()), np.zeros(len(col), bool)
    except (pa.ArrowTypeError, pa.ArrowInvalid, TypeError, UnicodeEncodeError):
        wrong = np.fromiter((v is not None and not _is_text(v) for v in col), bool, len(col))
        return pa.array(
            [v if not wrong[i] else None for i, v in enumerate(col)], pa.string()
        ), wrong


def _text(col: Sequence[Any], regex: str, required: bool) -> tuple[pa.Array, np.ndarray]:
    arr, wrong = _strings(col)
    if not required:  # the contract reads an empty optional text as missing
        arr = pc.if_else(pc.equal(arr, ""), _NULL_STR, arr)
    ok = _bool(pc.match_substring_regex(arr, regex), null_is=not required) & ~wrong
    return arr, ok


def _enum(col: Sequence[Any], values: pa.Array, required: bool) -> tuple[pa.Array, np.ndarray]:
    arr, wrong = _strings(col)
    if not required:
        arr = pc.if_else(pc.equal(arr, ""), _NULL_STR, arr)
    ok = _bool(pc.is_in(arr, value_set=values), null_is=False)
    if not required:
        ok |= _bool(pc.is_null(arr), null_is=True)
    return arr, ok & ~wrong


def _number(col: Sequence[Any], bounds: tuple[float, float]) -> tuple[pa.Array, np.ndarray]:
    n = len(col)
    wrong = np.zeros(n, bool)
    arr: pa.Array | None = None
    if not any(type(v) is bool for v in col):  # pyarrow would read True as 1.0; the contract not
        try:
            arr = pa.array(col, pa.float64())
        except (pa.ArrowTypeError, pa.ArrowInvalid, TypeError, OverflowError, UnicodeEncodeError):
            arr = None
    if arr is None:
        nums: list[float | None] = [None] * n
        texts: list[str | None] = [None] * n
        for i, v in enumerate(col):
            t = type(v)
            if t is float or (t is int and abs(v) <= 1 << 53):
                nums[i] = v  # larger ints (inexact as floats): pydantic judges
            elif t is str and _is_text(v):
                texts[i] = v
            elif v is not None or t is int:
                wrong[i] = True
        text = pa.array(texts, pa.string())
        decimal = _bool(pc.match_substring_regex(text, DECIMAL_FAST), null_is=False)
        empty = _bool(pc.equal(text, ""), null_is=False)  # empty text is a missing number
        wrong |= ~decimal & ~empty & _bool(pc.is_valid(text), null_is=False)
        parsed = pc.cast(pc.if_else(pa.array(decimal), text, _NULL_STR), pa.float64())
        arr = pc.coalesce(pa.array(nums, pa.float64()), parsed)
    lo, hi = bounds
    in_range = pc.and_(
        pc.is_finite(arr), pc.and_(pc.greater_equal(arr, lo), pc.less_equal(arr, hi))
    )
    ok = _bool(pc.or_kleene(pc.is_null(arr), in_range), null_is=False) & ~wrong
    return arr, ok


def _timestamps(col: Sequence[Any], now: datetime) -> tuple[pa.Array, np.ndarray]:
    n = len(col)
    text, _ = _strings(col)
    fast = _bool(pc.match_substring_regex(text, TIMESTAMP_FAST), null_is=False)
    naive = pc.replace_substring_regex(
        pc.if_else(pa.array(fast), text, _NULL_STR), r"(?:Z|\+00:00)$", ""
    )
    try:
        values = pc.cast(pc.cast(naive, pa.timestamp("us")), pa.timestamp("us", tz="UTC"))
    except pa.ArrowInvalid:  # e.g. 2026-02-30 matched the pattern: decide value by value below
        fast[:] = False
        values = pa.nulls(n, pa.timestamp("us", tz="UTC"))
    ok = fast.copy()
    slow_idx = [i for i in np.flatnonzero(~fast) if col[i] is not None and type(col[i]) is not bool]
    if slow_idx:  # other spellings: the contract's own parser, value by value
        parsed: list[datetime | None] = [None] * n
        for i in slow_idx:
            value = parse_timestamp(col[i])
            if isinstance(value, datetime) and value.tzinfo is not None:
                parsed[i] = value
                ok[i] = True
        values = pc.coalesce(values, pa.array(parsed, pa.timestamp("us", tz="UTC")))
    latest = now + TIMESTAMP_MAX_SKEW
    in_range = pc.and_(
        pc.greater_equal(values, pa.scalar(timestamp_min(), values.type)),
        pc.less_equal(values, pa.scalar(latest, values.type)),
    )
    return values, ok & _bool(in_range, null_is=False)


# --- the batch -----------------------------------------------------------------------------------


def validate_columns(
    columns: Mapping[str, Sequence[Any]],
    n: int,
    row: Callable[[int], Any],
    lines: Sequence[int] | None = None,
    skip: np.ndarray | None = None,
) -> Validated:
    """Validate ``n`` records given column-wise (missing columns are all-missing).

    ``row(i)`` rebuilds record ``i`` for the contract's validator; ``lines`` gives the line number
    to report for each record; ``skip`` marks records that must go to the contract regardless.
    """
    none = [None] * n

    def col(name: str) -> Sequence[Any]:
        return columns.get(name, none)

    now = datetime.now(UTC)
    arrays: dict[str, pa.Array] = {}
    ok = np.ones(n, bool) if skip is None else ~skip
    checks: list[tuple[str, Callable[[], tuple[pa.Array, np.ndarray]]]] = [
        ("user_id", lambda: _text(col("user_id"), USER_ID_FAST, required=True)),
        ("timestamp", lambda: _timestamps(col("timestamp"), now)),
        ("event_type", lambda: _enum(col("event_type"), EVENT_TYPE_VALUES, required=True)),
        ("amount", lambda: _number(col("amount"), AMOUNT_BOUNDS)),
        ("event_id", lambda: _text(col("event_id"), ID_FAST["event_id"], required=False)),
        ("session_id", lambda: _text(col("session_id"), ID_FAST["session_id"], required=False)),
        ("content_id", lambda: _text(col("content_id"), ID_FAST["content_id"], required=False)),
        ("device", lambda: _enum(col("device"), DEVICE_VALUES, required=False)),
        ("watch_seconds", lambda: _number(col("watch_seconds"), WATCH_BOUNDS)),
        ("country", lambda: _text(col("country"), COUNTRY_FAST, required=False)),
    ]
    for name, check in checks:
        arrays[name], col_ok = check()
        ok &= col_ok

    fast_rows = np.flatnonzero(ok)
    mask = pa.array(ok)
    fast = pa.table(
        [pc.filter(arrays[f.name], mask).cast(f.type) for f in VALID_SCHEMA]
        + [pa.array(fast_rows, pa.int64())],
        schema=VALID_SCHEMA.append(pa.field(ROW, pa.int64())),
    )

    accepted: list[dict[str, Any]] = []
    rejected: list[Rejected] = []
    for i in np.flatnonzero(~ok).tolist():
        result = validate_record(row(i), line=lines[i] if lines is not None else None)
        if isinstance(result, Event):
            accepted.append({**result.model_dump(), ROW: i})
        else:
            rejected.append(Rejected(i, result))
    if accepted:
        slow = pa.Table.from_pylist(accepted, schema=fast.schema)
        table = pa.concat_tables([fast, slow])
        table = table.take(pc.sort_indices(table[ROW]))
    else:
        table = fast
    return Validated(table, rejected)


def validate_records(records: Sequence[Any], lines: Sequence[int] | None = None) -> Validated:
    """Validate parsed JSON records (anything ``json.loads`` returns; non-objects are refused)."""
    n = len(records)
    is_dict = np.fromiter((type(r) is dict for r in records), bool, n)
    dicts = records if is_dict.all() else [r if type(r) is dict else {} for r in records]
    names = [f.name for f in VALID_SCHEMA]
    get = dict.get
    columns = {name: list(map(get, dicts, repeat(name, n))) for name in names}
    return validate_columns(columns, n, records.__getitem__, lines, skip=~is_dict)
