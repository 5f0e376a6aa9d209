"""Provision the local stack's resources without Terraform (tests and `demo --provision python`).

``terraform apply`` of envs/local is the faithful way and the demo's default; it takes minutes
against moto. This creates only what the local data path touches — the zone buckets, the segments
table, the alert topic and the HMAC key — with the same names, so tests and a quick demo can run
in seconds. It never replaces Terraform on AWS.
"""

from __future__ import annotations

from segmentation.config import ZONES, Settings


def provision(settings: Settings, topic_name: str | None = None) -> dict[str, object]:
    """Create what is missing; returns what exists afterwards."""
    from segmentation.anonymise import store_key
    from segmentation.awsclients import client
    from segmentation.serving.table import ensure_table

    s3 = client("s3", settings)
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for zone in ZONES:
        if settings.bucket(zone) not in existing:
            s3.create_bucket(Bucket=settings.bucket(zone))
    ensure_table(client("dynamodb", settings), settings)
    topic = client("sns", settings).create_topic(
        Name=topic_name or f"{settings.lake_prefix}-alerts"
    )["TopicArn"]
    key = store_key(settings)
    return {
        "buckets": [settings.bucket(z) for z in ZONES],
        "table": settings.segments_table,
        "topic": topic,
        "hmac_key": key,
    }
