"""Clean: the raw + hot objects new since the last run -> the curated days they touch.

Rules, in order (each one's rows in/out go to the report):

1. ``validate``  — rows that cannot be events go to the quarantine zone with a ``reason`` (first
   that applies, in :data:`REASONS` order): missing user_anon_id / event_ts, unknown event_type,
   event_ts before the contract's lower bound (``SEG_TIMESTAMP_MIN``, default 1990-01-01) or
   more than one day after its ingest time (clock faults), amount or watch_seconds negative /
   not finite / above the contract's maximum, unknown device. Being outside a feature window is
   no reason: curated is the cleaned history.
2. ``dedup_exact`` — rows equal on every event column (ingest lineage aside) are one event
   delivered twice (e.g. through both Kafka and batch); the earliest ingested copy is kept.
3. ``dedup_event_id`` — rows sharing an event_id keep the earliest ingested one.
4. ``impute`` — categorical gaps become ``"unknown"`` (device, country, and content_id of
   content events); a missing amount of a money event and a missing watch_seconds of a pause /
   stop / complete event take the median of their event type on their day; where a number does
   not apply (amount of a non-money event, watch_seconds of other events) a gap becomes 0.
5. ``cap_outliers`` — per money event type and day, amounts outside the IQR fences
   ``[max(0, Q1 - k*IQR), Q3 + k*IQR]`` are capped to the fence and flagged ``amount_capped``.
6. ``sessionise`` — events without a session_id get one from a ``session_gap_minutes``
   inactivity gap (flag ``session_imputed``), so every curated event belongs to a session.

Each rule is a DataFrame -> DataFrame transform of :mod:`.clean_rules`, chained here with
``.transform``; :mod:`.quality` measures them for the report.

**Incremental.** The run ledger (:mod:`segmentation.ledger`, :mod:`.curated`) says which raw/hot
objects curated already holds. A run cleans the days the new, changed or removed objects touch:
a curated day is a function of the raw/hot rows of that day and the day either side (duplicates
of one event carry timestamps at most an hour apart, so every copy of an event of day D is in
D-1..D+1; the statistics are per day). So the run reads every object of the touched days +-2,
rewrites the touched days +-1 under a version prefix of its own, and commits: the result equals a
full rebuild (``rebuild``) over the same objects, which the three-batch test holds it to.
Quarantine and the report's rule counts are of the new rows only, so an event is quarantined
once. With nothing new, the run writes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from segmentation.awsclients import client
from segmentation.ingest.lakewrite import split_s3_uri
from segmentation.lake import CURATED_EVENT_SCHEMA, LAKE_EVENT_SCHEMA, PARTITION_COLUMN, LakePaths
from segmentation.ledger import Ledger, Manifest
from segmentation.pipeline import compaction, lakeio
from segmentation.pipeline import curated as lake_curated
from segmentation.pipeline.clean_rules import (
    NEW,
    REASONS,
    ZONE,
    TypeStats,
    cap_outliers,
    dedup_event_id,
    dedup_exact,
    event_day,
    fit_type_stats,
    flag_invalid,
    impute,
    invalid_rows,
    sessionise,
    to_curated,
    valid_rows,
    window_bounds,
)
from segmentation.pipeline.dayfiles import read_objects_direct, write_day_files
from segmentation.pipeline.params import CleanParams
from segmentation.pipeline.quality import (
    DedupCounts,
    InputCounts,
    ObservedInput,
    OutputCounts,
    distinct_users,
    measure_day,
    measure_dedup,
    output_counts,
    quality_report,
)
from segmentation.pipeline.schemas import EVENT_COLUMNS, EVENT_SCHEMA

__all__ = [
    "REASONS",
    "Cleaned",
    "RunPlan",
    "clean_events",
    "plan_run",
    "run",
    "sessionise",
    "window_bounds",
]

log = logging.getLogger(__name__)

#: How far (days) an event's copies can lie apart: conflicting copies carry timestamps up to an
#: hour apart, so across midnight at most one day.
COPY_SPREAD_DAYS = 1


#: Where the deduplicated events are kept for the passes that read them (see clean_events).
DEDUPED_STORAGE = StorageLevel.DISK_ONLY


class Phases:
    """Seconds per phase of a run, for its report: where a slow clean spends its time."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._t = time.monotonic()

    def mark(self, name: str) -> None:
        now = time.monotonic()
        self.seconds[name] = round(self.seconds.get(name, 0.0) + now - self._t, 3)
        self._t = now


@dataclass(frozen=True)
class RunPlan:
    """What a run reads and rewrites, decided from the listing and the manifest alone."""

    new: frozenset[str]
    removed: frozenset[str]
    read_days: frozenset[str]
    write_days: frozenset[str]
    inputs: dict[str, bool] = field(default_factory=dict)  # object name -> new to this run
    undated: tuple[str, ...] = ()
    #: Days rewritten whatever the new rows do: rows of a removed or re-delivered object leave
    #: them (a rebuild: every day curated holds).
    forced_days: frozenset[str] = frozenset()

    @property
    def changed(self) -> bool:
        return bool(self.new or self.removed or self.write_days)


def _around(days: set[str], spread: int) -> set[str]:
    out = set()
    for d in days:
        day = date.fromisoformat(d)
        out.update((day + timedelta(days=i)).isoformat() for i in range(-spread, spread + 1))
    return out


def plan_run(
    manifest: Manifest, listed: dict[str, lake_curated.LakeObject], rebuild: bool = False
) -> RunPlan:
    """The objects new to the ledger (or re-delivered with another ETag), those gone since, the
    days they touch +-1 to rewrite and +-2 to read (see the module docstring)."""
    undated = tuple(sorted(n for n, o in listed.items() if o.day is None))
    dated = {n: o for n, o in listed.items() if o.day is not None}
    known = {} if rebuild else manifest.objects
    new = {n for n, o in dated.items() if known.get(n) != o.version}
    removed = set(known) - set(dated)
    touched = {dated[n].day for n in new} | {d for n in removed if (d := lake_curated.day_of(n))}
    if rebuild:  # every day curated holds is recomputed, or dropped if nothing feeds it now
        touched |= set(manifest.partitions)
    touched.discard(None)
    lost = {d for n in removed | (new & set(known)) if (d := lake_curated.day_of(n))}
    if rebuild:
        lost |= set(manifest.partitions)
    write_days = _around(touched, COPY_SPREAD_DAYS)  # type: ignore[arg-type]
    read_days = _around(touched, 2 * COPY_SPREAD_DAYS)  # type: ignore[arg-type]
    inputs = {n: n in new for n, o in dated.items() if o.day in read_days}
    return RunPlan(
        frozenset(new),
        frozenset(removed),
        frozenset(read_days),
        frozenset(write_days),
        inputs,
        undated,
        frozenset(_around(lost, COPY_SPREAD_DAYS) & write_days),
    )


def changed_days(plan: RunPlan, planned: list[str], new_winner_days: frozenset[str]) -> list[str]:
    """The planned days whose curated rows can differ from what the ledger holds.

    A day's rows are a function of its winners (the statistics are computed from them), so a
    planned day changes only when a row of this run won its dedup on it or the day either side
    (copies straddle midnight, sessions too), or when rows left it (:attr:`RunPlan.forced_days`).
    The others are left where they are: a week of copies of old events, each losing to the copy
    cleaned before, then rewrites nothing, and the result still equals a rebuild's.
    """
    near = _around(set(new_winner_days), COPY_SPREAD_DAYS) | plan.forced_days
    return [d for d in planned if d in near]


def read_objects(spark: SparkSession, paths: LakePaths, inputs: dict[str, bool]) -> DataFrame:
    """The events of the named objects, with their zone and whether they are new (``_new``)."""
    from pyspark.sql import types as T

    objects = []
    for name, is_new in sorted(inputs.items()):
        bucket, key = split_s3_uri(lake_curated.object_uri(paths, name))
        objects.append((bucket, key, {NEW: is_new, ZONE: name.split("/", 1)[0]}))
    spark_schema = T.StructType(
        [
            *EVENT_SCHEMA.fields,
            T.StructField(NEW, T.BooleanType()),
            T.StructField(ZONE, T.StringType()),
        ]
    )
    df = read_objects_direct(
        spark,
        objects,
        LAKE_EVENT_SCHEMA,
        spark_schema,
        paths.settings.service_endpoint("s3"),
        paths.settings.aws_region,
    )
    return df.select(*EVENT_COLUMNS, ZONE, NEW)


@dataclass(frozen=True)
class Cleaned:
    """The rules' outputs (lazy frames over cached inputs) and what was measured on the way.

    ``curated`` keeps ``_new`` (:func:`~.clean_rules.to_curated` drops it only when written)."""

    curated: DataFrame
    quarantine: DataFrame
    deduped: DataFrame
    inputs: InputCounts
    dedup: DedupCounts
    stats: TypeStats


@contextmanager
def clean_events(
    df: DataFrame,
    iqr_k: float,
    session_gap_minutes: int = 30,
    fence_min_rows: int = 1,
) -> Iterator[Cleaned]:
    """Apply the rules to the events read; the frames are valid inside the ``with`` block.

    ``df`` carries ``_new`` (rows of objects new to this run; all rows are new when absent). The
    input is read once for the counts and the dedup together: the counts are observed as the
    rows flow into the dedup (:class:`~.quality.ObservedInput`), whose output is kept on the
    executors' local disks (:data:`DEDUPED_STORAGE`: the statistics, the output and its counts
    read it) and released when the block ends. The input itself is not kept: at paper scale a
    disk cache of it cost more (15.6 s) than the reads it saved. The quarantine reads the input
    again when written, which only a run with invalid rows does (the ingest Lambdas quarantine
    most on arrival). On disk rather than in memory: at paper scale the in-memory columnar
    cache of the deduplicated rows took 17 s to build in the 2 GB driver, the disk copy 11 s
    (the rebuild: 66.3 s against 60.5 / 59.6 s), and a disk copy does not grow the driver with
    the data.
    """
    if NEW not in df.columns:
        df = df.withColumn(NEW, F.lit(True))
    observed = ObservedInput(df.transform(flag_invalid))
    with _uncompressed_cache(df.sparkSession):
        deduped = (
            observed.frame.transform(valid_rows).transform(dedup_exact).transform(dedup_event_id)
        ).persist(DEDUPED_STORAGE)
    try:
        dedup = measure_dedup(deduped)
        inputs = observed.counts(dedup.valid_new)
        stats = fit_type_stats(deduped, iqr_k, fence_min_rows)
        stats_frame = stats.frame(df.sparkSession)
        curated = (
            deduped.transform(impute, stats_frame)
            .transform(cap_outliers, stats_frame)
            .transform(sessionise, session_gap_minutes)
            .transform(to_curated, (NEW,))
        )
        quarantine = df.transform(flag_invalid).where(F.col(NEW)).transform(invalid_rows).drop(NEW)
        yield Cleaned(curated, quarantine, deduped, inputs, dedup, stats)
    finally:
        deduped.unpersist()


@contextmanager
def _uncompressed_cache(spark: SparkSession) -> Iterator[None]:
    """Frames persisted inside the block are cached without compression (Spark reads the
    setting when ``persist`` is called); the session's setting is restored after. The columnar
    compression of the deduplicated events cost 9 s of a paper-scale clean on 2 cores (building
    the disk copy: 33 s -> 24-25 s, two runs each), for a copy that lives only as long as the
    run, on the local disk, and is read three times."""
    key = "spark.sql.inMemoryColumnarStorage.compressed"
    before = spark.conf.get(key, "true")
    spark.conf.set(key, "false")
    try:
        yield
    finally:
        spark.conf.set(key, before)


def run(spark: SparkSession, args: CleanParams, paths: LakePaths) -> dict[str, Any]:
    """The clean step under the ledger's lock; returns its JSON-able result.

    Two executions never clean at once: the second waits ``lock_wait_seconds`` for the lock and
    then fails saying which run holds it (:class:`segmentation.ledger.LedgerLocked`)."""
    for zone in args.input_zones:  # a missing zone bucket is named before the lock is taken
        lakeio.exists(spark, paths.events(zone))
    ledger = Ledger(client("dynamodb", paths.settings), args.ledger_table)
    ledger.acquire(args.run_id, args.lock_ttl_seconds, args.lock_wait_seconds)
    try:
        return _run_locked(spark, args, paths, ledger)
    finally:
        ledger.release(args.run_id)


def _run_locked(
    spark: SparkSession, args: CleanParams, paths: LakePaths, ledger: Ledger
) -> dict[str, Any]:
    started = time.monotonic()
    phases = Phases()
    manifest = lake_curated.current_manifest(spark, paths, ledger)
    listed = lake_curated.list_event_objects(spark, paths, list(args.input_zones))
    phases.mark("list")
    leftover = compaction.leftovers(manifest, listed)
    if leftover.retired or leftover.orphans:  # a compaction's unfinished business: finish it
        log.info(
            "clean: deleting %d compacted-away and %d uncommitted compacted objects",
            len(leftover.retired),
            len(leftover.orphans),
        )
        compaction.delete_objects(paths, leftover.retired + leftover.orphans)
        for name in leftover.retired + leftover.orphans:
            listed.pop(name)
    if manifest.version == 0 and not listed:
        raise FileNotFoundError(
            "no events to clean: expected Parquet events under "
            + " or ".join(paths.events(z) for z in args.input_zones)
        )
    plan = plan_run(manifest, listed, rebuild=args.rebuild)
    for name in plan.undated:
        log.warning("clean: %s is not under an event_date= partition; left alone", name)
    cutoff = _retention_cutoff(args)
    base = {
        "step": "clean",
        "run_id": args.run_id,
        "rebuild": args.rebuild,
        "objects_new": len(plan.new),
        "objects_removed": len(plan.removed),
        "output": paths.events("curated"),
    }
    expired = {d for d in manifest.partitions if cutoff and d < cutoff}
    if not plan.changed and not expired:
        log.info("clean: no new objects since version %d; nothing to do", manifest.version)
        return {
            **base,
            "noop": True,
            "version": manifest.version,
            "rows_in": 0,
            "rows_out": 0,
            "new_rows": 0,
            "quarantined": 0,
            "duplicates": {"exact": 0, "event_id": 0, "against_history": 0},
            "outliers_capped": 0,
            "days_written": [],
            "curated_rows": sum(p["rows"] for p in manifest.partitions.values()),
            "totals": manifest.totals,
            "quality_report": None,
            "quarantine": None,
            "seconds": round(time.monotonic() - started, 3),
        }
    version = manifest.version + 1
    label = f"v{version:06d}-{args.run_id}"
    write_days = sorted(d for d in plan.write_days if not cutoff or d >= cutoff)
    log.info(
        "clean: %d new and %d removed objects; reading %d days, rewriting %d",
        len(plan.new),
        len(plan.removed),
        len(plan.read_days),
        len(write_days),
    )
    output = OutputCounts(0, 0, {}, {"amount": 0, "watch_seconds": 0, "session_id": 0}, {}, 0, {})
    q_uri = None
    planned = write_days
    inputs, dedup, stats = InputCounts(0, {}, {}), DedupCounts(0, 0), TypeStats(())
    if plan.inputs:
        _delete_own_leftovers(paths, label)
        events = read_objects(spark, paths, plan.inputs)
        phases.mark("read_plan")
        with clean_events(
            events, args.iqr_k, args.session_gap_minutes, args.fence_min_rows
        ) as cleaned:
            inputs, dedup, stats = cleaned.inputs, cleaned.dedup, cleaned.stats
            phases.mark("validate_dedup_stats")
            write_days = changed_days(plan, planned, dedup.new_winner_days)
            if len(write_days) < len(planned):
                log.info(
                    "clean: %d of %d planned days unchanged (their new rows all lost to earlier "
                    "copies); not rewritten",
                    len(planned) - len(write_days),
                    len(planned),
                )
            days = cleaned.curated.where(F.col(PARTITION_COLUMN).isin(*write_days))
            # One object per day, PUT straight into the run's version prefix and counted in the
            # task that writes it (dayfiles); the users from the cached deduplicated rows.
            bucket, prefix = split_s3_uri(paths.events("curated"))
            written = write_day_files(
                days,
                bucket,
                lambda day: f"{prefix}/{lake_curated.partition_rel(day, label)}/part-0.parquet",
                CURATED_EVENT_SCHEMA,
                paths.settings.service_endpoint("s3"),
                paths.settings.aws_region,
                measure=measure_day,
            )
            phases.mark("rules_write")
            users = distinct_users(cleaned.deduped.where(event_day().isin(*write_days)))
            output = output_counts({d: f.counts for d, f in written.items()}, users)
            phases.mark("measure")
            n_quarantined = sum(inputs.quarantined.values())
            if n_quarantined:
                q_uri = paths.quarantine("clean") + f"/run_id={args.run_id}"
                (
                    cleaned.quarantine.withColumn("run_id", F.lit(args.run_id))
                    .withColumnRenamed(ZONE, "zone")
                    .write.mode("overwrite")
                    .parquet(q_uri)
                )
            phases.mark("quarantine")
    report = quality_report(inputs, dedup, stats, output)
    partitions = {} if args.rebuild else dict(manifest.partitions)
    rows_by_day = output.rows_by_day or {}
    for day in write_days:
        if rows_by_day.get(day):
            rel = lake_curated.partition_rel(day, label)
            partitions[day] = {"location": rel, "rows": rows_by_day[day]}
        else:
            partitions.pop(day, None)
    for day in [d for d in partitions if cutoff and d < cutoff]:
        partitions.pop(day)
    n_quarantined = sum(inputs.quarantined.values())
    run_counts = {
        "rows_in": inputs.rows,
        "quarantined": n_quarantined,
        "duplicates_exact": report["duplicates"]["exact"],
        "duplicates_event_id": report["duplicates"]["event_id"],
        "duplicates_against_history": dedup.against_history,
        "outliers_capped": report["outliers_capped"]["total"],
        "new_rows": output.new_rows,
    }
    previous_totals = {} if args.rebuild else manifest.totals
    totals = {k: int(previous_totals.get(k, 0)) + v for k, v in run_counts.items()}
    replaced = sorted(
        p["location"]
        for d, p in manifest.partitions.items()
        if partitions.get(d, {}).get("location") != p["location"]
    )
    committed = Manifest(
        superseded=replaced,
        version=version,
        run_id=args.run_id,
        committed_at=datetime.now(UTC).isoformat(),
        objects={n: o.version for n, o in listed.items() if o.day is not None},
        partitions=partitions,
        retired={},  # every retired object still listed was deleted above
        totals=totals,
        runs=[
            *manifest.runs[-49:],
            {"version": version, "run_id": args.run_id, "rebuild": args.rebuild, **run_counts},
        ],
    )
    report.update(
        {
            "run_id": args.run_id,
            "snapshot_date": args.snapshot_date.isoformat(),
            "rebuild": args.rebuild,
            "objects_new": len(plan.new),
            "objects_removed": len(plan.removed),
            "days_read": sorted(plan.read_days),
            "days_written": write_days,
            "days_unchanged": sorted(set(planned) - set(write_days)),
            "retention_cutoff": cutoff,
            "version": version,
            "output": paths.events("curated"),
            "quarantine": q_uri,
            "cumulative": totals,
            "curated_rows": sum(p["rows"] for p in partitions.values()),
        }
    )
    report_uri = paths.quality_report(args.run_id)
    lakeio.write_json(spark, report_uri, report)
    rel = lake_curated.write_manifest(spark, paths, committed)
    ledger.commit(manifest.version, version, rel, args.run_id)  # the switch
    log.info("clean: committed curated version %d (%s)", version, rel)
    phases.mark("report_commit")
    _after_commit(spark, paths, manifest, committed)
    phases.mark("catalog_gc")
    try:
        compaction.compact(spark, paths, ledger, committed, args.compact_min_objects, args.run_id)
    except Exception as exc:
        log.warning("clean: compaction skipped (%s); the next run finishes or retries it", exc)
    phases.mark("compaction")
    log.info("clean: seconds per phase %s", phases.seconds)
    return {
        **base,
        "noop": False,
        "version": version,
        "rows_in": inputs.rows,
        "rows_out": output.rows,
        "new_rows": output.new_rows,
        "quarantined": n_quarantined,
        "duplicates": report["duplicates"],
        "outliers_capped": report["outliers_capped"]["total"],
        "days_written": write_days,
        "curated_rows": report["curated_rows"],
        "totals": totals,
        "quality_report": report_uri,
        "quarantine": q_uri,
        "seconds": round(time.monotonic() - started, 3),
        "phase_seconds": phases.seconds,
    }


def _retention_cutoff(args: CleanParams) -> str | None:
    if args.retention_days is None:
        return None
    return (args.snapshot_date - timedelta(days=args.retention_days - 1)).isoformat()


def _delete_own_leftovers(paths: LakePaths, label: str) -> None:
    """A killed attempt at this same version left files under its label: start clean (appending
    to them would double the rows)."""
    n = lake_curated.delete_run_versions(paths, label)
    if n:
        log.info("clean: deleted %d day versions a killed attempt at %s left", n, label)


def _after_commit(
    spark: SparkSession, paths: LakePaths, previous: Manifest, committed: Manifest
) -> None:
    """Housekeeping once the switch is made; a failure here loses nothing (the next run redoes
    it), so it is logged, not raised."""
    try:
        lake_curated.sync_glue_partitions(paths, committed)
    except Exception as exc:
        log.warning("clean: Glue catalog partitions not updated (%s); Athena lags one run", exc)
    try:
        if committed.runs and committed.runs[-1].get("rebuild"):
            # a rebuild also sweeps what killed runs left behind (a listing of every day)
            n = lake_curated.delete_unreferenced(paths, [previous, committed])
        else:  # what the previous commit replaced: known, no listing of the whole zone
            n = lake_curated.delete_locations(paths, previous.superseded)
        if n:
            log.info("clean: deleted %d superseded curated day versions", n)
    except Exception as exc:
        log.warning("clean: superseded versions not deleted (%s); the next run retries", exc)
