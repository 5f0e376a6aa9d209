"""The event contract: what one raw user event is, in JSON (Kafka) and in CSV (batch landing).

Everything that accepts events (the ingest Lambdas, the CSV reader, the producer) validates with
this module, so a record is judged by the same rules whichever door it came through. A rejected
record is described by :class:`RowError` values that name the line, the column and what was
expected, so the quarantine and the batch reports can tell a person exactly what to fix.
"""

from __future__ import annotations

import collections
import csv
import io
import math
import typing
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import NoneType, UnionType
from typing import Any, Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

EVENT_TYPES: tuple[str, ...] = (
    "play",
    "pause",
    "stop",
    "complete",
    "search",
    "banner_impression",
    "banner_click",
    "purchase",
    "subscription",
)
EventType = Literal[
    "play",
    "pause",
    "stop",
    "complete",
    "search",
    "banner_impression",
    "banner_click",
    "purchase",
    "subscription",
]
DEVICES: tuple[str, ...] = ("tv", "mobile", "tablet", "web", "console", "unknown")
MONEY_EVENTS: frozenset[str] = frozenset({"purchase", "subscription"})

#: Earliest timestamp accepted by default (``Settings.timestamp_min``): older values are clock or
#: parsing faults (the generator's epoch-zero defect), not history.
DEFAULT_TIMESTAMP_MIN = datetime(1990, 1, 1, tzinfo=UTC)


def timestamp_min() -> datetime:
    """The configured lower bound of an event's timestamp (UTC midnight of
    ``Settings.timestamp_min``): one setting read by the contract, the ingest's batch check and
    clean's quarantine reason, so the three cannot disagree about what is too old."""
    from segmentation.config import get_settings

    day = get_settings().timestamp_min
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


#: Tolerated clock skew of producers into the future.
TIMESTAMP_MAX_SKEW = timedelta(days=1)
#: Largest accepted single amount in EUR; larger values are faults, not outliers to cap.
AMOUNT_MAX = 1_000_000.0
ID_MAX_LEN = 128
#: Control characters (C0, DEL, C1): never part of an id. A NUL or a line break inside an id is
#: a producer's encoding fault, and it would reach Parquet, Spark and the API as an invisible
#: difference between two ids that print the same.
_CONTROL = r"\x00-\x1f\x7f-\x9f"
#: Invisible format characters (zero-width spaces and joiners, bidi controls, the BOM): a user id
#: with one prints like another id without it, and the API's router refuses it.
_INVISIBLE = r"\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
#: A user id: no whitespace, control or invisible character (portable syntax: the JSON Schema and
#: the OpenAPI may carry it).
USER_ID_PATTERN = rf"^[^\s{_CONTROL}{_INVISIBLE}]+$"
#: The other ids (event, session, content): inner spaces allowed, control characters not.
TEXT_ID_PATTERN = rf"^[^{_CONTROL}]+$"

REQUIRED_COLUMNS: tuple[str, ...] = ("user_id", "timestamp", "event_type", "amount")
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "event_id",
    "session_id",
    "content_id",
    "device",
    "watch_seconds",
    "country",
)
COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
#: Column order of event files (the generator's, the lake's): the contract's, the event id first,
#: so that a row is told apart by its first column when a person reads a file.
STORED_COLUMNS: tuple[str, ...] = ("event_id", *(c for c in COLUMNS if c != "event_id"))


@dataclass(frozen=True)
class ColumnDoc:
    """Human documentation of one column; printed by ``segmentation schema``."""

    name: str
    type: str
    required: bool
    unit: str
    description: str
    example: str


COLUMN_DOCS: tuple[ColumnDoc, ...] = (
    ColumnDoc(
        "user_id",
        "string (1-128 chars; no whitespace, control or invisible characters)",
        True,
        "-",
        "Platform user id. Replaced by an HMAC at ingest; never stored.",
        "u-000123",
    ),
    ColumnDoc(
        "timestamp",
        "ISO-8601 datetime or epoch seconds/milliseconds",
        True,
        "UTC",
        "When the event happened. Naive values are read as UTC. "
        "Accepted range: {timestamp_min} .. now + 1 day (SEG_TIMESTAMP_MIN).",
        "2026-09-14T20:31:07Z",
    ),
    ColumnDoc(
        "event_type", "enum: " + ", ".join(EVENT_TYPES), True, "-", "What the user did.", "play"
    ),
    ColumnDoc(
        "amount",
        "decimal >= 0 (may be empty)",
        True,
        "EUR",
        f"Money paid; set for purchase/subscription, empty or 0 otherwise. "
        f"At most {AMOUNT_MAX:,.0f}.",
        "7.99",
    ),
    ColumnDoc(
        "event_id",
        "string (1-128 chars, no control characters)",
        False,
        "-",
        "Producer-assigned unique id; duplicates are removed on it.",
        "e-5f1c2a",
    ),
    ColumnDoc(
        "session_id",
        "string (1-128 chars, no control characters)",
        False,
        "-",
        "Client session; when absent, sessions are cut at 30 minutes of inactivity.",
        "s-88a1",
    ),
    ColumnDoc(
        "content_id",
        "string (1-128 chars, no control characters)",
        False,
        "-",
        "Catalog item for play/pause/stop/complete/purchase.",
        "c-01234",
    ),
    ColumnDoc(
        "device",
        "enum: " + ", ".join(DEVICES),
        False,
        "-",
        "Device class; unknown values are rejected, empty becomes 'unknown'.",
        "tv",
    ),
    ColumnDoc(
        "watch_seconds",
        "decimal >= 0",
        False,
        "seconds",
        "Seconds watched since the matching play (stop/complete events).",
        "1420.5",
    ),
    ColumnDoc("country", "ISO-3166 alpha-2", False, "-", "Country of the user.", "FR"),
)


class Event(BaseModel):
    """One raw event as a producer sends it. Unknown fields are dropped (never forwarded)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)

    user_id: str = Field(min_length=1, max_length=ID_MAX_LEN, pattern=USER_ID_PATTERN)
    timestamp: datetime
    event_type: EventType
    amount: float | None = Field(None, ge=0.0, le=AMOUNT_MAX, allow_inf_nan=False)
    event_id: str | None = Field(None, min_length=1, max_length=ID_MAX_LEN, pattern=TEXT_ID_PATTERN)
    session_id: str | None = Field(
        None, min_length=1, max_length=ID_MAX_LEN, pattern=TEXT_ID_PATTERN
    )
    content_id: str | None = Field(
        None, min_length=1, max_length=ID_MAX_LEN, pattern=TEXT_ID_PATTERN
    )
    device: Literal["tv", "mobile", "tablet", "web", "console", "unknown"] | None = None
    watch_seconds: float | None = Field(None, ge=0.0, le=7 * 86400.0, allow_inf_nan=False)
    country: str | None = Field(None, pattern=r"^[A-Z]{2}$")

    @field_validator("timestamp", mode="before")
    @classmethod
    def _parse_timestamp(cls, value: Any) -> Any:
        return parse_timestamp(value)

    @field_validator("timestamp")
    @classmethod
    def _timestamp_in_range(cls, value: datetime) -> datetime:
        if value.tzinfo is None:  # pydantic's own conversions (e.g. from a date) are naive
            value = value.replace(tzinfo=UTC)
        latest = datetime.now(UTC) + TIMESTAMP_MAX_SKEW
        earliest = timestamp_min()
        if not earliest <= value <= latest:
            raise ValueError(
                f"timestamp out of range: expected between {earliest:%Y-%m-%d} and now + 1 day"
            )
        return value

    @field_validator("amount", "watch_seconds", mode="before")
    @classmethod
    def _empty_number_is_missing(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip() == "":
            return None
        if isinstance(value, bool):
            raise ValueError("expected a number, got a boolean")
        return value

    @field_validator("event_id", "session_id", "content_id", "device", "country", mode="before")
    @classmethod
    def _empty_text_is_missing(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip() == "":
            return None
        return value

    @field_validator("country", mode="before")
    @classmethod
    def _upper_country(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


#: How the model's Python types are held in Arrow (timestamps: microseconds, always UTC).
_ARROW_TYPES: dict[type, pa.DataType] = {
    str: pa.string(),
    float: pa.float64(),
    datetime: pa.timestamp("us", tz="UTC"),
}


def _arrow_type(annotation: Any) -> pa.DataType:
    """The Arrow type of a field annotation; ``X | None`` is X, a Literal of strings is text."""
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return pa.string()
    if origin in (typing.Union, UnionType):
        (inner,) = [a for a in typing.get_args(annotation) if a is not NoneType]
        return _arrow_type(inner)
    try:
        return _ARROW_TYPES[annotation]
    except KeyError:
        raise TypeError(f"no Arrow type for the contract's annotation {annotation!r}") from None


def event_arrow_schema(
    columns: Sequence[str] = COLUMNS, rename: Mapping[str, str] | None = None
) -> pa.Schema:
    """The Arrow schema of validated events, read from :class:`Event` (the one definition).

    Every table of events (validated batches, generated files, the lake) takes its columns from
    here, so a field added to the contract reaches all of them; ``columns`` picks the order,
    ``rename`` the stored names (the lake keeps the user id's HMAC under another name). A field
    the contract requires is not nullable.
    """
    rename = rename or {}
    fields = Event.model_fields
    unknown = [c for c in columns if c not in fields]
    if unknown:
        raise KeyError(f"not contract fields: {', '.join(unknown)}; expected some of {COLUMNS}")
    return pa.schema(
        [
            pa.field(
                rename.get(c, c),
                _arrow_type(fields[c].annotation),
                nullable=not fields[c].is_required(),
            )
            for c in columns
        ]
    )


def parse_timestamp(value: Any) -> Any:
    """Normalise the accepted timestamp spellings to an aware UTC datetime.

    Epoch numbers above 1e11 are milliseconds (1e11 s is the year 5138), which lets producers
    send either unit without a flag. Anything unparseable is returned unchanged so that pydantic
    reports it with the column name.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if not math.isfinite(value):
            return value
        seconds = value / 1000.0 if abs(value) > 1e11 else float(value)
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return value
    if isinstance(value, str):
        text = value.strip()
        if text and text.lstrip("-").replace(".", "", 1).isdigit():
            return parse_timestamp(float(text))
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return value
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):  # a Parquet date32 column: midnight UTC, as "2026-09-14" is
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value


@dataclass(frozen=True)
class RowError:
    """Why one field of one record was refused; ``line`` is 1-based and counts the header."""

    line: int | None
    column: str
    value: str
    expected: str

    def __str__(self) -> str:
        where = f"line {self.line}, " if self.line is not None else ""
        return f"{where}column {self.column!r}: got {self.value!r}, expected {self.expected}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "expected": self.expected,
        }


_PATTERN_TEXT = {
    "user_id": "text without whitespace, control characters (e.g. NUL) or invisible characters",
    **dict.fromkeys(
        ("event_id", "session_id", "content_id"),
        "text without control characters (e.g. NUL, tab or a line break)",
    ),
}


def _expected_text(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    column = str(err["loc"][0]) if err.get("loc") else ""
    if kind == "missing":
        return "a value (column is required)"
    if kind == "literal_error":
        return f"one of {ctx.get('expected', '')}"
    if kind in {"greater_than_equal", "less_than_equal"} and column == "amount":
        return f"an amount between 0 and {AMOUNT_MAX:,.0f} EUR"
    if kind.startswith("float") or kind in {"finite_number"}:
        return "a finite decimal number"
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        return err.get("msg", kind).replace("Input should be", "a number")
    if kind == "string_pattern_mismatch" and column == "country":
        return "an ISO-3166 alpha-2 country code such as 'FR'"
    if kind == "string_pattern_mismatch":
        return _PATTERN_TEXT.get(column, "text of the expected form")
    if kind == "string_unicode":
        return "text of Unicode characters (a lone surrogate such as \\ud800 is not one)"
    if kind in {"string_too_short", "string_too_long"}:
        return f"text of 1 to {ID_MAX_LEN} characters"
    if kind.startswith("datetime") or column == "timestamp":
        msg = str(err.get("msg", ""))
        if "out of range" in msg:
            return msg.split("Value error, ", 1)[-1].replace(
                "timestamp out of range: expected ", ""
            )
        return "an ISO-8601 datetime (e.g. 2026-09-14T20:31:07Z) or epoch seconds/milliseconds"
    if kind == "string_type":
        return "text"
    return str(err.get("msg", kind))


def validate_record(record: dict[str, Any], line: int | None = None) -> Event | list[RowError]:
    """Validate one record; return the event, or every problem found (not just the first)."""
    try:
        return Event.model_validate(record)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            column = str(err["loc"][0]) if err.get("loc") else "<record>"
            raw = record.get(column, "") if isinstance(record, dict) else record
            errors.append(RowError(line, column, _short(raw), _expected_text(err)))
        return errors


def _short(value: Any, limit: int = 80) -> str:
    """The refused value as report text; a list or object is named by its type only: its text
    may be huge or nested past the interpreter's recursion limit (``str`` would raise), and
    the id inside it cannot be told apart to be masked."""
    if value is None:
        text = ""
    elif isinstance(value, str | int | float | bool | datetime | date):
        text = str(value)
    else:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


class CsvHeaderError(ValueError):
    """The CSV header lacks required columns; no row can be read."""


def _separator_hint(header: list[str]) -> str:
    """What a header that is one field holding the column names means: another separator (a
    spreadsheet's semicolon or tab export), which the contract does not read."""
    for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
        if len(header) == 1 and sum(c in REQUIRED_COLUMNS for c in header[0].split(sep)) >= 2:
            return f"; the header is separated by {name}: export the file comma-separated"
    return ""


def check_header(header: list[str]) -> None:
    """Refuse a file whose header misses required columns or names a column twice (which copy
    would be the value?), naming them and what is expected."""
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise CsvHeaderError(
            f"line 1: missing required column(s) {', '.join(missing)}; "
            f"expected a header with {', '.join(REQUIRED_COLUMNS)} "
            f"(optional: {', '.join(OPTIONAL_COLUMNS)})" + _separator_hint(header)
        )
    counts = collections.Counter(c for c in header if c in COLUMNS)
    twice = [c for c, n in counts.items() if n > 1]
    if twice:
        raise CsvHeaderError(
            f"line 1: column(s) {', '.join(twice)} appear more than once; expected each column once"
        )


def read_csv_events(
    lines: Iterable[str] | io.TextIOBase,
) -> Iterator[tuple[int, Event | list[RowError]]]:
    """Stream a CSV of events, yielding (line number, event or errors) per data row.

    Streams row by row, so a file of any size is read in constant memory.
    """
    for line, row in read_csv_rows(lines):
        yield line, row if isinstance(row, list) else validate_record(row, line=line)


class _RecordSpansLines(Exception):
    """The CSV reader asked for a second physical line to finish one record."""


class CsvEncodingError(CsvHeaderError):
    """The file is not UTF-8 text: the whole file is refused (a wrong encoding mangles every
    row that has a non-ASCII character), naming the first line and byte that is not."""


#: Longest physical line read (bytes). A valid row is under 2 KB (ids are at most 128
#: characters), and csv refuses a field over 131,072 characters anyway; without a bound, a file
#: with no line break (a binary upload, a gzip bomb of one line) is read into memory whole.
LINE_MAX_BYTES = 1 << 20

#: How the first bytes of a file that is not UTF-8 text betray what it is instead.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xfe", "UTF-16 text (byte order mark FF FE)"),
    (b"\xfe\xff", "UTF-16 text (byte order mark FE FF)"),
    (b"\x1f\x8b", "a gzip file (name it .csv.gz)"),
    (b"PK\x03\x04", "a ZIP archive (an .xlsx workbook is one)"),
    (b"PAR1", "a Parquet file (name it .parquet)"),
)


def _not_utf8(raw: bytes, number: int, exc: UnicodeDecodeError) -> CsvEncodingError:
    what = next((w for sig, w in _SIGNATURES if number == 1 and raw.startswith(sig)), None)
    return CsvEncodingError(
        f"line {number}: not UTF-8 text (byte {exc.start + 1} of the line, "
        f"0x{raw[exc.start]:02x}{'; it starts like ' + what if what else ''}); "
        "expected a UTF-8 CSV (re-export the file as UTF-8)"
    )


def _without_ending(raw: str | bytes) -> int:
    """Length of a line without its LF or CRLF."""
    n = len(raw)
    if raw[-1:] in ("\n", b"\n"):
        n -= 1 + (raw[-2:-1] in ("\r", b"\r"))
    return n


class _PhysicalLines:
    """The lines under a CSV reader, one record per line: decodes bytes line by line (so a byte
    that is not UTF-8 is located by line) and stops a record from running on to the next line.
    An unbalanced quote would otherwise swallow every following line into one field, and the
    rows would vanish from the counts. A binary stream is read at most ``LINE_MAX_BYTES`` at a
    time: a longer line is skipped to its end and handed on empty, with ``too_long`` set."""

    def __init__(self, lines: Iterable[str | bytes] | io.IOBase) -> None:
        readline = getattr(lines, "readline", None)
        self._readline: Any = readline if callable(readline) else None
        self._lines = iter(lines) if self._readline is None else None
        self.number = 0
        self.in_record = False
        self.too_long = False

    def __iter__(self) -> _PhysicalLines:
        return self

    def _next_raw(self) -> str | bytes:
        if self._readline is None:
            assert self._lines is not None
            return next(self._lines)
        raw = self._readline(LINE_MAX_BYTES + 2)  # the line and its CRLF
        if not raw:
            raise StopIteration
        return raw

    def __next__(self) -> str:
        if self.in_record:
            raise _RecordSpansLines
        raw = self._next_raw()
        self.number += 1
        self.too_long = _without_ending(raw) > LINE_MAX_BYTES
        if self.too_long:
            end: Any = b"\n" if isinstance(raw, bytes) else "\n"
            while self._readline is not None and raw and not raw.endswith(end):
                raw = self._readline(LINE_MAX_BYTES)  # skip to the line's end, bounded
            self.in_record = True
            return ""
        if isinstance(raw, bytes):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _not_utf8(raw, self.number, exc) from None
        else:
            text = raw
        if self.number == 1:
            text = text.removeprefix("\ufeff")
        self.in_record = True
        return text


def _csv_problem(exc: csv.Error) -> str:
    """What csv's message means for a person with the file open in an editor."""
    message = str(exc)
    if message.startswith("new-line character seen in unquoted field"):
        return (
            "one CSV record per line, ended by LF or CRLF (this line holds a lone carriage "
            "return, CR: old Mac line endings, or a line break inside a field)"
        )
    return f"one CSV record ({message})"


def read_csv_rows(
    lines: Iterable[str | bytes] | io.IOBase,
) -> Iterator[tuple[int, dict[str, str] | list[RowError]]]:
    """Stream a CSV's data rows as (line number, {column: text}) without validating them.

    The batch ingest validates rows many at a time, so the file-level rules live here once: the
    header must name the required columns, each once; blank lines are skipped; every physical
    line is one record (a quoted field may hold commas and quotes, not a line break), so a stray
    quote costs its own line only; a line that does not parse or has the wrong number of fields
    is reported as such (naming the first missing or extra column) instead of being silently
    padded, truncated or merged; a line longer than ``LINE_MAX_BYTES`` is refused without being
    held in memory (when ``lines`` is a binary stream). Lines may be ``str`` or ``bytes``
    (decoded here, line by line, so a file that is not UTF-8 is refused naming the line and
    byte, and what it looks like instead when its first bytes tell).
    """
    source = _PhysicalLines(lines)
    reader = csv.reader(source, strict=True)
    header: list[str] | None = None
    while True:
        source.in_record = False
        try:
            row: list[str] | RowError = next(reader)
        except StopIteration:
            row = None  # type: ignore[assignment]
        except _RecordSpansLines:
            row = RowError(
                source.number,
                "<line>",
                "<row not kept>",
                "a closing quote on the same line (a quoted field may not span lines)",
            )
        except csv.Error as exc:
            row = RowError(source.number, "<line>", "<row not kept>", _csv_problem(exc))
        if row is None:
            break
        line = source.number
        if source.too_long:
            row = RowError(
                line,
                "<line>",
                "<row not kept>",
                f"a line of at most {LINE_MAX_BYTES:,} bytes (a row is under 2 KB)",
            )
        if header is None:
            if isinstance(row, RowError):
                raise CsvHeaderError(f"line {row.line}: the header is not CSV: {row.expected}")
            header = [h.strip() for h in row]
            check_header(header)
            continue
        if isinstance(row, RowError):
            yield line, [row]
            continue
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != len(header):
            width = len(header)
            column = header[len(row)] if len(row) < width else f"<extra field {width + 1}>"
            yield (
                line,
                [
                    RowError(
                        line,
                        column,
                        _short(",".join(row)),
                        f"{width} fields as in the header, got {len(row)}",
                    )
                ],
            )
            continue
        yield line, dict(zip(header, row, strict=True))
    if header is None:
        raise CsvHeaderError("line 1: the file is empty; expected a header row")


def contract_as_text() -> str:
    """The CSV contract as a readable table (the README embeds the same text)."""
    rows = [("column", "required", "type", "unit", "example", "meaning")]
    for doc in COLUMN_DOCS:
        rows.append(
            (
                doc.name,
                "yes" if doc.required else "no",
                doc.type,
                doc.unit,
                doc.example,
                doc.description.format(timestamp_min=f"{timestamp_min():%Y-%m-%d}"),
            )
        )
    out = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    out += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    example = (
        ",".join(COLUMNS)
        + "\n"
        + ",".join(d.example for d in COLUMN_DOCS[:4])
        + ","
        + ",".join(d.example for d in COLUMN_DOCS[4:])
    )
    return "\n".join(out) + "\n\nExample CSV:\n\n" + example + "\n"
