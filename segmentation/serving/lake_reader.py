"""Read a model version's segment map and model document from the segments zone, in bounded
memory.

The segment map is Parquet (possibly many part files, as Spark writes it); it is streamed as
record batches through pyarrow's S3 filesystem, so publishing a million users never holds them
all in a Lambda's memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from segmentation.config import Settings
from segmentation.lake import LakePaths
from segmentation.model_document import ModelDocument

SEGMENT_MAP_COLUMNS = ("user_anon_id", "segment_id", "segment_name")
#: Columns of the maps the cluster step writes since stable segment keys (issue 13); read when
#: present, so a map written before them still publishes (its users get no key).
OPTIONAL_SEGMENT_MAP_COLUMNS = ("segment_key", "moved_since_previous", "reasons")


def s3_filesystem(settings: Settings) -> pafs.S3FileSystem:
    """pyarrow's S3 client on the configured endpoint (moto locally), region pinned.

    The AWS SDK's default request timeout is 3 s without a byte and no retry of a network
    error: a store that stalls for a few seconds (a fault test pauses moto mid-publish) failed
    the publish's read of the lake instead of waiting it out, as botocore's clients do."""
    options: dict[str, Any] = {
        "region": settings.aws_region,
        "connect_timeout": 5,
        "request_timeout": 30,
        "retry_strategy": pafs.AwsStandardS3RetryStrategy(max_attempts=5),
    }
    endpoint = settings.service_endpoint("s3")
    if endpoint:
        parsed = urlparse(endpoint)
        options["endpoint_override"] = parsed.netloc
        options["scheme"] = parsed.scheme or "http"
    if os.environ.get("AWS_ACCESS_KEY_ID"):
        options["access_key"] = os.environ["AWS_ACCESS_KEY_ID"]
        options["secret_key"] = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
        if os.environ.get("AWS_SESSION_TOKEN"):
            options["session_token"] = os.environ["AWS_SESSION_TOKEN"]
    return pafs.S3FileSystem(**options)


def _strip_scheme(uri: str) -> str:
    return uri.split("://", 1)[1] if "://" in uri else uri


def iter_segment_map(
    settings: Settings,
    model_version: str,
    batch_size: int = 5000,
    filesystem: pafs.FileSystem | None = None,
) -> Iterator[pa.RecordBatch]:
    """Record batches of (user_anon_id, segment_id, segment_name) of one model version, plus
    whichever of :data:`OPTIONAL_SEGMENT_MAP_COLUMNS` the map has."""
    fs = filesystem or s3_filesystem(settings)
    uri = LakePaths(settings).segment_map(model_version)
    path = _strip_scheme(uri)
    info = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True, recursive=True))
    files = [
        f.path
        for f in info
        if f.type == pafs.FileType.File
        and not f.base_name.startswith(("_", "."))
        and f.size
        and f.size > 0
    ]
    if not files:
        raise FileNotFoundError(f"no segment map for model version {model_version!r} at {uri}")
    dataset = ds.dataset(files, filesystem=fs, format="parquet")
    missing = [c for c in SEGMENT_MAP_COLUMNS if c not in dataset.schema.names]
    if missing:
        raise ValueError(
            f"segment map at {uri} lacks column(s) {', '.join(missing)}; expected "
            f"{', '.join(SEGMENT_MAP_COLUMNS)}"
        )
    optional = [c for c in OPTIONAL_SEGMENT_MAP_COLUMNS if c in dataset.schema.names]
    yield from dataset.to_batches(columns=[*SEGMENT_MAP_COLUMNS, *optional], batch_size=batch_size)


def iter_provisional(
    settings: Settings,
    model_version: str,
    batch_size: int = 5000,
    filesystem: pafs.FileSystem | None = None,
) -> Iterator[pa.RecordBatch]:
    """Record batches of a version's provisional assignments (the between-run job's lake
    record, :data:`segmentation.serving.provisional.RECORD_COLUMNS`); none when it has none."""
    from segmentation.serving.provisional import RECORD_COLUMNS

    fs = filesystem or s3_filesystem(settings)
    path = _strip_scheme(LakePaths(settings).provisional(model_version))
    info = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True, recursive=True))
    files = [
        f.path
        for f in info
        if f.type == pafs.FileType.File
        and f.base_name.endswith(".parquet")
        and not f.base_name.startswith(("_", "."))
    ]
    if not files:
        return
    dataset = ds.dataset(files, filesystem=fs, format="parquet")
    yield from dataset.to_batches(columns=list(RECORD_COLUMNS), batch_size=batch_size)


def read_model_document(
    settings: Settings, model_version: str, filesystem: pafs.FileSystem | None = None
) -> ModelDocument:
    """The version's model document, validated: a document of another shape (or schema
    version) is refused with the field that is wrong, not half-read."""
    fs = filesystem or s3_filesystem(settings)
    uri = LakePaths(settings).profiles(model_version)
    try:
        with fs.open_input_stream(_strip_scheme(uri)) as stream:
            text = stream.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"no segment profiles for {model_version!r} at {uri}") from None
    return ModelDocument.from_json(text, f"profiles at {uri}")


def find_model_version(
    settings: Settings, run_id: str, filesystem: pafs.FileSystem | None = None
) -> str:
    """The model version the cluster step wrote for pipeline run ``run_id``.

    The version is only known once the step has registered its model (e.g.
    ``segmentation-kmeans-v7``), so the state machine cannot pass it on; each version's
    profiles.json names its ``pipeline_run_id``. Newest documents are read first, so this is
    normally a single small read."""
    fs = filesystem or s3_filesystem(settings)
    root = _strip_scheme(LakePaths(settings).segment_map()).rsplit("/", 1)[0] + "/profiles"
    infos = fs.get_file_info(pafs.FileSelector(root, allow_not_found=True, recursive=True))
    docs = [f for f in infos if f.type == pafs.FileType.File and f.base_name == "profiles.json"]
    docs.sort(key=lambda f: f.mtime_ns or 0, reverse=True)
    for info in docs:
        with fs.open_input_stream(info.path) as stream:
            doc = ModelDocument.from_json(stream.read(), f"s3://{info.path}")
        if doc.pipeline_run_id == run_id:
            return doc.model_version
    raise FileNotFoundError(
        f"no segment profiles for pipeline run {run_id!r} under s3://{root}/; did the cluster "
        "step of that run finish?"
    )
