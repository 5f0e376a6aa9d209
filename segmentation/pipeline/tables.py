"""The lake tables the Glue Data Catalog lists, as the pipeline's steps write them.

Athena and the console query the lake through the catalog, so a column a step writes but the
catalog lacks is invisible there (the curated flags were, once). Terraform spells the catalog's
columns in ``terraform/modules/lake/catalog.tf``; ``tests/unit/test_schemas.py`` holds them equal
to :data:`GLUE_TABLES`, which is read from the schemas the steps use.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import types as T

from segmentation.lake import PARTITION_COLUMN
from segmentation.pipeline.features import COUNT_COLUMNS, FEATURE_COLUMNS
from segmentation.pipeline.schemas import CURATED_SCHEMA

#: features.user_features: one row per user and snapshot, every feature a double, then the event
#: counts the shares are rates over (the cluster step shrinks shares from few events).
FEATURES_SCHEMA = T.StructType(
    [
        T.StructField("user_anon_id", T.StringType()),
        *(T.StructField(c, T.DoubleType()) for c in (*FEATURE_COLUMNS, *COUNT_COLUMNS)),
    ]
)

#: segments.segment_map: the segment of every user, per model version.
SEGMENT_MAP_SCHEMA = T.StructType(
    [
        T.StructField("user_anon_id", T.StringType()),
        T.StructField("segment_id", T.IntegerType()),
        T.StructField("segment_name", T.StringType()),
        T.StructField("segment_key", T.StringType()),
        T.StructField("moved_since_previous", T.BooleanType()),
        # the features that most drive the user's assignment, as JSON (pipeline.explain)
        T.StructField("reasons", T.StringType()),
    ]
)


@dataclass(frozen=True)
class GlueTable:
    """One catalog table: its zone database, name, columns and (string) partition key."""

    zone: str
    name: str
    schema: T.StructType
    partition: str

    def columns(self) -> list[tuple[str, str]]:
        """(name, Glue type) of every column; Spark's simple type names are Hive's, Glue's."""
        return [(f.name, f.dataType.simpleString()) for f in self.schema.fields]


#: Keyed as ``catalog.tf`` keys ``local.tables``: ``<zone>_<name>``.
GLUE_TABLES: dict[str, GlueTable] = {
    f"{t.zone}_{t.name}": t
    for t in (
        GlueTable("curated", "events", CURATED_SCHEMA, PARTITION_COLUMN),
        GlueTable("features", "user_features", FEATURES_SCHEMA, "snapshot_date"),
        GlueTable("segments", "segment_map", SEGMENT_MAP_SCHEMA, "model_version"),
    )
}
