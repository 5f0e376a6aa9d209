"""Small segment maps and profiles written to the moto lake, the way the cluster step writes them
(Spark part files under segment_map/model_version=<v>/ plus a _SUCCESS marker)."""

from __future__ import annotations

import io
import json
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from segmentation.anonymise import Anonymiser
from segmentation.awsclients import client
from segmentation.config import ZONES, Settings
from segmentation.model_document import ModelDocument, SegmentProfile
from segmentation.serving.table import ensure_table

KEY = bytes(range(32))
NAMES = {0: "Binge watchers", 1: "Casual browsers", 2: "Premium buyers"}
#: The durable key of each segment id (in these maps a segment keeps its id across versions).
KEYS = {0: "S1", 1: "S2", 2: "S3"}


def raw_ids(n: int) -> list[str]:
    return [f"user-{i:05d}" for i in range(n)]


def segment_of(i: int) -> int:
    return i % 3


def make_stack(settings: Settings) -> None:
    s3 = client("s3", settings)
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for zone in ZONES:
        if settings.bucket(zone) not in existing:
            s3.create_bucket(Bucket=settings.bucket(zone))
    ensure_table(client("dynamodb", settings), settings)


def write_version(
    settings: Settings,
    model_version: str,
    n_users: int,
    *,
    anonymiser: Anonymiser | None = None,
    shift: int = 0,
    parts: int = 2,
    with_profiles: bool = True,
    run_id: str | None = None,
    custom_ids: list[str] | None = None,
    schema: int = 2,
    previous: tuple[str, dict[str, int]] | None = None,
    since: str | None = None,
    placed: dict[str, int] | None = None,
    reasons: bool = False,
) -> dict[str, int]:
    """Write a segment map of ``n_users`` (ids HMAC'd like ingest) and its profiles; returns
    raw id -> segment id so tests know the truth. ``custom_ids`` replace the first generated
    ids (ids of unusual characters, as ingest stored them).

    ``schema=2`` writes what the cluster step writes since stable keys (the map's
    ``segment_key`` and ``moved_since_previous``, the document's keys, ``since`` and
    ``previous_size``); ``schema=1`` a map and a document from before them. ``previous`` is
    (version, its truth): users in it get ``moved_since_previous``, segments a
    ``previous_size``. ``since`` is every key's first version (default: this one, or the
    previous one's when given). ``placed`` puts the given raw ids in the given segments.
    ``reasons`` writes each user's driving features as the cluster step does (user i spent
    ``100 + i`` EUR and was last active ``i`` days before the snapshot)."""
    anon = anonymiser or Anonymiser(KEY)
    ids = raw_ids(n_users)
    if custom_ids:
        ids = [*custom_ids, *ids[len(custom_ids) :]]
    truth = {u: (segment_of(i) + shift) % 3 for i, u in enumerate(ids)}
    truth.update(placed or {})
    before = previous[1] if previous else {}
    s3 = client("s3", settings)
    bucket = settings.bucket("segments")
    prefix = f"segment_map/model_version={model_version}"
    chunk = max(1, -(-n_users // parts))
    for p in range(parts):
        sl = ids[p * chunk : (p + 1) * chunk]
        if not sl:
            continue
        columns = {
            "user_anon_id": anon.anon_many(sl),
            "segment_id": pa.array([truth[u] for u in sl], pa.int32()),
            "segment_name": [NAMES[truth[u]] for u in sl],
        }
        if schema >= 2:
            columns["segment_key"] = [KEYS[truth[u]] for u in sl]
            columns["moved_since_previous"] = pa.array(
                [before[u] != truth[u] if u in before else None for u in sl], pa.bool_()
            )
            if reasons:
                columns["reasons"] = [
                    json.dumps(
                        [
                            {"feature": "monetary", "value": 100.0 + ids.index(u), "mean": 57.3},
                            {"feature": "recency_days", "value": ids.index(u), "mean": 20.0},
                        ]
                    )
                    for u in sl
                ]
            columns["model_version"] = [model_version] * len(sl)
        table = pa.table(columns)
        buf = io.BytesIO()
        pq.write_table(table, buf)
        s3.put_object(
            Bucket=bucket, Key=f"{prefix}/part-{p:05d}.snappy.parquet", Body=buf.getvalue()
        )
    s3.put_object(Bucket=bucket, Key=f"{prefix}/_SUCCESS", Body=b"")
    if with_profiles:  # the document the cluster step writes (segmentation.pipeline)
        sizes = {sid: sum(1 for v in truth.values() if v == sid) for sid in NAMES}
        identity: dict[str, Any] = {}
        if schema >= 2:
            first = since or (previous[0] if previous else model_version)
            identity = {
                sid: {
                    "segment_key": KEYS[sid],
                    "since": first,
                    "previous_size": (
                        sum(1 for v in before.values() if v == sid) if previous else None
                    ),
                }
                for sid in NAMES
            }
        document = ModelDocument(
            schema_version=2 if schema >= 2 else 1,
            previous_model_version=previous[0] if previous and schema >= 2 else None,
            model_version=model_version,
            algorithm="kmeans",
            snapshot_date=date(2026, 9, 30),
            pipeline_run_id=run_id or f"run-{model_version}",
            mlflow_run_id="0123456789abcdef",
            registered_model=None,
            n_users=n_users,
            params={"algorithm": "kmeans", "k": len(NAMES)},
            metrics={"silhouette": 0.5},
            k_sweep=[],
            eps_sweep=[],
            features=[],
            segments=[
                SegmentProfile(
                    segment_id=sid,
                    name=name,
                    why=f"{name} stand out",
                    size=sizes[sid],
                    share=round(sizes[sid] / n_users, 6),
                    means={"recency_days": 3.5 + sid, "monetary": 12.25 * sid},
                    z_scores={"recency_days": -0.5 + sid, "monetary": 0.1 * sid},
                    distinguishing=[f"recency_days {sid - 0.5:+.2f} sd"],
                    actions=[f"action for {name}"],
                    **identity.get(sid, {}),
                )
                for sid, name in NAMES.items()
            ],
        )
        s3.put_object(
            Bucket=bucket,
            Key=f"profiles/model_version={model_version}/profiles.json",
            Body=document.to_json().encode(),
        )
    return truth
