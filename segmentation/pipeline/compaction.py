"""Compaction of the raw and hot zones: many small objects of a day -> one, under the ledger.

The stream writes one object per ingest batch and event day (~370 at paper scale, more every
week), and every object costs each later read a few S3 requests. After a clean run commits, the
days whose *cleaned* objects number at least ``compact_min_objects`` are rewritten as one object
each (``compacted-<version label>.parquet``), and a second ledger commit swaps them in:

- only objects the committed manifest lists are touched, so an ingest writing new objects into
  the same day meanwhile is never raced (its objects stay new for the next run);
- rows are counted before and after; a mismatch aborts before the commit;
- the compacted object enters the manifest as cleaned, so its rows never look new; the objects
  it replaces are listed as ``retired`` and deleted after the commit (a run that finds a retired
  object still there deletes it, and never reads it);
- a ``compacted-`` object the manifest does not list is the output of a compaction that never
  committed: it is deleted, never read (its rows are all in the objects it would have replaced).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from segmentation.ingest.lakewrite import split_s3_uri
from segmentation.lake import LAKE_EVENT_SCHEMA, PARTITION_COLUMN, LakePaths
from segmentation.ledger import Ledger, Manifest
from segmentation.pipeline import curated as lake_curated
from segmentation.pipeline import lakeio, s3keys
from segmentation.pipeline.dayfiles import read_objects_direct, write_day_files

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

PREFIX = "compacted-"


def is_compacted(name: str) -> bool:
    return name.rsplit("/", 1)[-1].startswith(PREFIX)


@dataclass(frozen=True)
class Housekeeping:
    """Listed objects a run must not read: compaction leftovers, deleted before planning."""

    retired: tuple[str, ...]
    orphans: tuple[str, ...]


def leftovers(manifest: Manifest, listed: dict[str, lake_curated.LakeObject]) -> Housekeeping:
    retired = tuple(sorted(n for n in listed if n in manifest.retired))
    orphans = tuple(sorted(n for n in listed if is_compacted(n) and n not in manifest.objects))
    return Housekeeping(retired, orphans)


def delete_objects(paths: LakePaths, names: tuple[str, ...]) -> None:
    """Delete the named raw/hot objects, a request per 1,000 (:mod:`.s3keys`): retiring the
    first load's 1,160 hot objects one S3A call at a time was most of its compaction's 45 s."""
    s3keys.delete_uris(paths.settings, [lake_curated.object_uri(paths, n) for n in names])


def candidates(manifest: Manifest, min_objects: int) -> dict[tuple[str, str], list[str]]:
    """(zone, day) -> the cleaned objects of that day, for days with at least ``min_objects``."""
    if min_objects < 2:
        return {}
    groups: dict[tuple[str, str], list[str]] = {}
    for name in manifest.objects:
        zone = name.split("/", 1)[0]
        day = lake_curated.day_of(name)
        if day is not None:
            groups.setdefault((zone, day), []).append(name)
    return {k: sorted(v) for k, v in sorted(groups.items()) if len(v) >= min_objects}


def compact(
    spark: SparkSession,
    paths: LakePaths,
    ledger: Ledger,
    manifest: Manifest,
    min_objects: int,
    run_id: str,
) -> Manifest:
    """Compact the crowded days of ``manifest`` and commit; returns the manifest now current
    (``manifest`` itself when nothing was crowded)."""
    from pyspark.sql import types as T

    from segmentation.pipeline.schemas import EVENT_SCHEMA

    todo = candidates(manifest, min_objects)
    if not todo:
        return manifest
    version = manifest.version + 1
    label = f"v{version:06d}-{run_id}"
    objects = dict(manifest.objects)
    retired = dict(manifest.retired)
    s3_paths = LakePaths(paths.settings, "s3")
    for zone in sorted({z for z, _ in todo}):
        days = {d: names for (z, d), names in todo.items() if z == zone}
        root = paths.events(zone)
        sources = [
            (*split_s3_uri(lake_curated.object_uri(s3_paths, n)), {PARTITION_COLUMN: day})
            for day, names in days.items()
            for n in names
        ]
        spark_schema = T.StructType(
            [*EVENT_SCHEMA.fields, T.StructField(PARTITION_COLUMN, T.StringType())]
        )
        df = read_objects_direct(
            spark,
            sources,
            LAKE_EVENT_SCHEMA,
            spark_schema,
            paths.settings.service_endpoint("s3"),
            paths.settings.aws_region,
        ).cache()
        try:
            expected = {r[0]: r[1] for r in df.groupBy(PARTITION_COLUMN).count().collect()}
            bucket, prefix = split_s3_uri(s3_paths.events(zone))
            written = write_day_files(
                df,
                bucket,
                lambda day, prefix=prefix: (
                    f"{prefix}/{PARTITION_COLUMN}={day}/{PREFIX}{label}.parquet"
                ),
                LAKE_EVENT_SCHEMA,
                paths.settings.service_endpoint("s3"),
                paths.settings.aws_region,
            )
        finally:
            df.unpersist()
        got = {day: f.rows for day, f in written.items()}
        if got != expected:
            raise RuntimeError(
                f"compaction of {zone} would change row counts ({expected} -> {got}); "
                "nothing was swapped in"
            )
        fs, _ = lakeio.fs_path(spark, root)
        jvm = spark.sparkContext._jvm
        for day, names in days.items():
            rel = f"{PARTITION_COLUMN}={day}/{PREFIX}{label}.parquet"
            target = jvm.org.apache.hadoop.fs.Path(f"{root}/{rel}")
            name = f"{zone}/{rel}"
            objects[name] = lake_curated.version_of(fs.getFileStatus(target))
            for old in names:
                if old != name:
                    objects.pop(old, None)
                    retired[old] = name
    committed = replace(
        manifest,
        version=version,
        run_id=run_id,
        committed_at=datetime.now(UTC).isoformat(),
        objects=objects,
        retired=retired,
    )
    rel = lake_curated.write_manifest(spark, paths, committed)
    ledger.commit(manifest.version, version, rel, run_id)
    n_old = sum(len(v) for v in todo.values())
    log.info(
        "compaction: %d objects of %d days -> %d (version %d)", n_old, len(todo), len(todo), version
    )
    delete_objects(paths, tuple(sorted(set(retired) - set(manifest.retired))))
    return committed
