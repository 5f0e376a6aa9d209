"""Provision the local stack's resources without Terraform (tests and `demo --provision python`).

``terraform apply`` of envs/local is the faithful way and the demo's default; it takes minutes
against moto. This creates only what the local data path touches — the zone buckets, the
DynamoDB tables (segments, the clean step's run ledger, campaigns), the alert topic and the HMAC
keys (anonymisation, campaign arms) —
with the same names, so tests and a quick demo can run in seconds. It never replaces Terraform
on AWS. :func:`planned` is the list, and the local-apply test holds it equal to what envs/local
creates, so a bucket, table or secret added to Terraform is never missing here.
"""

from __future__ import annotations

from dataclasses import dataclass

from segmentation.config import ZONES, Settings


@dataclass(frozen=True)
class LocalResources:
    buckets: tuple[str, ...]
    tables: tuple[str, ...]
    secrets: tuple[str, ...]
    topics: tuple[str, ...]


def planned(settings: Settings, topic_name: str | None = None) -> LocalResources:
    """The data path's resources, named as envs/local names them (from the same settings)."""
    return LocalResources(
        buckets=tuple(settings.bucket(z) for z in ZONES),
        tables=(settings.segments_table, settings.ledger_table, settings.campaigns_table),
        secrets=(settings.hmac_secret_name, settings.campaign_secret_name),
        topics=(topic_name or f"{settings.lake_prefix}-alerts",),
    )


def provision(settings: Settings, topic_name: str | None = None) -> dict[str, object]:
    """Create what is missing; returns what exists afterwards."""
    from segmentation import ledger
    from segmentation.anonymise import store_key
    from segmentation.awsclients import client
    from segmentation.campaign import store as campaigns
    from segmentation.campaign.arms import store_arm_key
    from segmentation.serving import table as segments

    plan = planned(settings, topic_name)
    s3 = client("s3", settings)
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for bucket in plan.buckets:
        if bucket not in existing:
            s3.create_bucket(Bucket=bucket)
    tables = {
        settings.segments_table: segments.ensure_table,
        settings.ledger_table: ledger.ensure_table,
        settings.campaigns_table: campaigns.ensure_table,
    }
    missing = set(plan.tables) - set(tables)
    if missing:  # a table in the plan needs its definition here (key schema, TTL)
        raise NotImplementedError(f"no local definition for table(s) {sorted(missing)}")
    for name in plan.tables:
        tables[name](client("dynamodb", settings), settings)
    sns = client("sns", settings)
    topics = [sns.create_topic(Name=name)["TopicArn"] for name in plan.topics]
    key = store_key(settings)  # creates the secret (plan.secrets) with a fresh key when missing
    store_arm_key(settings)  # and the campaigns' arm key
    return {
        "buckets": list(plan.buckets),
        "table": settings.segments_table,
        "ledger_table": settings.ledger_table,
        "topic": topics[0],
        "hmac_key": key,
    }
