"""Small-file I/O (JSON reports, existence checks) through Spark's own Hadoop filesystem.

Going through the JVM's FileSystem means the reports land wherever the DataFrames do, with the
credentials and endpoint the platform (Glue/EMR) or the local factory configured, instead of a
second client (boto3) that would need its own endpoint and credentials.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def fs_path(spark: SparkSession, uri: str) -> tuple[Any, Any]:
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return fs, path


def exists(spark: SparkSession, uri: str) -> bool:
    """True if ``uri`` is a file or a non-empty directory (an empty prefix is no dataset).

    A missing bucket is not "no data yet" but a missing lake zone: that is said plainly.
    """
    from py4j.protocol import Py4JJavaError

    fs, path = fs_path(spark, uri)
    try:
        if not fs.exists(path):
            return False
        if fs.getFileStatus(path).isDirectory():
            return len(fs.listStatus(path)) > 0
        return True
    except Py4JJavaError as exc:
        name = exc.java_exception.getClass().getName()
        if name.endswith("UnknownStoreException") or "NoSuchBucket" in str(exc):
            bucket = uri.split("://", 1)[-1].split("/", 1)[0]
            raise FileNotFoundError(
                f"bucket {bucket} does not exist; expected the lake's zone buckets "
                "(created by Terraform: `terraform apply` of the environment)"
            ) from None
        raise


def write_text(spark: SparkSession, uri: str, text: str) -> None:
    fs, path = fs_path(spark, uri)
    out = fs.create(path, True)
    try:
        out.write(bytearray(text.encode("utf-8")))
    finally:
        out.close()


def read_text(spark: SparkSession, uri: str) -> str:
    fs, path = fs_path(spark, uri)
    stream = fs.open(path)
    try:
        jvm = spark.sparkContext._jvm
        data = jvm.org.apache.commons.io.IOUtils.toByteArray(stream)
    finally:
        stream.close()
    return bytes(data).decode("utf-8")


def write_json(spark: SparkSession, uri: str, payload: Any) -> None:
    write_text(spark, uri, json.dumps(payload, indent=2, sort_keys=True, default=str))


def read_json(spark: SparkSession, uri: str) -> Any:
    return json.loads(read_text(spark, uri))
