"""The data lake's layout and the schema of events at rest, shared by every writer and reader.

Zones are buckets (``<lake_prefix>-<zone>``, see :class:`segmentation.config.Settings`); inside a
zone, datasets are Hive-partitioned prefixes so Spark, Athena and the Glue catalog read them alike.
Writers (ingest Lambdas, Glue jobs) and readers (Glue jobs, EMR steps, publish) take paths from
here, never from string literals of their own.
"""

from __future__ import annotations

import pyarrow as pa

from segmentation.config import Settings

#: Events at rest in the raw and hot zones: the contract's fields, with the user id replaced by its
#: keyed HMAC and the ingest lineage added. ``event_date`` is the partition column (UTC day).
LAKE_EVENT_SCHEMA = pa.schema(
    [
        pa.field("event_id", pa.string()),
        pa.field("user_anon_id", pa.string(), nullable=False),
        pa.field("event_ts", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("event_type", pa.string(), nullable=False),
        pa.field("amount", pa.float64()),
        pa.field("session_id", pa.string()),
        pa.field("content_id", pa.string()),
        pa.field("device", pa.string()),
        pa.field("watch_seconds", pa.float64()),
        pa.field("country", pa.string()),
        pa.field("ingest_ts", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("source", pa.string(), nullable=False),
    ]
)
PARTITION_COLUMN = "event_date"

#: Dataset prefixes inside each zone.
EVENTS = "events"  # raw, hot, curated: partitioned by event_date=YYYY-MM-DD
CATALOG = "catalog"  # raw: the content catalog (content_id, genre, duration_minutes, release_year)
USER_FEATURES = "user_features"  # features: partitioned by snapshot_date=YYYY-MM-DD
SEGMENT_MAP = "segment_map"  # segments: partitioned by model_version=...
PROFILES = "profiles"  # segments: profiles/model_version=.../profiles.json
QUALITY = "quality"  # curated: quality/run_id=.../report.json


class LakePaths:
    """Every dataset location, in the URI scheme the caller's reader speaks."""

    def __init__(self, settings: Settings, scheme: str = "s3") -> None:
        self.settings = settings
        self.scheme = scheme

    def _uri(self, zone: str, *parts: str) -> str:
        return self.settings.zone_uri(zone, *parts, scheme=self.scheme)

    def events(self, zone: str) -> str:
        if zone not in {"raw", "hot", "curated"}:
            raise ValueError(f"events live in the raw, hot or curated zone, not {zone!r}")
        return self._uri(zone, EVENTS)

    def catalog(self) -> str:
        return self._uri("raw", CATALOG)

    def features(self, snapshot_date: str | None = None) -> str:
        part = f"snapshot_date={snapshot_date}" if snapshot_date else ""
        return self._uri("features", USER_FEATURES, part)

    def segment_map(self, model_version: str | None = None) -> str:
        part = f"model_version={model_version}" if model_version else ""
        return self._uri("segments", SEGMENT_MAP, part)

    def profiles(self, model_version: str) -> str:
        return self._uri("segments", PROFILES, f"model_version={model_version}", "profiles.json")

    def quality_report(self, run_id: str) -> str:
        return self._uri("curated", QUALITY, f"run_id={run_id}", "report.json")

    def quarantine(self, source: str) -> str:
        return self._uri("quarantine", source)
