"""Helpers of the ingest tests: hand-made events with recognisable raw ids, lake readers."""

from __future__ import annotations

import io
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq


def make_events(n: int, seed: int = 7, users: int = 50) -> list[dict[str, Any]]:
    """Valid events; user ids look like ``usr-<hex>`` so a leak is easy to search for."""
    rng = random.Random(seed)
    ids = [f"usr-{rng.getrandbits(48):012x}" for _ in range(users)]
    start = datetime(2026, 8, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        kind = rng.choice(["play", "pause", "stop", "complete", "search", "purchase"])
        ts = start + timedelta(seconds=rng.randrange(0, 5 * 86400))
        event: dict[str, Any] = {
            "event_id": f"ev-{seed}-{i:07d}",
            "user_id": rng.choice(ids),
            "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "event_type": kind,
            "amount": round(rng.uniform(1, 20), 2) if kind == "purchase" else None,
            "session_id": f"s-{rng.getrandbits(32):08x}",
            "content_id": f"c-{rng.randrange(500):05d}" if kind != "search" else None,
            "device": rng.choice(["tv", "mobile", "web"]),
            "watch_seconds": float(rng.randrange(3600)) if kind in {"stop", "complete"} else None,
            "country": rng.choice(["FR", "DE", "ES"]),
        }
        out.append(event)
    return out


def write_csv(path: Path, events: list[dict[str, Any]]) -> Path:
    from segmentation.contract import COLUMNS

    lines = [",".join(COLUMNS)]
    for e in events:
        lines.append(",".join("" if e.get(c) is None else str(e[c]) for c in COLUMNS))
    path.write_text("\n".join(lines) + "\n")
    return path


def read_objects(settings: Any, zone: str) -> dict[str, bytes]:
    from segmentation.awsclients import client

    s3 = client("s3", settings)
    bucket = settings.bucket(zone)
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            out[obj["Key"]] = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
    return out


def read_events(settings: Any, zone: str) -> list[dict[str, Any]]:
    rows = []
    for key, body in read_objects(settings, zone).items():
        if key.endswith(".parquet"):
            rows += pq.read_table(io.BytesIO(body)).to_pylist()
    return rows


def read_quarantine(settings: Any) -> list[dict[str, Any]]:
    out = []
    for key, body in read_objects(settings, "quarantine").items():
        assert key.endswith(".jsonl"), key
        out += [json.loads(line) for line in body.decode().splitlines()]
    return out


def object_text(key: str, body: bytes) -> str:
    """Searchable text of a lake object: Parquet decoded (its pages are compressed)."""
    if key.endswith(".parquet"):
        table = pq.read_table(io.BytesIO(body))
        return json.dumps(table.to_pylist(), default=str) + json.dumps(
            {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
        )
    return body.decode("utf-8", "replace")
