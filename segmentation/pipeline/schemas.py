"""Spark schemas derived from the lake's Arrow schemas, so both sides read one definition."""

from __future__ import annotations

import pyarrow as pa
from pyspark.sql import types as T

from segmentation.lake import CURATED_EVENT_SCHEMA, LAKE_EVENT_SCHEMA

_ARROW_TO_SPARK = {
    pa.string(): T.StringType(),
    pa.float64(): T.DoubleType(),
    pa.int64(): T.LongType(),
    pa.int32(): T.IntegerType(),
    pa.bool_(): T.BooleanType(),
}


def spark_type(arrow_type: pa.DataType) -> T.DataType:
    """The Spark type Spark reads an Arrow-written column as (timestamps of any unit and zone
    are instants, Spark's TimestampType)."""
    if pa.types.is_timestamp(arrow_type):
        return T.TimestampType()
    try:
        return _ARROW_TO_SPARK[arrow_type]
    except KeyError:
        raise TypeError(f"no Spark type mapped for Arrow type {arrow_type}") from None


def spark_schema(schema: pa.Schema) -> T.StructType:
    """All fields nullable: a reader must let a bad row through to be judged, not fail on it."""
    return T.StructType([T.StructField(f.name, spark_type(f.type), True) for f in schema])


#: Events at rest (raw / hot), all nullable on read so that bad rows reach quarantine, not a crash.
EVENT_SCHEMA: T.StructType = spark_schema(LAKE_EVENT_SCHEMA)
EVENT_COLUMNS: tuple[str, ...] = tuple(LAKE_EVENT_SCHEMA.names)

#: Events of the curated zone, as the clean step writes them (partition column aside).
CURATED_SCHEMA: T.StructType = spark_schema(CURATED_EVENT_SCHEMA)
CURATED_COLUMNS: tuple[str, ...] = tuple(CURATED_EVENT_SCHEMA.names)

#: Columns that describe the event itself (not when or through which door it was ingested); two
#: rows equal on all of them are the same event delivered twice.
CONTENT_COLUMNS: tuple[str, ...] = tuple(
    c for c in EVENT_COLUMNS if c not in {"ingest_ts", "source"}
)

#: The content catalog in the raw zone.
CATALOG_SCHEMA = T.StructType(
    [
        T.StructField("content_id", T.StringType()),
        T.StructField("genre", T.StringType()),
        T.StructField("duration_minutes", T.DoubleType()),
        T.StructField("release_year", T.LongType()),
    ]
)
