"""Clean: raw + hot events -> curated events, with a data-quality report and a quarantine.

Rules, in order (each one's rows in/out go to the report):

1. ``validate``  — rows that cannot be events, or fall outside the run's window, go to the
   quarantine zone with a ``reason`` (first that applies, in :data:`REASONS` order): missing
   user_anon_id / event_ts, unknown event_type, event_ts before 2000-01-01 or more than one day
   after its ingest time (clock faults), amount or watch_seconds negative / not finite / above the
   contract's maximum, unknown device, and event_ts before the window (``window_days`` whole UTC
   days ending with ``snapshot_date``) or at/after its end (the midnight after snapshot_date).
2. ``dedup_exact`` — rows equal on every event column (ingest lineage aside) are one event
   delivered twice (e.g. through both Kafka and batch); the earliest ingested copy is kept.
3. ``dedup_event_id`` — rows sharing an event_id keep the earliest ingested one.
4. ``impute`` — categorical gaps become ``"unknown"`` (device, country, and content_id of
   content events); a missing amount of a money event and a missing watch_seconds of a pause /
   stop / complete event take the median of their event type; where a number does not apply
   (amount of a non-money event, watch_seconds of other events) a gap becomes 0.
5. ``cap_outliers`` — per money event type, amounts outside the IQR fences
   ``[max(0, Q1 - k*IQR), Q3 + k*IQR]`` are capped to the fence and flagged ``amount_capped``.
6. ``sessionise`` — events without a session_id get one from a ``session_gap_minutes``
   inactivity gap (flag ``session_imputed``), so every curated event belongs to a session.

Each rule is a DataFrame -> DataFrame transform of :mod:`.clean_rules`, chained here with
``.transform``; :mod:`.quality` measures them for the report.

Everything is recomputed from all input events each run, so duplicates across days and zones are
found, and the output replaces the curated zone's events (partitioned by ``event_date``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from segmentation.lake import PARTITION_COLUMN, LakePaths
from segmentation.pipeline import lakeio
from segmentation.pipeline.clean_rules import (
    REASONS,
    ZONE,
    TypeStats,
    cap_outliers,
    dedup_event_id,
    dedup_exact,
    fit_type_stats,
    flag_invalid,
    impute,
    invalid_rows,
    sessionise,
    to_curated,
    valid_rows,
    window_bounds,
)
from segmentation.pipeline.params import CleanParams
from segmentation.pipeline.quality import (
    DedupCounts,
    InputCounts,
    measure_dedup,
    measure_input,
    measure_output,
    quality_report,
)
from segmentation.pipeline.schemas import EVENT_COLUMNS, EVENT_SCHEMA

__all__ = [
    "REASONS",
    "Cleaned",
    "clean_events",
    "read_events",
    "run",
    "sessionise",
    "window_bounds",
]

log = logging.getLogger(__name__)


def read_events(spark: SparkSession, paths: LakePaths, zones: list[str]) -> tuple[DataFrame, dict]:
    """Union of the zones' events (missing or empty zones count as zero rows)."""
    frames, found = [], {}
    for zone in zones:
        uri = paths.events(zone)
        if not lakeio.exists(spark, uri):
            log.warning("no events in zone %s (%s)", zone, uri)
            found[zone] = None
            continue
        df = spark.read.schema(EVENT_SCHEMA).parquet(uri).select(*EVENT_COLUMNS)
        frames.append(df.withColumn(ZONE, F.lit(zone)))
        found[zone] = uri
    if not frames:
        raise FileNotFoundError(
            "no events to clean: expected Parquet events under "
            + " or ".join(paths.events(z) for z in zones)
        )
    out = frames[0]
    for df in frames[1:]:
        out = out.unionByName(df)
    return out, found


@dataclass(frozen=True)
class Cleaned:
    """The rules' outputs (lazy frames over cached inputs) and what was measured on the way."""

    curated: DataFrame
    quarantine: DataFrame
    inputs: InputCounts
    dedup: DedupCounts
    stats: TypeStats


@contextmanager
def clean_events(
    df: DataFrame,
    iqr_k: float,
    window: tuple[int, int],
    session_gap_minutes: int = 30,
) -> Iterator[Cleaned]:
    """Apply the rules to the events read; the frames are valid inside the ``with`` block.

    The flagged input is kept on the executors' local disks (not in memory: at millions of rows a
    memory cache of the raw events does not fit a small driver) because three actions use it
    (counts, dedup, quarantine), and on S3 a re-scan costs a few requests per object: the raw
    zone holds one object per event day, and faulty timestamps alone spread a 90-day log over
    hundreds of days (measured: a 500k-event lake on moto, ~860 objects, took ~25 s per scan).
    The deduplicated events are cached too: the statistics, the output and its counts read them.
    Both are released when the block ends, written or not.
    """
    flagged = df.transform(flag_invalid, window).persist(StorageLevel.DISK_ONLY)
    deduped: DataFrame | None = None
    try:
        inputs = measure_input(flagged)
        deduped = (
            flagged.transform(valid_rows).transform(dedup_exact).transform(dedup_event_id).cache()
        )
        dedup = measure_dedup(deduped)
        stats = fit_type_stats(deduped, iqr_k)
        curated = (
            deduped.transform(impute, stats.medians)
            .transform(cap_outliers, stats.fences)
            .transform(sessionise, session_gap_minutes)
            .transform(to_curated)
        )
        yield Cleaned(curated, flagged.transform(invalid_rows), inputs, dedup, stats)
    finally:
        if deduped is not None:
            deduped.unpersist()
        flagged.unpersist()


def run(spark: SparkSession, args: CleanParams, paths: LakePaths) -> dict[str, Any]:
    """The clean step; returns its JSON-able result and writes the quality report."""
    events, found = read_events(spark, paths, args.input_zones)
    window = window_bounds(args.snapshot_date, args.window_days)
    out_uri = paths.events("curated")
    with clean_events(events, args.iqr_k, window, args.session_gap_minutes) as cleaned:
        # One file per day: few, large objects are what S3 readers (and moto) handle best.
        (
            cleaned.curated.repartition(PARTITION_COLUMN)
            .write.mode("overwrite")
            .partitionBy(PARTITION_COLUMN)
            .parquet(out_uri)
        )
        q_uri = None
        n_quarantined = sum(cleaned.inputs.quarantined.values())
        if n_quarantined:
            q_uri = paths.quarantine("clean") + f"/run_id={args.run_id}"
            (
                cleaned.quarantine.withColumn("run_id", F.lit(args.run_id))
                .withColumnRenamed(ZONE, "zone")
                .write.mode("overwrite")
                .parquet(q_uri)
            )
        output = measure_output(cleaned.curated)
        report = quality_report(cleaned.inputs, cleaned.dedup, cleaned.stats, output)
    report.update(
        {
            "run_id": args.run_id,
            "snapshot_date": _iso(args.snapshot_date),
            "inputs": found,
            "window": {
                "start": datetime.fromtimestamp(window[0], UTC).isoformat(),
                "end_exclusive": datetime.fromtimestamp(window[1], UTC).isoformat(),
                "days": args.window_days,
            },
            "output": out_uri,
            "quarantine": q_uri,
        }
    )
    report_uri = paths.quality_report(args.run_id)
    lakeio.write_json(spark, report_uri, report)
    return {
        "step": "clean",
        "run_id": args.run_id,
        "rows_in": report["rows_in"],
        "rows_out": report["rows_out"],
        "quarantined": n_quarantined,
        "duplicates": report["duplicates"],
        "outliers_capped": report["outliers_capped"]["total"],
        "output": out_uri,
        "quality_report": report_uri,
        "quarantine": q_uri,
    }


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)
