"""Quarantine entries: why a record was refused, with nothing in them that identifies a person.

A refused record is kept so a person can see what went wrong and fix the producer, but the
quarantine zone is part of the lake, so the same rule holds there: no raw user id. The record's
``user_id`` is replaced by its HMAC (``user_anon_id``), only the contract's other fields are kept
(an unknown field could hold an e-mail address), and any text that contains the raw id is masked.
A payload that cannot be parsed cannot be searched for the id, so its text is never stored: only
its SHA-256 and size (enough to find it again in the source) and the parser's message.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
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
    "contract": "the record breaks the event contract (see errors)",
}
VALUE_LIMIT = 200
MASK = "<user_id>"
MIN_MASKED_ID = 3  # shorter ids would mask ordinary values (e.g. "1") without protecting anyone


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _scrub(text: str, raw_id: str | None) -> str:
    if raw_id and len(raw_id) >= MIN_MASKED_ID and raw_id in text:
        text = text.replace(raw_id, MASK)
    return text if len(text) <= VALUE_LIMIT else text[: VALUE_LIMIT - 3] + "..."


def _safe_value(value: Any, raw_id: str | None) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return _scrub(value, raw_id)
    return f"<{type(value).__name__}>"  # nested values are not searched; their text is not kept


def pseudonymise(
    record: Any, anonymiser: Anonymiser
) -> tuple[dict[str, Any] | None, str | None, str | None]:
    """(redacted payload, user_anon_id, raw id to mask) of a parsed record.

    A non-object record has no field to find the id in, so nothing of it is kept.
    """
    if not isinstance(record, Mapping):
        return None, None, None
    raw = record.get("user_id")
    raw_id = None
    if isinstance(raw, str | int) and not isinstance(raw, bool):
        raw_id = str(raw).strip() or None
    anon = anonymiser.anon(raw_id) if raw_id else None
    payload = {
        name: _safe_value(record[name], raw_id)
        for name in COLUMNS
        if name in record and name != "user_id"
    }
    extra = [k for k in record if k not in COLUMNS]
    if extra:
        payload["<unknown fields dropped>"] = len(extra)
    if raw is not None and raw_id is None:
        payload["<user_id>"] = f"<{type(raw).__name__}, not kept>"
    return payload, anon, raw_id


def error_dicts(errors: Iterable[RowError], raw_id: str | None) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        if err.column == "user_id":
            value = "<see user_anon_id>"
        elif err.column == "<record>":
            value = "<not kept>"
        else:
            value = _scrub(err.value, raw_id)
        out.append({**err.as_dict(), "value": value, "expected": _scrub(err.expected, raw_id)})
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
) -> dict[str, Any]:
    """One quarantine line; ``context`` says where the record came from (offset, file, line)."""
    if reason not in REASONS:
        raise ValueError(f"unknown quarantine reason {reason!r}")
    payload, anon, raw_id = pseudonymise(record, anonymiser) if parsed else (None, None, None)
    return {
        "reason": reason,
        "detail": detail or REASONS[reason],
        "errors": error_dicts(errors, raw_id),
        "user_anon_id": anon,
        "payload": payload,
        "payload_sha256": sha256(raw) if raw is not None else None,
        "payload_bytes": len(raw) if raw is not None else None,
        **context,
        "ingest_ts": ingest_ts.isoformat(),
    }


def jsonl(entries: Iterable[Mapping[str, Any]]) -> bytes:
    return "".join(json.dumps(e, ensure_ascii=False, default=str) + "\n" for e in entries).encode()
