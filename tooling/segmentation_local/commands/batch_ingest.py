"""``segmentation batch-ingest``: the local S3 trigger of the batch ingest Lambda.

On AWS an upload to the landing bucket notifies the ``batch_ingest`` Lambda. moto stores the
notification configuration but runs no Lambda code, so locally this command plays the trigger:
it (optionally) uploads a file to the landing prefix, then calls the very handler with an S3 event
for every object waiting there.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "batch-ingest",
        help="upload a CSV/Parquet file to the landing zone and ingest pending landing files",
    )
    p.add_argument("--upload", type=Path, help="file to upload to the landing prefix first")
    p.add_argument("--prefix", default="incoming/", help="landing prefix (default incoming/)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    from urllib.parse import quote_plus

    from segmentation.awsclients import client
    from segmentation.config import get_settings
    from segmentation.ingest.batch import should_ingest
    from segmentation_local.lambda_context import LocalContext
    from segmentation_local.lambdas import load_handler

    settings = get_settings()
    s3 = client("s3", settings)
    bucket = settings.bucket("landing")
    prefix = args.prefix if args.prefix.endswith("/") or not args.prefix else args.prefix + "/"
    if args.upload is not None:
        if not args.upload.is_file():
            raise FileNotFoundError(f"no such file: {args.upload}")
        key = prefix + args.upload.name
        s3.upload_file(str(args.upload), bucket, key)
        print(f"uploaded {args.upload} to s3://{bucket}/{key}")
    pending = [
        obj["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for obj in page.get("Contents", [])
        if should_ingest(obj["Key"])
    ]
    if not pending:
        print(f"nothing to ingest under s3://{bucket}/{prefix}")
        return 0
    handler = load_handler("batch_ingest")
    failed = 0
    for key in pending:
        event = {
            "Records": [{"s3": {"bucket": {"name": bucket}, "object": {"key": quote_plus(key)}}}]
        }
        for result in handler(event, LocalContext("batch_ingest"))["files"]:
            report = json.loads(
                s3.get_object(Bucket=bucket, Key=result["report"].split("/", 3)[3])["Body"].read()
            )
            failed += report["status"] == "failed"
            print(
                f"{result['landing']}: {report['status']}, {report['rows_ok']} rows ok, "
                f"{report['rows_rejected']} rejected"
                + (f" ({report['error']})" if report["error"] else "")
                + f"; report {result['report']}"
            )
    return 1 if failed else 0
