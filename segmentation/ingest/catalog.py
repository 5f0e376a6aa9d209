"""The content catalog: what the features step joins play events with (genre of each item).

It is reference data, not events: one Parquet file in the raw zone (``raw/catalog/``), replaced
as a whole. Checked before it is uploaded, so a catalog without ``content_id`` or ``genre`` is
refused here, naming the columns, instead of failing the features step a week later.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from segmentation.config import Settings
from segmentation.lake import CATALOG

#: Columns the features step reads; the others (duration_minutes, release_year) are optional.
REQUIRED_COLUMNS = ("content_id", "genre")
COLUMNS = (*REQUIRED_COLUMNS, "duration_minutes", "release_year")
KEY = f"{CATALOG}/catalog.parquet"


def missing_columns(columns: list[str]) -> list[str]:
    return [c for c in REQUIRED_COLUMNS if c not in columns]


def upload_catalog(path: Path, s3: Any, settings: Settings) -> str:
    """Check and upload a catalog Parquet file to the raw zone; returns its S3 URI."""
    if not path.is_file():
        raise FileNotFoundError(f"no such catalog file: {path}")
    try:
        columns = pq.read_schema(path).names
    except Exception as exc:  # pyarrow: not Parquet
        raise ValueError(f"{path} is not Parquet ({exc}); expected a Parquet catalog") from None
    missing = missing_columns(columns)
    if missing:
        raise ValueError(
            f"{path} lacks column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}"
        )
    bucket = settings.bucket("raw")
    s3.upload_file(str(path), bucket, KEY)
    return f"s3://{bucket}/{KEY}"
