"""The data lake's layout and the schema of events at rest, shared by every writer and reader.

Zones are buckets (``<lake_prefix>-<zone>``, see :class:`segmentation.config.Settings`); inside a
zone, datasets are Hive-partitioned prefixes so Spark, Athena and the Glue catalog read them alike.
Writers (ingest Lambdas, Glue jobs) and readers (Glue jobs, EMR steps, publish) take paths from
here, never from string literals of their own.
"""

from __future__ import annotations

import pyarrow as pa

from segmentation.config import Settings
from segmentation.contract import STORED_COLUMNS, event_arrow_schema

_TS = pa.timestamp("us", tz="UTC")

#: Contract fields stored under another name: the raw user id never reaches the lake, only its
#: keyed HMAC does, and the event's time is told apart from the ingest time.
LAKE_NAMES: dict[str, str] = {"user_id": "user_anon_id", "timestamp": "event_ts"}

#: Events at rest in the raw and hot zones: the contract's fields, with the user id replaced by its
#: keyed HMAC and the ingest lineage added. ``event_date`` is the partition column (UTC day).
LAKE_EVENT_SCHEMA: pa.Schema = (
    event_arrow_schema(STORED_COLUMNS, LAKE_NAMES)
    .append(pa.field("ingest_ts", _TS, nullable=False))
    .append(pa.field("source", pa.string(), nullable=False))
)

#: Flags the clean step adds to every curated event: which values it imputed or capped, and
#: whether the session is its own (inactivity gap) rather than the producer's.
CLEAN_FLAGS: tuple[str, ...] = (
    "amount_imputed",
    "watch_seconds_imputed",
    "amount_capped",
    "session_imputed",
)

#: The numbers as they arrived, beside the imputed / capped values (null where none arrived).
CLEAN_ORIGINALS: tuple[str, ...] = ("amount_original", "watch_seconds_original")

#: Events in the curated zone (the Glue table ``curated.events``), partitioned by event_date.
CURATED_EVENT_SCHEMA: pa.Schema = pa.schema(
    [
        *LAKE_EVENT_SCHEMA,
        *(pa.field(f, pa.bool_(), nullable=False) for f in CLEAN_FLAGS),
        *(pa.field(f, pa.float64()) for f in CLEAN_ORIGINALS),
    ]
)
PARTITION_COLUMN = "event_date"

#: Dataset prefixes inside each zone.
EVENTS = "events"  # raw, hot, curated: partitioned by event_date=YYYY-MM-DD
CATALOG = "catalog"  # raw: the content catalog (content_id, genre, duration_minutes, release_year)
USER_FEATURES = "user_features"  # features: partitioned by snapshot_date=YYYY-MM-DD
SEGMENT_MAP = "segment_map"  # segments: partitioned by model_version=...
PROFILES = "profiles"  # segments: profiles/model_version=.../profiles.json
MODEL_POINTS = "model_points"  # segments: model_points/model_version=.../points.json (assignment)
PROVISIONAL = "provisional"  # segments: provisional/model_version=.../ (between-run assignments)
BACKTEST_REPORT = "backtest-{horizon_days}d.json"  # segments: beside a version's profiles.json
QUALITY = "quality"  # curated: quality/run_id=.../report.json
LEDGER = "_ledger"  # curated: _ledger/manifest-<version>-<run_id>.json (segmentation.ledger)
FEATURES_REPORTS = "reports"  # features: reports/run_id=.../report.json (users, warnings)
UPLIFT = "uplift"  # segments: uplift/campaign_id=.../report.json (segmentation uplift)


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

    def model_points(self, model_version: str) -> str:
        """The centres (K-Means) or core points (DBSCAN) a version assigns with, in its scaled
        space: what the between-run assignment applies (:mod:`segmentation.pipeline.assign`)."""
        return self._uri("segments", MODEL_POINTS, f"model_version={model_version}", "points.json")

    def provisional(self, model_version: str) -> str:
        """The provisional assignments of a version (users assigned between weekly runs)."""
        return self._uri("segments", PROVISIONAL, f"model_version={model_version}")

    def backtest_report(self, model_version: str, horizon_days: int) -> str:
        """The backtest of a version over ``horizon_days`` after its snapshot (one horizon, one
        file: a later backtest of the same version and horizon replaces it)."""
        name = BACKTEST_REPORT.format(horizon_days=horizon_days)
        return self._uri("segments", PROFILES, f"model_version={model_version}", name)

    def quality_report(self, run_id: str) -> str:
        return self._uri("curated", QUALITY, f"run_id={run_id}", "report.json")

    def features_report(self, run_id: str) -> str:
        return self._uri("features", FEATURES_REPORTS, f"run_id={run_id}", "report.json")

    def uplift_report(self, campaign_id: str) -> str:
        return self._uri("segments", UPLIFT, f"campaign_id={campaign_id}", "report.json")

    def quarantine(self, source: str) -> str:
        return self._uri("quarantine", source)
