"""``segmentation catalog FILE``: check and upload the content catalog to the raw zone.

The features step joins play events with it (``unique_genres``); without one that feature is 0
for everyone, and the run's model document says so.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "catalog", help="upload the content catalog (Parquet: content_id, genre, ...) to raw"
    )
    p.add_argument("file", type=Path, help="the catalog Parquet file (the generator writes one)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from segmentation.awsclients import client
    from segmentation.config import get_settings
    from segmentation.ingest.catalog import upload_catalog

    settings = get_settings()
    uri = upload_catalog(args.file, client("s3", settings), settings)
    print(f"catalog {args.file} -> {uri}")
    return 0
