"""Test helper: put events (with raw user ids, as a producer sends them) into the lake's raw zone
the way ingest does — user ids HMAC'd by the Anonymiser, rows in LAKE_EVENT_SCHEMA, Parquet
partitioned by event_date — and read Spark outputs back."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import UTC, datetime

import boto3
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segmentation.anonymise import Anonymiser
from segmentation.config import ZONES, Settings
from segmentation.lake import LAKE_EVENT_SCHEMA

TEST_KEY = b"k" * 32
ANON = Anonymiser(TEST_KEY)


def s3(settings: Settings):
    return boto3.client("s3", endpoint_url=settings.endpoint_url, region_name=settings.aws_region)


def make_buckets(settings: Settings, zones: Iterable[str] = ZONES) -> None:
    """The zone buckets and the clean step's run ledger table."""
    from segmentation.awsclients import client as aws_client
    from segmentation.ledger import ensure_table

    client = s3(settings)
    for zone in zones:
        client.create_bucket(Bucket=settings.bucket(zone))
    ensure_table(aws_client("dynamodb", settings), settings)


def to_lake_table(events: pd.DataFrame, source: str = "batch") -> pa.Table:
    """Producer-shaped events (user_id, timestamp, ...) -> LAKE_EVENT_SCHEMA rows."""
    df = events.copy()
    df["user_anon_id"] = ANON.anon_many(df.pop("user_id").astype(str))
    df["event_ts"] = pd.to_datetime(df.pop("timestamp"), utc=True)
    for col in LAKE_EVENT_SCHEMA.names:
        if col not in df:
            df[col] = None
    df["ingest_ts"] = pd.to_datetime(df["ingest_ts"], utc=True).fillna(
        pd.Timestamp(datetime.now(UTC))
    )
    df["source"] = df["source"].fillna(source)
    for col in ("amount", "watch_seconds"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
    return pa.Table.from_pandas(
        df[LAKE_EVENT_SCHEMA.names], schema=LAKE_EVENT_SCHEMA, preserve_index=False
    )


def write_events(
    settings: Settings,
    zone: str,
    events: pd.DataFrame,
    source: str = "batch",
    name: str | None = None,
) -> int:
    """Write one Parquet file per event_date partition under <zone>/events/, named ``name``
    (default ``part-<source>-0``: a second call with the same name replaces the first's)."""
    table = to_lake_table(events, source)
    days = pd.Series(table.column("event_ts").to_pandas()).dt.strftime("%Y-%m-%d")
    # rows whose timestamp is null still need a partition: ingest files them under the ingest day
    days = days.fillna(datetime.now(UTC).strftime("%Y-%m-%d"))
    client = s3(settings)
    n = 0
    for day in sorted(days.unique()):
        mask = pa.array((days == day).to_numpy())
        part = table.filter(mask)
        buf = io.BytesIO()
        pq.write_table(part, buf)
        client.put_object(
            Bucket=settings.bucket(zone),
            Key=f"events/event_date={day}/{name or f'part-{source}-0'}.parquet",
            Body=buf.getvalue(),
        )
        n += part.num_rows
    return n


def write_catalog(settings: Settings, catalog: pd.DataFrame) -> None:
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(catalog, preserve_index=False), buf)
    s3(settings).put_object(
        Bucket=settings.bucket("raw"), Key="catalog/catalog.parquet", Body=buf.getvalue()
    )


def read_curated(
    spark, settings: Settings, first_day: str | None = None, last_day: str | None = None
):
    """The committed curated events (the ledger's current version), as the features step reads
    them; None before the first commit."""
    from segmentation.awsclients import client as aws_client
    from segmentation.lake import LakePaths
    from segmentation.ledger import Ledger
    from segmentation.pipeline.curated import current_manifest
    from segmentation.pipeline.curated import read_curated as read

    paths = LakePaths(settings, scheme="s3")
    ledger = Ledger(aws_client("dynamodb", settings), settings.ledger_table)
    return read(spark, paths, current_manifest(spark, paths, ledger), first_day, last_day)
