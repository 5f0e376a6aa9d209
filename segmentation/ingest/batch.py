"""Batch ingest: one landing object (CSV or Parquet, any size) -> raw zone + report + quarantine.

The file is streamed in chunks of ``Settings.batch_chunk_rows`` rows, so memory stays bounded
whatever its size; each chunk is validated with the same contract and anonymised with the same key
as the stream. Valid rows wait per event day (at most two chunks' worth, ``lakewrite.DayBuffer``)
so the raw zone gets few, large objects; outputs are keyed by the landing object, its version
(ETag) and a sequence that follows from the file alone, so a retried file overwrites its own
outputs, and a file re-delivered under the same key with other content replaces the rows of its
earlier version: once the new version is written, the earlier one's outputs (named in its
report) are deleted, and a new version that fails leaves the earlier one whole. The landing
object is moved (to ``processed/`` or ``failed/`` in the landing bucket) only after everything
else is written: it is never lost, and if anything fails before the move the object is still
there to be retried.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import re
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from segmentation.anonymise import Anonymiser
from segmentation.config import Settings
from segmentation.contract import COLUMNS, CsvHeaderError, RowError, check_header, read_csv_rows
from segmentation.ingest import quarantine
from segmentation.ingest.lakewrite import DayBuffer, split_s3_uri, to_lake
from segmentation.ingest.validate import ROW, validate_records
from segmentation.lake import LakePaths

PROCESSED = "processed/"
FAILED = "failed/"
REPORT_SUFFIX = ".report.json"
FORMATS = {".csv": "csv", ".csv.gz": "csv", ".parquet": "parquet", ".pq": "parquet"}
#: Errors listed in a report; beyond this, only counted (the quarantine holds every row).
REPORT_ERROR_LIMIT = 1000


class UnreadableFile(ValueError):
    """The file as a whole cannot be read as events (format, header, encoding)."""


@dataclass
class BatchReport:
    """The per-file report written next to the landing object after it is moved."""

    landing: str
    status: str = "processing"  # processed | failed
    format: str | None = None
    rows_total: int = 0
    rows_ok: int = 0
    rows_rejected: int = 0
    chunks: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    errors_not_listed: int = 0
    error: str | None = None
    outputs: list[str] = field(default_factory=list)
    quarantine: list[str] = field(default_factory=list)
    #: Outputs of an earlier delivery under the same key, deleted once this one was written.
    replaced: list[str] = field(default_factory=list)
    moved_to: str | None = None
    report: str | None = None
    line_numbers: str = "CSV: physical line, header = line 1; Parquet: row number from 1"
    started: str = ""
    finished: str = ""

    def as_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False).encode()


def should_ingest(key: str) -> bool:
    """Landing keys the batch ingest acts on: not its own outputs, and a known format."""
    return not key.startswith((PROCESSED, FAILED)) and file_format(key) is not None


def file_format(key: str) -> str | None:
    name = key.lower()
    for suffix, kind in sorted(FORMATS.items(), key=lambda kv: -len(kv[0])):
        if name.endswith(suffix):
            return kind
    return None


def file_id(bucket: str, key: str) -> str:
    """A short, S3-safe id of the landing object: readable stem + hash of its full location."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", PurePosixPath(key).name)[:60]
    digest = hashlib.sha256(f"{bucket}/{key}".encode()).hexdigest()[:12]
    return f"{stem}-{digest}"


# --- reading in chunks ---------------------------------------------------------------------------

Chunk = tuple[list[Any], list[int], list[tuple[int, list[RowError]]]]  # rows, lines, width errors


class _CountingReader(io.RawIOBase):
    """The object body as a raw stream that counts the bytes read from it, so a compressed body
    that breaks is located by its offset in the file."""

    def __init__(self, body: Any) -> None:
        self._body = body
        self.offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        self.offset += len(data)
        return len(data)


def _csv_chunks(stream: Any, key: str, rows_per_chunk: int) -> Iterator[Chunk]:
    counted = _CountingReader(stream)
    binary: Any = io.BufferedReader(counted, buffer_size=1 << 20)
    compressed = key.lower().endswith(".gz")
    if compressed:
        binary = gzip.GzipFile(fileobj=binary)
    rows: list[Any] = []
    lines: list[int] = []
    broken: list[tuple[int, list[RowError]]] = []
    last_line = 0
    try:
        for line, row in read_csv_rows(binary):
            last_line = line
            if isinstance(row, list):
                broken.append((line, row))
            else:
                rows.append(row)
                lines.append(line)
            if len(rows) + len(broken) >= rows_per_chunk:
                yield rows, lines, broken
                rows, lines, broken = [], [], []
    except CsvHeaderError as exc:
        raise UnreadableFile(str(exc)) from None
    except (EOFError, OSError, zlib.error) as exc:  # gzip: truncated, corrupt or not gzip
        where = f"after line {last_line}, " if last_line else ""
        raise UnreadableFile(
            f"cannot decompress: {exc} ({where}near byte {counted.offset:,} of the compressed "
            "file); expected a complete gzip file"
            if compressed
            else f"cannot read the file: {exc} ({where}near byte {counted.offset:,})"
        ) from None
    if rows or broken:
        yield rows, lines, broken


def _parquet_chunks(path: str, rows_per_chunk: int) -> Iterator[Chunk]:
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise UnreadableFile(f"not a Parquet file: {exc}") from None
    try:
        check_header(pf.schema_arrow.names)
    except CsvHeaderError as exc:
        raise UnreadableFile(str(exc).replace("line 1: ", "schema: ")) from None
    wanted = [c for c in COLUMNS if c in pf.schema_arrow.names]
    start = 0
    batches = pf.iter_batches(batch_size=rows_per_chunk, columns=wanted)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (pa.ArrowException, OSError) as exc:  # a damaged page or row group
            raise UnreadableFile(
                f"cannot read the Parquet data after row {start:,}: {' '.join(str(exc).split())}; "
                "expected a complete Parquet file"
            ) from None
        rows = _pylist(batch)
        yield rows, list(range(start + 1, start + 1 + len(rows))), []
        start += len(rows)


def _pylist(batch: pa.RecordBatch) -> list[dict[str, Any]]:
    """The batch's rows as Python values, which the contract judges. A value Python cannot hold
    (a timestamp past the year 9999, a string column that is not UTF-8) would make the whole
    batch raise: it becomes a text that names it, so only its row is refused, by the contract,
    naming the column."""
    columns: dict[str, list[Any]] = {}
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        try:
            columns[name] = column.to_pylist()
        except (ValueError, OverflowError, pa.ArrowException):  # UnicodeDecodeError included
            columns[name] = [_py(column, i) for i in range(len(column))]
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


class UnreadableValue:
    """Stands for a Parquet value Python cannot hold: no contract field accepts it (unlike a
    text that describes it, which a text column would take as a value)."""

    def __init__(self, arrow_type: pa.DataType) -> None:
        self.arrow_type = str(arrow_type)

    def __str__(self) -> str:
        return f"<a {self.arrow_type} value Python cannot read>"


def _py(column: pa.Array, i: int) -> Any:
    try:
        return column[i].as_py()
    except (ValueError, OverflowError, pa.ArrowException):
        return UnreadableValue(column.type)


# --- one file ------------------------------------------------------------------------------------


def ingest_landing_object(
    bucket: str,
    key: str,
    *,
    anonymiser: Anonymiser,
    s3: Any,
    settings: Settings,
    now: datetime | None = None,
) -> BatchReport:
    """Ingest one landing object; returns its report (also written to S3).

    Raises on S3 failures (the invocation is retried and the object stays where it is); a file
    whose content cannot be read is moved to ``failed/`` with a report saying why.
    """
    now = now or datetime.now(UTC)
    report = BatchReport(landing=f"s3://{bucket}/{key}", started=now.isoformat())
    report.format = file_format(key)
    fid = file_id(bucket, key)
    paths = LakePaths(settings)
    raw_uri = paths.events("raw")
    q_bucket, q_prefix = split_s3_uri(paths.quarantine("batch"))
    source = f"landing:s3://{bucket}/{key}"
    try:
        if report.format is None:
            raise UnreadableFile(
                f"unsupported file type {PurePosixPath(key).suffix!r}: "
                f"expected one of {', '.join(sorted(FORMATS))}"
            )
        # at most two chunks' rows wait for their day's object (see DayBuffer)
        version = _version(s3, bucket, key)
        out = DayBuffer(s3, raw_uri, f"batch-{fid}-{version}", 2 * settings.batch_chunk_rows)
        try:
            with _chunks(s3, bucket, key, report.format, settings.batch_chunk_rows) as chunks:
                for number, (rows, lines, broken) in enumerate(chunks):
                    _ingest_chunk(
                        number,
                        rows,
                        lines,
                        broken,
                        report,
                        anonymiser,
                        s3,
                        out,
                        (q_bucket, f"{q_prefix}/file={fid}"),
                        source,
                        now,
                    )
            out.close()
        finally:
            report.outputs = out.written
        report.status = "processed"
    except UnreadableFile as exc:
        report.status = "failed"
        report.error = str(exc)
        # none of a failed file's rows reaches the lake: every row read counts as rejected
        report.rows_rejected, report.rows_ok = report.rows_total, 0
        _delete(s3, report.outputs + report.quarantine)  # a failed file contributes no rows
        report.outputs, report.quarantine = [], []
    if report.status == "processed":
        earlier = _earlier_delivery(s3, bucket, key)
        report.replaced = sorted(set(earlier) - set(report.outputs) - set(report.quarantine))
        _delete(s3, report.replaced)
    target = (PROCESSED if report.status == "processed" else FAILED) + key
    report.moved_to = f"s3://{bucket}/{target}"
    report.report = f"s3://{bucket}/{target}{REPORT_SUFFIX}"
    report.finished = datetime.now(UTC).isoformat()
    s3.put_object(
        Bucket=bucket,
        Key=target + REPORT_SUFFIX,
        Body=report.as_json(),
        ContentType="application/json",
    )
    s3.copy({"Bucket": bucket, "Key": key}, bucket, target)  # managed copy: multipart above 5 GB
    s3.delete_object(Bucket=bucket, Key=key)
    return report


@contextlib.contextmanager
def _chunks(s3: Any, bucket: str, key: str, kind: str, rows: int) -> Iterator[Iterator[Chunk]]:
    if kind == "csv":
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        try:
            yield _csv_chunks(body, key, rows)
        finally:
            body.close()
        return
    # Parquet needs random access (footer first): spool to local disk (Lambda: /tmp, up to 10 GB).
    with tempfile.NamedTemporaryFile(suffix=".parquet") as tmp:
        s3.download_fileobj(bucket, key, tmp)
        tmp.flush()
        yield _parquet_chunks(tmp.name, rows)


def _ingest_chunk(
    number: int,
    rows: list[Any],
    lines: list[int],
    broken: list[tuple[int, list[RowError]]],
    report: BatchReport,
    anonymiser: Anonymiser,
    s3: Any,
    out: DayBuffer,
    q_location: tuple[str, str],
    source: str,
    now: datetime,
) -> None:
    result = validate_records(rows, lines=lines)
    ok_lines = [lines[i] for i in result.table.column(ROW).to_pylist()]
    lake = to_lake(result.table, anonymiser, [f"{source}:{n}" for n in ok_lines], now)
    if lake.num_rows:
        out.add(lake)

    entries = []
    for line, errors in broken:  # wrong field count: the fields cannot be told apart, keep none
        hidden = [RowError(e.line, e.column, "<row not kept>", e.expected) for e in errors]
        entries.append((line, None, False, hidden))
    for rej in result.rejected:
        entries.append((lines[rej.row], rows[rej.row], True, rej.errors))
    entries.sort(key=lambda e: e[0])
    q_entries = []
    for line, record, parsed, errors in entries:
        raw = json.dumps(record, sort_keys=True, default=str).encode() if parsed else None
        item = quarantine.entry(
            "contract",
            record=record,
            parsed=parsed,
            raw=raw,
            errors=errors,
            anonymiser=anonymiser,
            ingest_ts=now,
            context={"source": "batch", "landing": report.landing, "line": line, "chunk": number},
        )
        q_entries.append(item)
        for err in item["errors"]:
            if len(report.errors) < REPORT_ERROR_LIMIT:
                report.errors.append(err)
            else:
                report.errors_not_listed += 1
    if q_entries:
        q_bucket, q_prefix = q_location
        q_key = f"{q_prefix}/chunk-{number:05d}.jsonl"
        s3.put_object(Bucket=q_bucket, Key=q_key, Body=quarantine.jsonl(q_entries))
        report.quarantine.append(f"s3://{q_bucket}/{q_key}")
    report.chunks += 1
    report.rows_total += len(rows) + len(broken)
    report.rows_ok += lake.num_rows
    report.rows_rejected += len(q_entries)


def _version(s3: Any, bucket: str, key: str) -> str:
    """A short tag of the landing object's content version (its ETag)."""
    etag = s3.head_object(Bucket=bucket, Key=key).get("ETag", "").strip('"')
    return re.sub(r"[^A-Za-z0-9]", "", etag)[:12] or "noetag"


def _earlier_delivery(s3: Any, bucket: str, key: str) -> list[str]:
    """The outputs and quarantine files of the last processed delivery of ``key`` (none if the
    key was never processed)."""
    try:
        body = s3.get_object(Bucket=bucket, Key=PROCESSED + key + REPORT_SUFFIX)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return []
    earlier = json.loads(body)
    return [*earlier.get("outputs", []), *earlier.get("quarantine", [])]


def _delete(s3: Any, uris: list[str]) -> None:
    for uri in uris:
        bucket, key = split_s3_uri(uri)
        s3.delete_object(Bucket=bucket, Key=key)
