"""Listing and deleting many lake objects from the driver with boto3, a request per 1,000 keys.

Hadoop's S3A filesystem deletes one path per call, and each call costs a status check, the
DELETE and a directory marker for the parent it may leave empty: 44 ms an object on moto with
the machine busy, so a compaction retiring the first load's 1,160 hot objects spent most of its
45 s deleting them, and a weekly run cleaning up ~370 superseded curated day versions (a status
check, a listing and a delete each) another 9 s. ``ListObjectsV2`` and ``DeleteObjects`` do the
same work in a request or two. The client is the project's factory on the settings' endpoint,
as the executors' PUTs and GETs (:mod:`.dayfiles`) already use: on Glue and EMR it finds the
job role's credentials, which carry ``s3:ListBucket`` and ``s3:DeleteObject`` on the zones the
step writes (the lake module's ``stage_access``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from segmentation.config import Settings

#: DeleteObjects takes at most this many keys a request.
DELETE_BATCH = 1000


def bucket_key(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` (or ``s3a://``) -> (``bucket``, ``a/b``)."""
    scheme, sep, rest = uri.partition("://")
    if not sep or scheme not in {"s3", "s3a", "s3n"}:
        raise ValueError(f"expected an s3:// or s3a:// URI, got {uri!r}")
    bucket, _, key = rest.partition("/")
    return bucket, key.strip("/")


def _client(settings: Settings) -> Any:
    from segmentation.awsclients import client

    return client("s3", settings)


def list_keys(settings: Settings, uri: str) -> Iterator[str]:
    """Every object key under the prefix ``uri`` (a directory: ``uri`` + ``/``), in key order;
    nothing when the prefix holds nothing."""
    bucket, prefix = bucket_key(uri)
    pages = _client(settings).get_paginator("list_objects_v2")
    for page in pages.paginate(Bucket=bucket, Prefix=f"{prefix}/" if prefix else ""):
        for item in page.get("Contents", ()):
            yield item["Key"]


def delete_keys(settings: Settings, bucket: str, keys: Iterable[str]) -> int:
    """Delete the keys of ``bucket``; returns how many were asked for. A key S3 refuses to
    delete raises (with the first few refusals and why): nothing is dropped silently."""
    s3 = _client(settings)
    todo = sorted(set(keys))
    for i in range(0, len(todo), DELETE_BATCH):
        batch = todo[i : i + DELETE_BATCH]
        answer = s3.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
        )
        errors = answer.get("Errors") or []
        if errors:
            shown = "; ".join(
                f"{e.get('Key')}: {e.get('Code')} {e.get('Message')}" for e in errors[:5]
            )
            raise RuntimeError(
                f"{len(errors)} of {len(batch)} deletes refused in {bucket}: {shown}"
            )
    return len(todo)


def delete_uris(settings: Settings, uris: Iterable[str]) -> int:
    """Delete the named objects (full URIs, any bucket); returns how many were asked for."""
    by_bucket: dict[str, list[str]] = {}
    for uri in uris:
        bucket, key = bucket_key(uri)
        by_bucket.setdefault(bucket, []).append(key)
    return sum(delete_keys(settings, b, keys) for b, keys in sorted(by_bucket.items()))
