"""The permanent bad-input corpus: every landing file and Kafka batch a careless or hostile
producer has sent (or would), built deterministically in code.

Built rather than committed: the binary cases (UTF-16, gzip, Parquet, a 3 MB line) are easier to
read as the few lines that make them than as blobs, and each stays small. Every case plants its
own raw user id (``usr-corpus-<hash>``) so a leak anywhere is found by a plain text search, and
states what the ingest must do with it: the rows it refuses (and the columns the refusals name),
or, for a file that cannot be read at all, the words that must locate the fault (a line, a byte
offset, a row). ``tests/integration/ingest/test_bad_input_corpus.py`` runs them all through the
Lambda handlers with one accounting assertion.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from segmentation.contract import COLUMNS

LINE = "<line>"  # the column a refusal names when the line itself cannot be split into fields


def raw_id(name: str) -> str:
    """The case's raw user id: recognisable, unique per case, never legitimately in an output."""
    return f"usr-corpus-{hashlib.sha256(name.encode()).hexdigest()[:10]}"


def event(uid: str, i: int, **fields: Any) -> dict[str, Any]:
    """A valid event of user ``uid`` (fields override). Its event and session ids are the
    producer's own (stored as they are), so they never carry the raw user id."""
    tag = hashlib.sha256(uid.encode()).hexdigest()[:8]
    out: dict[str, Any] = {
        "event_id": f"ev-{tag}-{i:04d}",
        "user_id": uid,
        "timestamp": f"2026-08-0{1 + i % 5}T{i % 24:02d}:15:00Z",
        "event_type": "purchase" if i % 4 == 0 else "play",
        "amount": 4.99 if i % 4 == 0 else None,
        "session_id": f"s-{tag}",
        "content_id": f"c-{i % 50:05d}",
        "device": "tv",
        "watch_seconds": None,
        "country": "FR",
    }
    out.update(fields)
    return out


def csv_line(record: dict[str, Any], columns: tuple[str, ...] = COLUMNS) -> str:
    return ",".join("" if record.get(c) is None else str(record[c]) for c in columns)


def csv_lines(uid: str, n: int, start: int = 0) -> list[str]:
    """Header and ``n`` valid rows."""
    return [",".join(COLUMNS), *(csv_line(event(uid, start + i)) for i in range(n))]


def data_lines(body: bytes) -> int:
    """Rows of a CSV by the contract's definition: non-blank physical lines after the header."""
    return sum(1 for line in body.split(b"\n")[1:] if line.strip())


# --- landing files -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileCase:
    """One landing file. ``rows_in`` is None when it follows from the CSV body (``data_lines``);
    ``fails``: the file cannot be read and goes to ``failed/``, its report's error containing
    every text of ``where``; otherwise ``rejected`` rows are refused naming ``columns``."""

    name: str
    key: str
    body: bytes
    rows_in: int | None = None
    rejected: int = 0
    columns: frozenset[str] = frozenset()
    fails: bool = False
    where: tuple[str, ...] = ()

    @property
    def raw_id(self) -> str:
        return raw_id(self.name)

    @property
    def rows(self) -> int:
        if self.rows_in is not None:
            return self.rows_in
        text = gzip.decompress(self.body) if self.key.endswith(".gz") else self.body
        return data_lines(text)


def _csv(
    name: str, edit: Callable[[list[str], str], list[str]] | None = None, n: int = 12
) -> bytes:
    uid = raw_id(name)
    lines = csv_lines(uid, n)
    return "\n".join(edit(lines, uid) if edit else lines).encode() + b"\n"


def _set(line: str, column: str, value: str) -> str:
    fields = line.split(",")
    fields[COLUMNS.index(column)] = value
    return ",".join(fields)


def _edit(
    row: int, column: str, value: Callable[[str], str]
) -> Callable[[list[str], str], list[str]]:
    """An edit of one data row's field (``row`` counts from 1, the header is line 1)."""

    def apply(lines: list[str], uid: str) -> list[str]:
        lines = list(lines)
        lines[row] = _set(lines[row], column, value(uid))
        return lines

    return apply


def _parquet(table: pa.Table, **options: Any) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, **options)
    return sink.getvalue()


def _events_table(uid: str, n: int, **columns: Any) -> pa.Table:
    rows = [event(uid, i) for i in range(n)]
    data: dict[str, Any] = {c: [r[c] for r in rows] for c in COLUMNS}
    data.update(columns)
    return pa.table(data)


def _corrupt_middle(body: bytes) -> bytes:
    out = bytearray(body)
    mid = len(out) // 2
    out[mid : mid + 64] = b"\x00" * 64
    return bytes(out)


def _damaged_parquet(name: str) -> bytes:
    """Four row groups; the third one's page headers overwritten, the footer intact."""
    table = _events_table(raw_id(name), 40)
    body = bytearray(_parquet(table, row_group_size=10, compression="none"))
    meta = pq.ParquetFile(io.BytesIO(bytes(body))).metadata
    start = meta.row_group(2).column(0).data_page_offset
    body[start : start + 32] = b"\xff" * 32
    return bytes(body)


def _not_utf8_string_column(n: int) -> pa.Array:
    """A Parquet string column whose second value is not UTF-8 (written by a careless writer;
    pyarrow itself refuses to build one, so the buffers are laid out by hand)."""
    values = [b"c-first", b"\xff\xfe-bad"] + [f"c-{i:05d}".encode() for i in range(n - 2)]
    offsets = [0]
    for v in values:
        offsets.append(offsets[-1] + len(v))
    return pa.Array.from_buffers(
        pa.string(),
        n,
        [
            None,
            pa.py_buffer(pa.array(offsets, pa.int32()).buffers()[1]),
            pa.py_buffer(b"".join(values)),
        ],
    )


def file_cases() -> list[FileCase]:
    """Every landing-file case; names are unique (they pick the landing key and the raw id)."""
    cases: list[FileCase] = []

    def add(name: str, suffix: str, body: bytes, **expect: Any) -> None:
        cases.append(FileCase(name, f"incoming/corpus/{name}{suffix}", body, **expect))

    def text(name: str) -> str:
        return "\n".join(csv_lines(raw_id(name), 12)) + "\n"

    # encodings
    add("utf8-bom", ".csv", b"\xef\xbb\xbf" + text("utf8-bom").encode())
    latin = text("latin-1").splitlines()
    latin[4] = _set(latin[4], "content_id", "c-caf\u00e9")
    add(
        "latin-1",
        ".csv",
        ("\n".join(latin) + "\n").encode("latin-1"),
        fails=True,
        where=("line 5", "UTF-8"),
    )
    add(
        "utf-16-bom",
        ".csv",
        text("utf-16-bom").encode("utf-16"),
        fails=True,
        where=("line 1", "UTF-16"),
    )
    add(
        "cesu-surrogate",  # a surrogate encoded as UTF-8 bytes (CESU-8, Java's modified UTF-8)
        ".csv",
        _csv("cesu-surrogate").replace(b"c-00003", b"c-\xed\xa0\x80"),
        fails=True,
        where=("line 5", "UTF-8"),
    )
    add(
        "xlsx-as-csv",
        ".csv",
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00!\x00\xa4\xc3" + raw_id("xlsx-as-csv").encode(),
        fails=True,
        where=("line 1", "ZIP"),
    )
    # line endings
    add("crlf", ".csv", text("crlf").replace("\n", "\r\n").encode())
    add(
        "lone-cr-file",
        ".csv",
        text("lone-cr-file").replace("\n", "\r").encode(),
        fails=True,
        where=("line 1", "carriage return"),
    )
    add(
        "lone-cr-in-a-field",
        ".csv",
        _csv("lone-cr-in-a-field", _edit(6, "content_id", lambda u: "c-1\rc-2")),
        rejected=1,
        columns=frozenset({LINE}),
    )
    add(
        "blank-and-space-lines",
        ".csv",
        _csv("blank-and-space-lines", lambda ls, u: [*ls[:3], "", "   ", "\r", *ls[3:], "", ""]),
    )
    # quoting
    add(
        "stray-quote",
        ".csv",
        _csv("stray-quote", _edit(4, "content_id", lambda u: '"c-1')),
        rejected=1,
        columns=frozenset({LINE}),
    )
    add(
        "quote-after-quoted",
        ".csv",
        _csv("quote-after-quoted", _edit(4, "content_id", lambda u: '"c-1"x')),
        rejected=1,
        columns=frozenset({LINE}),
    )
    add(
        "quoted-commas",
        ".csv",
        _csv("quoted-commas", _edit(3, "content_id", lambda u: '"c-1,c-2"')),
    )
    add(
        "doubled-quotes",
        ".csv",
        _csv("doubled-quotes", _edit(3, "content_id", lambda u: '"c-""1"""')),
    )
    add(
        "quoted-line-break",  # a quoted field may not span lines: both halves are refused
        ".csv",
        _csv("quoted-line-break", _edit(5, "content_id", lambda u: '"c-1\nc-2"')),
        rejected=2,
        columns=frozenset({LINE, "event_id"}),
    )
    # sizes
    add(
        "huge-field",
        ".csv",
        _csv("huge-field", _edit(7, "content_id", lambda u: "x" * 200_000)),
        rejected=1,
        columns=frozenset({LINE}),
    )
    add(
        "huge-line",
        ".csv",
        _csv("huge-line", lambda ls, u: [*ls[:5], ",".join(["y" * 100_000] * 30), *ls[5:]]),
        rejected=1,
        columns=frozenset({LINE}),
    )
    add(
        "one-line-no-newline",
        ".csv",
        raw_id("one-line-no-newline").encode() * 200_000,
        fails=True,
        where=("line 1", "at most"),
    )
    # gzip
    plain = text("gzip-members").encode()
    cut = plain.index(b"\n", len(plain) // 2) - 7  # the members split inside a line
    add("gzip-members", ".csv.gz", gzip.compress(plain[:cut]) + gzip.compress(plain[cut:]))
    add(
        "gzip-truncated",
        ".csv.gz",
        gzip.compress(text("gzip-truncated").encode() * 40)[:-200],
        fails=True,
        where=("byte", "gzip"),
    )
    add(
        "gzip-corrupt",
        ".csv.gz",
        _corrupt_middle(gzip.compress(text("gzip-corrupt").encode() * 40)),
        fails=True,
        where=("byte", "gzip"),
    )
    add("not-gzip", ".csv.gz", text("not-gzip").encode(), fails=True, where=("byte", "gzip"))
    add(
        "gzip-named-csv",
        ".csv",
        gzip.compress(text("gzip-named-csv").encode()),
        fails=True,
        where=("line 1", "gzip"),
    )
    # header
    add(
        "duplicate-header",
        ".csv",
        _csv("duplicate-header", lambda ls, u: [f"{x},{x.split(',')[0]}" for x in ls]),
        fails=True,
        where=("line 1", "user_id", "more than once"),
    )
    add("header-only", ".csv", (",".join(COLUMNS) + "\n").encode())
    add("empty-file", ".csv", b"", fails=True, where=("line 1", "empty"))
    add(
        "no-header",
        ".csv",
        _csv("no-header", lambda ls, u: ls[1:]),
        fails=True,
        where=("line 1", "missing required"),
    )
    add(
        "semicolons",
        ".csv",
        _csv("semicolons", lambda ls, u: [x.replace(",", ";") for x in ls]),
        fails=True,
        where=("line 1", "missing required"),
    )
    add(
        "header-repeated-mid-file",
        ".csv",
        _csv("header-repeated-mid-file", lambda ls, u: [*ls[:6], ls[0], *ls[6:]]),
        rejected=1,
        columns=frozenset(
            {"timestamp", "event_type", "amount", "device", "watch_seconds", "country"}
        ),
    )
    add(
        "field-count",
        ".csv",
        _csv("field-count", lambda ls, u: [*ls[:3], ls[3] + ",", ls[4].rsplit(",", 1)[0], *ls[5:]]),
        rejected=2,
        columns=frozenset({"country", "<extra field 11>"}),
    )
    # NUL and other invisible characters: refused naming the column
    add(
        "nul-content-id",
        ".csv",
        _csv("nul-content-id", _edit(2, "content_id", lambda u: "c-\x001")),
        rejected=1,
        columns=frozenset({"content_id"}),
    )
    add(
        "nul-user-id",
        ".csv",
        _csv("nul-user-id", _edit(3, "user_id", lambda u: u + "\x00")),
        rejected=1,
        columns=frozenset({"user_id"}),
    )
    add(
        "tab-session-id",
        ".csv",
        _csv("tab-session-id", _edit(3, "session_id", lambda u: "s-\t" + u)),
        rejected=1,
        columns=frozenset({"session_id"}),
    )
    add(
        "zero-width-user-id",
        ".csv",
        _csv("zero-width-user-id", _edit(8, "user_id", lambda u: u + "\u200b")),
        rejected=1,
        columns=frozenset({"user_id"}),
    )
    add(
        "raw-id-in-refused-row",
        ".csv",
        _csv(
            "raw-id-in-refused-row",  # the id refused, and in every other text field of its row
            lambda ls, u: [
                *ls[:2],
                f'"{u} x",2026-08-01T00:00:00Z,play,,{u},s-{u},{u}/c,tv,,FR',
                *ls[3:],
            ],
        ),
        rejected=1,
        columns=frozenset({"user_id"}),
    )
    # numbers
    numbers = [
        ("amount", "1e400"),
        ("amount", str(2**80)),
        ("amount", "NaN"),
        ("timestamp", str(10**18)),
        ("timestamp", "-1e15"),
        ("watch_seconds", "9" * 400),
    ]
    add(
        "huge-numbers",
        ".csv",
        _csv(
            "huge-numbers",
            lambda ls, u: [
                ls[0],
                *(_set(ls[1 + i], c, v) for i, (c, v) in enumerate(numbers)),
                *ls[1 + len(numbers) :],
            ],
        ),
        rejected=len(numbers),
        columns=frozenset(c for c, _ in numbers),
    )

    # Parquet
    def pq_case(name: str, table: Callable[[str], pa.Table] | bytes, **expect: Any) -> None:
        body = table if isinstance(table, bytes) else _parquet(table(raw_id(name)))
        rows = expect.pop("rows_in", None)
        if rows is None and not isinstance(table, bytes) and not expect.get("fails"):
            rows = pq.ParquetFile(io.BytesIO(body)).metadata.num_rows
        add(name, ".parquet", body, rows_in=rows if rows is not None else 0, **expect)

    epoch_ms = int(datetime(2026, 8, 2, tzinfo=UTC).timestamp() * 1000)
    pq_case(
        "pq-loose-types",
        lambda u: _events_table(
            u, 8, amount=["4.99"] * 8, timestamp=pa.array([epoch_ms] * 8, pa.int64())
        ),
    )
    pq_case(
        "pq-date-timestamp",
        lambda u: _events_table(u, 6, timestamp=pa.array([date(2026, 8, 3)] * 6)),
    )
    pq_case(
        "pq-int-user-id",
        lambda u: _events_table(u, 6, user_id=list(range(6))),
        rejected=6,
        columns=frozenset({"user_id"}),
    )
    pq_case(
        "pq-nested-user-id",
        lambda u: _events_table(u, 5, user_id=[{"id": u, "alias": [u]}] * 5),
        rejected=5,
        columns=frozenset({"user_id"}),
    )
    pq_case(
        "pq-list-content-id",
        lambda u: _events_table(u, 5, content_id=[[u, "c-1"]] * 5),
        rejected=5,
        columns=frozenset({"content_id"}),
    )
    pq_case(
        "pq-timestamp-past-9999",
        lambda u: _events_table(u, 4, timestamp=pa.array([2**62] * 4, pa.timestamp("us"))),
        rejected=4,
        columns=frozenset({"timestamp"}),
    )
    pq_case(
        "pq-not-utf8-strings",
        lambda u: _events_table(u, 5, content_id=_not_utf8_string_column(5)),
        rejected=1,
        columns=frozenset({"content_id"}),
    )
    pq_case(
        "pq-nul-content-id",
        lambda u: _events_table(u, 5, content_id=["c-1", "c-\x002", "c-3", "c-4", "c-5"]),
        rejected=1,
        columns=frozenset({"content_id"}),
    )
    pq_case("pq-zero-rows", lambda u: _events_table(u, 0))
    pq_case(
        "pq-missing-columns",
        lambda u: _events_table(u, 5).drop_columns(["timestamp", "event_type"]),
        fails=True,
        where=("schema", "timestamp", "event_type"),
    )
    pq_case(
        "pq-duplicate-column",
        lambda u: pa.Table.from_arrays(
            [*_events_table(u, 3).columns, pa.array([u] * 3)], names=[*COLUMNS, "user_id"]
        ),
        fails=True,
        where=("user_id", "more than once"),
    )
    pq_case(
        "pq-damaged-page",
        _damaged_parquet("pq-damaged-page"),
        rows_in=40,
        fails=True,
        where=("row",),
    )
    pq_case(
        "pq-truncated",
        _parquet(_events_table(raw_id("pq-truncated"), 5))[:-40],
        fails=True,
        where=("Parquet",),
    )
    pq_case("pq-is-csv", _csv("pq-is-csv"), fails=True, where=("Parquet",))
    return cases


# --- Kafka batches -------------------------------------------------------------------------------

INVALID_BASE64 = object()  # marks a value the event carries as invalid base64


@dataclass(frozen=True)
class KafkaCase:
    """One Kafka batch: (key, value) records (a value None is a tombstone), how many are valid,
    and the quarantine reasons of the rest; ``columns``: what the contract refusals name."""

    name: str
    records: tuple[tuple[bytes | None, Any], ...]
    valid: int
    reasons: dict[str, int] = field(default_factory=dict)
    columns: frozenset[str] = frozenset()

    @property
    def raw_id(self) -> str:
        return raw_id(self.name)


def _json(record: Any) -> bytes:
    return json.dumps(record, allow_nan=True).encode()


def kafka_cases() -> list[KafkaCase]:
    cases: list[KafkaCase] = []

    def add(name: str, bad: Callable[[str], list[tuple[bytes | None, Any]]], **expect: Any) -> None:
        uid = raw_id(name)
        good = [
            (uid.encode(), _json(event(uid, i))) for i in range(2)
        ]  # bad records never cost these
        cases.append(
            KafkaCase(name, tuple(bad(uid) + good), valid=2 + expect.pop("valid", 0), **expect)
        )

    def rec(uid: str, **fields: Any) -> tuple[bytes, bytes]:
        return uid.encode(), _json(event(uid, 7, **fields))

    add(
        "not-json",
        lambda u: [
            (u.encode(), f"user_id={u}; play".encode()),
            (u.encode(), b""),
            (None, b"{" + u.encode()),
        ],
        reasons={"invalid_json": 3},
    )
    add(
        "json-not-object",
        lambda u: [
            (u.encode(), _json([event(u, 1)])),
            (u.encode(), _json(u)),
            (u.encode(), b"42"),
            (u.encode(), b"null"),
            (u.encode(), b"true"),
        ],
        reasons={"not_an_object": 5},
        columns=frozenset({"<record>"}),
    )
    add(
        "deep-nesting",
        lambda u: [
            (u.encode(), b"[" * 10_000 + b"]" * 10_000),
            (u.encode(), b'{"user_id":' + b"[" * 10_000 + _json(u) + b"]" * 10_000 + b"}"),
            (
                u.encode(),
                b'{"user_id":'
                + b"[" * 1020
                + _json(u)
                + b"]" * 1020
                + b',"timestamp":"2026-08-01T00:00:00Z","event_type":"play"}',
            ),
            (
                u.encode(),
                b'{"user_id":"'
                + u.encode()
                + b'","timestamp":"2026-08-01T00:00:00Z","event_type":"play","content_id":'
                + b'{"a":' * 1000
                + b"1"
                + b"}" * 1000
                + b"}",
            ),
        ],
        reasons={"invalid_json": 2, "contract": 2},
        columns=frozenset({"user_id", "content_id"}),
    )
    add(
        "huge-numbers",
        lambda u: [
            (
                u.encode(),
                _json(event(u, 1, amount=10.0)).replace(b'"amount": 10.0', b'"amount": 1e400'),
            ),
            rec(u, amount=2**80),
            rec(u, amount=float("inf")),
            (
                u.encode(),
                _json(event(u, 2)).replace(
                    b'"timestamp": "2026-08-03T02:15:00Z"', b'"timestamp": 1e400'
                ),
            ),
            rec(u, timestamp=10**18),
            rec(u, timestamp=-(10**15)),
            rec(u, timestamp=2**64 + 1),
            rec(u, watch_seconds=-(2**80)),
        ],
        reasons={"contract": 8},
        columns=frozenset({"amount", "timestamp", "watch_seconds"}),
    )
    add("tombstones", lambda u: [(u.encode(), None), (None, None)], reasons={"empty_value": 2})
    add("invalid-base64", lambda u: [(u.encode(), INVALID_BASE64)], reasons={"invalid_base64": 1})
    add("too-large", lambda u: [rec(u, content_id=u * 5000)], reasons={"too_large": 1})
    add(
        "raw-id-key-and-fields",  # the record is refused, the key's raw id is everywhere in it
        lambda u: [
            (
                u.encode(),
                _json(
                    {
                        "content_id": u,
                        "session_id": f"s/{u}",
                        "event_id": f"{u}-1",
                        "timestamp": "bad",
                    }
                ),
            ),
            (u.encode(), _json({"user_id": f"{u} x", "content_id": u, "event_type": f"{u}!"})),
        ],
        reasons={"contract": 2},
        columns=frozenset({"user_id", "timestamp", "event_type"}),
    )

    def shapes(u: str) -> list[Any]:
        return [int(u[-6:], 16), 1.5, True, [u], {"id": u}, None, "", "   "]

    missing = {k: v for k, v in event(raw_id("user-id-shapes"), 3).items() if k != "user_id"}
    add(
        "user-id-shapes",
        lambda u: [rec(u, user_id=s) for s in shapes(u)] + [(u.encode(), _json(missing))],
        reasons={"contract": 9},
        columns=frozenset({"user_id"}),
    )
    add(
        "nul-and-controls",
        lambda u: [
            rec(u, user_id=u + "\x00"),
            rec(u, content_id="c-\x001"),
            rec(u, session_id=f"s\t{u}"),
            rec(u, event_id="e-\x7f"),
            rec(u, user_id="\u200b" + u),
        ],
        reasons={"contract": 5},
        columns=frozenset({"user_id", "content_id", "session_id", "event_id"}),
    )
    add(
        "lone-surrogates",
        lambda u: [
            (u.encode(), _json(event(u, 1)).replace(b'"c-00001"', b'"c-\\ud800"')),
            (u.encode(), _json(event(u, 2)).replace(f'"{u}"'.encode(), f'"{u}\\udfff"'.encode())),
        ],
        reasons={"contract": 2},
        columns=frozenset({"content_id", "user_id"}),
    )
    add(
        "encodings",
        lambda u: [
            (u.encode(), _json(event(u, 1)).decode().encode("utf-16")),
            (u.encode(), _json(event(u, 2)).replace(b"c-00002", b"c-\xff\xfe")),
            (u.encode(), b"\xef\xbb\xbf" + _json(event(u, 3))),  # a BOM is tolerated, as in a CSV
        ],
        valid=1,
        reasons={"invalid_json": 2},
    )
    add("unknown-fields", lambda u: [rec(u, email=f"{u}@example.com", nested={"id": u})], valid=1)
    return cases
