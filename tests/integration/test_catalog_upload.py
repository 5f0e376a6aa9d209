"""The content catalog is checked before it reaches the raw zone: a file without the columns
the features step joins on is refused, naming them."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation.awsclients import client
from segmentation.config import get_settings
from segmentation.ingest.catalog import KEY, upload_catalog
from segmentation_local.cli import main

pytestmark = pytest.mark.moto


@pytest.fixture
def raw(moto_env: str) -> str:
    settings = get_settings()
    client("s3", settings).create_bucket(Bucket=settings.bucket("raw"))
    return settings.bucket("raw")


def test_a_catalog_is_uploaded_where_the_features_step_reads_it(raw: str, tmp_path: Path) -> None:
    path = tmp_path / "catalog.parquet"
    pq.write_table(pa.table({"content_id": ["c-1"], "genre": ["drama"]}), path)
    assert main(["catalog", str(path)]) == 0
    settings = get_settings()
    objects = client("s3", settings).list_objects_v2(Bucket=raw)["Contents"]
    assert [o["Key"] for o in objects] == [KEY]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (pa.table({"content_id": ["c-1"], "category": ["x"]}), r"lacks column\(s\) genre"),
        (None, "is not Parquet"),
    ],
)
def test_a_bad_catalog_is_refused_naming_what_is_wrong(
    raw: str, tmp_path: Path, table: pa.Table | None, message: str
) -> None:
    path = tmp_path / "catalog.parquet"
    if table is None:
        path.write_text("content_id,genre\nc-1,drama\n")
    else:
        pq.write_table(table, path)
    with pytest.raises(ValueError, match=message):
        upload_catalog(path, client("s3", get_settings()), get_settings())
    assert "Contents" not in client("s3", get_settings()).list_objects_v2(Bucket=raw)
