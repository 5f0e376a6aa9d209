"""The curated zone as the run ledger commits it: list what is new, read and write versions.

A clean run lists the raw and hot event objects (key + ETag), compares them with the committed
manifest (:class:`segmentation.ledger.Manifest`) and cleans the days the new, changed or removed
objects touch. Readers never list curated: they resolve the ledger's head and read the partition
locations its manifest names (:func:`read_curated`), so a version that was written but never
committed is invisible to them.

Locations and object names in the manifest are relative (to the zone's events prefix, or to the
curated bucket), so the same manifest serves ``s3://`` (Glue, Athena, boto3) and ``s3a://`` (local
Spark) readers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from segmentation.lake import LEDGER, PARTITION_COLUMN, LakePaths
from segmentation.ledger import Ledger, Manifest
from segmentation.pipeline import lakeio, s3keys

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)

#: Sub-partition of a curated day: ``event_date=D/run_id=R`` is day D as run R wrote it.
RUN_PARTITION = "run_id"


@dataclass(frozen=True)
class LakeObject:
    """One raw/hot event object: its ledger name (``<zone>/<path under events/>``), version
    (the S3 ETag; size and modification time where a filesystem has none) and event day."""

    name: str
    version: str
    day: str | None

    @property
    def zone(self) -> str:
        return self.name.split("/", 1)[0]


def list_event_objects(
    spark: SparkSession, paths: LakePaths, zones: list[str]
) -> dict[str, LakeObject]:
    """Every event object of the zones, by ledger name (Hadoop FS listing: the credentials and
    endpoint the DataFrames use). Names starting with ``_`` or ``.`` (``_SUCCESS``, temporary
    directories) are not events."""
    out: dict[str, LakeObject] = {}
    for zone in zones:
        root = paths.events(zone)
        fs, path = lakeio.fs_path(spark, root)
        if not lakeio.exists(spark, root):
            continue
        base = path.toUri().getPath().rstrip("/") + "/"
        files = fs.listFiles(path, True)
        while files.hasNext():
            status = files.next()
            rel = status.getPath().toUri().getPath()[len(base) :]
            if any(part[:1] in {"_", "."} for part in rel.split("/")):
                continue
            out[f"{zone}/{rel}"] = LakeObject(f"{zone}/{rel}", version_of(status), day_of(rel))
    return out


def day_of(name: str) -> str | None:
    """The event day of an object from its ``event_date=`` path segment (None outside one)."""
    for part in name.split("/"):
        if part.startswith(PARTITION_COLUMN + "="):
            return part.split("=", 1)[1]
    return None


def version_of(status: Any) -> str:
    """The ledger's version of a listed object: its ETag, else size and modification time."""
    try:
        etag = status.getEtag()  # S3A's located status (Hadoop's EtagSource)
    except Exception:
        etag = None
    return str(etag) if etag else f"{status.getLen()}:{status.getModificationTime()}"


def object_uri(paths: LakePaths, name: str) -> str:
    zone, rel = name.split("/", 1)
    return f"{paths.events(zone)}/{rel}"


def partition_uri(paths: LakePaths, rel: str) -> str:
    return f"{paths.events('curated')}/{rel}"


def partition_rel(day: str, run_id: str) -> str:
    return f"{PARTITION_COLUMN}={day}/{RUN_PARTITION}={run_id}"


def manifest_uri(paths: LakePaths, rel: str) -> str:
    return paths.settings.zone_uri("curated", rel, scheme=paths.scheme)


def manifest_rel(version: int, run_id: str) -> str:
    return f"{LEDGER}/manifest-{version:06d}-{run_id}.json"


def current_manifest(spark: SparkSession, paths: LakePaths, ledger: Ledger) -> Manifest:
    """The committed manifest (an empty one before the first commit)."""
    head = ledger.head()
    if head.version == 0 or not head.manifest_uri:
        return Manifest()
    manifest = Manifest.from_json(lakeio.read_text(spark, manifest_uri(paths, head.manifest_uri)))
    if manifest.version != head.version:
        raise ValueError(
            f"ledger head is version {head.version} but {head.manifest_uri} holds version "
            f"{manifest.version}: the manifest was overwritten; rebuild curated (rebuild: true)"
        )
    return manifest


def read_curated(
    spark: SparkSession,
    paths: LakePaths,
    manifest: Manifest,
    first_day: str | None = None,
    last_day: str | None = None,
) -> DataFrame | None:
    """The committed curated events of the days in ``[first_day, last_day]`` (None if none).

    Only those days' locations are handed to the reader, and the same bounds are a partition
    filter, so the physical plan shows both (``PartitionFilters`` on ``event_date``)."""
    from pyspark.sql import functions as F

    from segmentation.pipeline.schemas import CURATED_SCHEMA

    rels = [
        p["location"]
        for day, p in sorted(manifest.partitions.items())
        if (first_day is None or day >= first_day) and (last_day is None or day <= last_day)
    ]
    if not rels:
        return None
    df = (
        spark.read.schema(CURATED_SCHEMA)
        .option("basePath", paths.events("curated"))
        .parquet(*(partition_uri(paths, r) for r in rels))
        .drop(RUN_PARTITION)  # which run wrote a day is the ledger's business, not an event's
    )
    day = F.col(PARTITION_COLUMN).cast("string")
    if first_day is not None:
        df = df.where(day >= F.lit(first_day))
    if last_day is not None:
        df = df.where(day <= F.lit(last_day))
    return df


def write_manifest(spark: SparkSession, paths: LakePaths, manifest: Manifest) -> str:
    """Store ``manifest`` as a new immutable object; returns its relative name for the head."""
    rel = manifest_rel(manifest.version, manifest.run_id or "none")
    lakeio.write_text(spark, manifest_uri(paths, rel), manifest.to_json())
    return rel


def _curated_keys(paths: LakePaths) -> tuple[str, dict[str, list[str]]]:
    """The curated zone's bucket and its object keys by the first two path segments under the
    events prefix (``event_date=D/run_id=R`` for a day version), from one listing."""
    root = paths.events("curated")
    bucket, prefix = s3keys.bucket_key(root)
    by_location: dict[str, list[str]] = {}
    for key in s3keys.list_keys(paths.settings, root):
        rel = key[len(prefix) + 1 :] if prefix else key
        by_location.setdefault("/".join(rel.split("/")[:2]), []).append(key)
    return bucket, by_location


def delete_locations(paths: LakePaths, rels: list[str]) -> int:
    """Delete the named day versions (relative locations); returns how many existed.

    One listing of the zone and a DeleteObjects per 1,000 keys (:mod:`.s3keys`): a weekly run
    supersedes ~370 day versions, which S3A deleted one status check, listing and delete at a
    time."""
    if not rels:
        return 0
    bucket, by_location = _curated_keys(paths)
    found = [rel for rel in dict.fromkeys(rels) if by_location.get(rel)]
    s3keys.delete_keys(paths.settings, bucket, (k for rel in found for k in by_location[rel]))
    return len(found)


def delete_run_versions(paths: LakePaths, label: str) -> int:
    """Delete every day version written under ``label`` (what a killed attempt at the same
    version left); returns how many there were. One listing of the zone: S3A's glob over
    ``event_date=*/run_id=<label>`` checked each of the 455 paper-scale days in turn (2.3 s
    on moto)."""
    bucket, by_location = _curated_keys(paths)
    mine = [
        keys
        for location, keys in by_location.items()
        if location.partition("/")[2] == f"{RUN_PARTITION}={label}"
    ]
    s3keys.delete_keys(paths.settings, bucket, [k for keys in mine for k in keys])
    return len(mine)


def delete_unreferenced(paths: LakePaths, keep: list[Manifest]) -> int:
    """Delete curated day versions no manifest in ``keep`` names (superseded ones, and those of
    runs that never committed) and what a Spark writer left under ``_temporary``; returns the
    versions deleted.

    The current and the previous version are kept, so a reader that resolved the previous head
    just before a commit still finds its files."""
    referenced = {p["location"] for m in keep for p in m.partitions.values()}
    bucket, by_location = _curated_keys(paths)
    doomed: list[str] = []
    versions = 0
    for location, keys in by_location.items():
        day, _, version = location.partition("/")
        if day == "_temporary":
            doomed += keys
        elif day.startswith(PARTITION_COLUMN + "=") and location not in referenced:
            doomed += keys
            versions += bool(version)  # a bare ``event_date=D/`` key is a directory marker
    s3keys.delete_keys(paths.settings, bucket, doomed)
    return versions


def glue_names(paths: LakePaths) -> tuple[str, str]:
    """Database and table of curated events in the Glue Data Catalog (terraform/modules/lake)."""
    return paths.settings.lake_prefix.replace("-", "_") + "_curated", "events"


def sync_glue_partitions(paths: LakePaths, committed: Manifest) -> None:
    """Point the catalog's ``curated.events`` partitions at the committed day versions, so
    Athena reads what the pipeline reads. Done after the commit and idempotent: it compares
    every committed day with the catalog (not only this run's days, so a sync that failed once is
    caught up) and drops the days no longer committed."""
    from segmentation.awsclients import client

    glue = client("glue", paths.settings)
    database, table = glue_names(paths)
    try:
        descriptor = glue.get_table(DatabaseName=database, Name=table)["Table"]["StorageDescriptor"]
    except glue.exceptions.EntityNotFoundException:
        log.info("no Glue table %s.%s; catalog partitions not kept", database, table)
        return
    s3 = LakePaths(paths.settings, scheme="s3")
    existing: dict[str, str] = {}  # day -> its partition's location in the catalog
    for page in glue.get_paginator("get_partitions").paginate(
        DatabaseName=database, TableName=table
    ):
        existing.update(
            (p["Values"][0], p.get("StorageDescriptor", {}).get("Location", ""))
            for p in page["Partitions"]
        )

    def entry(day: str) -> dict[str, Any]:
        location = partition_uri(s3, committed.partitions[day]["location"]) + "/"
        return {"Values": [day], "StorageDescriptor": {**descriptor, "Location": location}}

    days = sorted(committed.partitions)
    create = [entry(d) for d in days if d not in existing]
    for i in range(0, len(create), 100):
        glue.batch_create_partition(
            DatabaseName=database, TableName=table, PartitionInputList=create[i : i + 100]
        )
    update = [
        {"PartitionValueList": [d], "PartitionInput": entry(d)}
        for d in days
        if d in existing and existing[d] != entry(d)["StorageDescriptor"]["Location"]
    ]
    for i in range(0, len(update), 100):
        glue.batch_update_partition(
            DatabaseName=database, TableName=table, Entries=update[i : i + 100]
        )
    gone = [{"Values": [d]} for d in sorted(set(existing) - set(days))]
    for i in range(0, len(gone), 25):
        glue.batch_delete_partition(
            DatabaseName=database, TableName=table, PartitionsToDelete=gone[i : i + 25]
        )
