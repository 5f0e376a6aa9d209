"""The previous model version as the cluster step finds it in the segments zone: its document
(segments with keys, the scaler) and who was in which key, for the run-over-run comparison.

"Previous" is the **published** version, the one the API serves (the segments table's
``META/CURRENT`` pointer, which publish and ``segmentation release`` flip): a version the drift
gate held was never served, so campaigns still see the published keys and the next run is
matched to those. Before anything was published, or where the table cannot be read, the newest
model document written before this run stands in (by the object's modification time, whatever
its algorithm). A document of schema version 1 has no keys; a run after one starts the keys
afresh, as a first run does.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from segmentation.lake import PROFILES, LakePaths
from segmentation.model_document import ModelDocument, ModelDocumentError
from segmentation.pipeline import lakeio

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from segmentation.config import Settings

log = logging.getLogger(__name__)


def published_version(settings: Settings) -> str | None:
    """The version the API serves, or None: nothing published yet, or the table unreadable from
    here (logged; the newest document stands in)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from segmentation.awsclients import client
    from segmentation.serving.table import CURRENT_KEY

    try:
        item = client("dynamodb", settings).get_item(
            TableName=settings.segments_table,
            Key={k: {"S": v} for k, v in CURRENT_KEY.items()},
            ConsistentRead=True,
        )
    except (BotoCoreError, ClientError) as exc:
        log.warning(
            "published version unknown (%s: %s); matching to the newest model document",
            settings.segments_table,
            exc,
        )
        return None
    return (item.get("Item") or {}).get("model_version", {}).get("S")


def previous_document(
    spark: SparkSession, paths: LakePaths, exclude: str | None = None
) -> ModelDocument | None:
    """The published version's document, else the newest readable one; None when there is
    none, or when it has no segment keys (keys start afresh)."""
    root = paths.settings.zone_uri("segments", PROFILES, scheme=paths.scheme)
    if not lakeio.exists(spark, root):
        return None
    fs, path = lakeio.fs_path(spark, root)
    found = []
    published = published_version(paths.settings)
    if published and published != exclude:
        doc = path.suffix(f"/model_version={published}/profiles.json")
        if fs.exists(doc):
            found.append((float("inf"), doc.toString()))
        else:
            log.warning("published version %s has no model document here", published)
    for status in fs.listStatus(path) if not found else []:
        name = status.getPath().getName()
        if not name.startswith("model_version=") or name == f"model_version={exclude}":
            continue
        doc = status.getPath().suffix("/profiles.json")
        if fs.exists(doc):
            found.append((fs.getFileStatus(doc).getModificationTime(), doc.toString()))
    for _, uri in sorted(found, reverse=True):
        try:
            document = ModelDocument.from_json(lakeio.read_text(spark, uri), uri)
        except ModelDocumentError as exc:
            log.warning("previous model document unreadable, skipped: %s", exc)
            continue
        if all(s.segment_key for s in document.segments) and document.scaler is not None:
            return document
        log.info("previous document %s has no segment keys: keys start afresh", uri)
        return None
    return None


def previous_assignment(
    spark: SparkSession, paths: LakePaths, document: ModelDocument
) -> dict[str, str]:
    """user_anon_id -> segment key in the previous version (empty if its map is gone)."""
    uri = paths.segment_map(document.model_version)
    if not lakeio.exists(spark, uri):
        return {}
    pdf = spark.read.parquet(uri).select("user_anon_id", "segment_key").toPandas()
    return dict(zip(pdf["user_anon_id"], pdf["segment_key"], strict=True))
