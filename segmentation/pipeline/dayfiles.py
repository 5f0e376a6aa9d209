"""Lake objects written and read straight from the executors: one PUT or GET per object.

Spark's file commit protocol writes every file under ``_temporary`` and renames it into place, and
on S3 a rename is a copy and a delete after several status checks: about ten requests per file
(measured on moto: 200 day partitions in 70 s, 0.35 s each). The clean step does not need that
protocol's atomicity: it writes under a version prefix no reader knows until the ledger commits
(:mod:`segmentation.ledger`), so a half-written version is invisible and its re-run starts it
again. Here each task gets whole days (the frame is repartitioned by day and sorted), builds each
day's table with the lake's Arrow schema, and PUTs it; the driver gets back (day, key, rows).
The same writer serves compaction (one object per raw/hot day); :func:`read_objects_direct`
reads the raw/hot objects a run needs the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, NamedTuple

import pyarrow as pa

from segmentation.lake import PARTITION_COLUMN

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

RESULT_SCHEMA = "day string, key string, rows long, counts string"
RESULT_ARROW = pa.schema(
    [("day", pa.string()), ("key", pa.string()), ("rows", pa.int64()), ("counts", pa.string())]
)


class DayFile(NamedTuple):
    """One object written: its key, its rows, and what ``measure`` counted in them."""

    key: str
    rows: int
    counts: dict[str, int]


def _s3(endpoint_url: str | None, region: str) -> object:
    """The executors' S3 client: the project's client factory, on the driver's endpoint."""
    from segmentation.awsclients import client
    from segmentation.config import Settings

    return client("s3", Settings(aws_endpoint_url=endpoint_url, aws_region=region))


def day_table(batches: list[pa.RecordBatch], schema: pa.Schema) -> pa.Table:
    """``schema``'s columns of the batches (Spark's Arrow types cast to the lake's)."""
    table = pa.Table.from_batches(batches)
    return pa.Table.from_arrays([table.column(f.name).cast(f.type) for f in schema], schema=schema)


def day_runs(batch: pa.RecordBatch) -> Iterator[tuple[str, pa.RecordBatch]]:
    """(day, rows) for each run of one day in a batch sorted by day."""
    import pyarrow.compute as pc

    runs = pc.run_end_encode(batch.column(PARTITION_COLUMN))
    start = 0
    for value, end in zip(runs.values.to_pylist(), runs.run_ends.to_pylist(), strict=True):
        yield str(value), batch.slice(start, end - start)
        start = end


def write_day_files(
    df: DataFrame,
    bucket: str,
    key_of: Callable[[str], str],
    schema: pa.Schema,
    endpoint_url: str | None,
    region: str,
    measure: Callable[[pa.Table], dict[str, int]] | None = None,
) -> dict[str, DayFile]:
    """Write the rows of ``df`` (``schema``'s columns plus the ``event_date`` day; other columns
    are not written) as one object per day at ``s3://bucket/<key_of(day)>``.

    ``measure`` counts each day's rows where they already are (an Arrow table of all of ``df``'s
    columns), in the task that writes them: the clean step's output counts then cost no pass of
    their own (and no cached copy of the output for one). The rows stay in Arrow from the JVM to
    the Parquet bytes: through pandas, the paper-scale output (5M rows) cost 2 s more to hand
    over and as much again to group and convert back. ``key_of``, ``measure`` and the
    connection settings travel to the executors in the closure: on Glue the executors' boto3
    finds the job role's credentials itself; locally the endpoint is moto's."""

    def write(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from segmentation.ingest.lakewrite import parquet_bytes

        s3 = _s3(endpoint_url, region)
        day: str | None = None
        parts: list[pa.RecordBatch] = []
        written: list[tuple[str, str, int, str]] = []

        def flush() -> None:
            if day is None or not parts:
                return
            table = day_table(parts, schema)
            key = key_of(day)
            s3.put_object(Bucket=bucket, Key=key, Body=parquet_bytes(table))
            counts = json.dumps(measure(pa.Table.from_batches(parts)) if measure else {})
            written.append((day, key, table.num_rows, counts))

        for batch in batches:
            for value, rows in day_runs(batch):
                if value != day:
                    flush()
                    day, parts = value, []
                parts.append(rows)
        flush()
        yield pa.RecordBatch.from_pylist(
            [dict(zip(RESULT_ARROW.names, w, strict=True)) for w in written], schema=RESULT_ARROW
        )

    out = (
        df.repartition(PARTITION_COLUMN)
        .sortWithinPartitions(PARTITION_COLUMN)
        .mapInArrow(write, RESULT_SCHEMA)
        .collect()
    )
    result: dict[str, DayFile] = {}
    for row in out:
        if row["day"] in result:  # a day split across tasks would be two files: never silently
            raise RuntimeError(f"day {row['day']} was written by two tasks; expected one")
        result[row["day"]] = DayFile(row["key"], int(row["rows"]), json.loads(row["counts"]))
    return result


def read_objects_direct(
    spark: SparkSession,
    objects: list[tuple[str, str, dict[str, object]]],
    schema: pa.Schema,
    spark_schema: str | object,
    endpoint_url: str | None,
    region: str,
) -> DataFrame:
    """The rows of the named Parquet objects (``(bucket, key, extra columns)``), read with one GET
    each in the executors (pyarrow), as a DataFrame of ``schema`` plus the extra columns.

    Spark's own reader lists every given path from the driver first (a status check each, one
    after another) and then costs a few requests per file (status, footer, data); on moto that
    was ~40 s for 300 small objects. A column the object lacks reads as null (Spark's
    schema-on-read), a column it has beyond ``schema`` is left out."""
    extra_names = sorted({k for _, _, extra in objects for k in extra})
    tasks = max(1, min(len(objects), 4 * spark.sparkContext.defaultParallelism))
    listing = spark.createDataFrame(
        [
            (i % tasks, b, k, json.dumps(extra, sort_keys=True))
            for i, (b, k, extra) in enumerate(objects)
        ],
        "task int, bucket string, key string, extra string",
    ).repartition(tasks, "task")

    def read(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import io
        import json as _json

        import pyarrow.parquet as pq

        s3 = _s3(endpoint_url, region)
        for batch in batches:
            for bucket, key, extra in zip(
                batch.column("bucket").to_pylist(),
                batch.column("key").to_pylist(),
                batch.column("extra").to_pylist(),
                strict=True,
            ):
                body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                table = pq.read_table(io.BytesIO(body))
                n = table.num_rows
                arrays = []
                for f in schema:
                    if f.name in table.column_names:
                        arrays.append(table.column(f.name).cast(f.type))
                    else:
                        arrays.append(pa.nulls(n, f.type))
                values = _json.loads(extra)
                for name in extra_names:
                    arrays.append(pa.array([values.get(name)] * n))
                out = pa.Table.from_arrays(arrays, names=[*schema.names, *extra_names])
                yield from out.to_batches(max_chunksize=50_000)

    return listing.mapInArrow(read, spark_schema)
