"""Quarantine entries: why a record was refused, with nothing in them that identifies a person.

A refused record is kept so a person can see what went wrong and fix the producer, but the
quarantine zone is part of the lake, so the same rule holds there: no raw user id. The record's
``user_id`` is replaced by its HMAC (``user_anon_id``), only the contract's other fields are kept
(an unknown field could hold an e-mail address), and any text that contains a raw id is masked:
every raw id the record carries, whatever its shape (a scalar ``user_id``, the strings inside a
list or object ``user_id``, the Kafka record key, which producers set to the user id).
A payload that cannot be parsed cannot be searched for the id, so its text is never stored: only
its SHA-256 and size (enough to find it again in the source) and the parser's message.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from segmentation.anonymise import Anonymiser
from segmentation.contract import COLUMNS, RowError

#: Why a record was refused (the ``reason`` field).
REASONS = {
    "invalid_base64": "the Kafka value is not valid base64",
    "empty_value": "the Kafka record has no value (tombstone)",
    "too_large": "the Kafka value exceeds Settings.ingest_max_record_bytes; not parsed",
    "invalid_json": "the value is not UTF-8 JSON",
    "not_an_object": "the JSON value is not an object",
    "duplicate_key": "the JSON object names a contract field twice (parsers keep the last)",
    "contract": "the record breaks the event contract (see errors)",
}
VALUE_LIMIT = 200
MASK = "<user_id>"
MIN_MASKED_ID = 3  # shorter ids would mask ordinary values (e.g. "1") without protecting anyone
#: A lone surrogate (JSON's ``"\\ud800"``) is not a character: it cannot be written as UTF-8, so
#: it is kept as U+FFFD.
_SURROGATE = re.compile("[\ud800-\udfff]")
#: Where an id that the contract refused splits into the ids a person would see in it: around
#: whitespace, control and invisible characters ("usr-42\x00" shows, and is, "usr-42").
_ID_SEPARATORS = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]+")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _scrub(text: str, raw_ids: Sequence[str]) -> str:
    text = _SURROGATE.sub("\ufffd", text)
    for raw_id in raw_ids:
        if raw_id in text:
            text = text.replace(raw_id, MASK)
    return text if len(text) <= VALUE_LIMIT else text[: VALUE_LIMIT - 3] + "..."


def _safe_value(value: Any, raw_ids: Sequence[str]) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return _scrub(value, raw_ids)
    return f"<{type(value).__name__}>"  # nested values are not searched; their text is not kept


def _strings_in(value: Any, depth: int = 0) -> Iterator[str]:
    """The scalar texts inside a value of any shape (bounded: a hostile record may nest deep)."""
    if isinstance(value, str | int) and not isinstance(value, bool):
        text = _SURROGATE.sub("\ufffd", str(value)).strip()
        yield text
        yield from _ID_SEPARATORS.split(text)
    elif depth < 8 and isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings_in(key, depth + 1)
            yield from _strings_in(item, depth + 1)
    elif depth < 8 and isinstance(value, list | tuple):
        for item in value:
            yield from _strings_in(item, depth + 1)


def mask_list(*candidates: Any) -> list[str]:
    """Every raw id to mask, longest first (so an id that contains another is masked whole);
    ids shorter than ``MIN_MASKED_ID`` would mask ordinary values without protecting anyone."""
    ids = {s for c in candidates for s in _strings_in(c) if len(s) >= MIN_MASKED_ID}
    return sorted(ids, key=lambda s: (-len(s), s))


def pseudonymise(
    record: Any, anonymiser: Anonymiser, other_ids: Sequence[str] = ()
) -> tuple[dict[str, Any] | None, str | None, list[str]]:
    """(redacted payload, user_anon_id, raw ids to mask) of a parsed record.

    A non-object record has no field to find the id in, so nothing of it is kept.
    """
    if not isinstance(record, Mapping):
        return None, None, mask_list(*other_ids)
    raw = record.get("user_id")
    raw_id = None
    if isinstance(raw, str | int) and not isinstance(raw, bool):
        raw_id = str(raw).strip() or None
    anon = anonymiser.anon(_SURROGATE.sub("\ufffd", raw_id)) if raw_id else None
    raw_ids = mask_list(raw, *other_ids)
    payload = {
        name: _safe_value(record[name], raw_ids)
        for name in COLUMNS
        if name in record and name != "user_id"
    }
    extra = [k for k in record if k not in COLUMNS]
    if extra:
        payload["<unknown fields dropped>"] = len(extra)
    if raw is not None and raw_id is None:
        payload["<user_id>"] = f"<{type(raw).__name__}, not kept>"
    return payload, anon, raw_ids


def error_dicts(errors: Iterable[RowError], raw_ids: Sequence[str]) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        if err.column == "user_id":
            value = "<see user_anon_id>"
        elif err.column == "<record>":
            value = "<not kept>"
        else:
            value = _scrub(err.value, raw_ids)
        out.append({**err.as_dict(), "value": value, "expected": _scrub(err.expected, raw_ids)})
    return out


def entry(
    reason: str,
    *,
    record: Any = None,
    parsed: bool,
    raw: bytes | None,
    errors: Iterable[RowError] = (),
    anonymiser: Anonymiser,
    ingest_ts: datetime,
    context: Mapping[str, Any],
    detail: str | None = None,
    other_ids: Sequence[str] = (),
) -> dict[str, Any]:
    """One quarantine line; ``context`` says where the record came from (offset, file, line).

    ``other_ids``: raw ids the record carries outside its ``user_id`` (the Kafka key), masked
    wherever they appear, whatever shape the record has."""
    if reason not in REASONS:
        raise ValueError(f"unknown quarantine reason {reason!r}")
    if parsed:
        payload, anon, raw_ids = pseudonymise(record, anonymiser, other_ids)
    else:
        payload, anon, raw_ids = None, None, mask_list(*other_ids)
    return {
        "reason": reason,
        "detail": _scrub(detail or REASONS[reason], raw_ids),
        "errors": error_dicts(errors, raw_ids),
        "user_anon_id": anon,
        "payload": payload,
        "payload_sha256": sha256(raw) if raw is not None else None,
        "payload_bytes": len(raw) if raw is not None else None,
        **context,
        "ingest_ts": ingest_ts.isoformat(),
    }


def jsonl(entries: Iterable[Mapping[str, Any]]) -> bytes:
    return "".join(json.dumps(e, ensure_ascii=False, default=str) + "\n" for e in entries).encode()
