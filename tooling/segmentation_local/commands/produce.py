"""``segmentation produce``: send a file of events (CSV or Parquet) to the Kafka topic."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("produce", help="send events from a CSV/Parquet file to Kafka (or MSK)")
    p.add_argument("--bootstrap", help="HOST:PORT[,...] (default: SEG_KAFKA_BOOTSTRAP)")
    p.add_argument("--topic", help="topic (default: SEG_KAFKA_TOPIC)")
    p.add_argument("--input", required=True, type=Path, help="CSV or Parquet file of events")
    p.add_argument("--limit", type=int, help="send at most this many events")
    p.add_argument(
        "--iam", action="store_true", help="MSK IAM auth (SASL OAUTHBEARER over TLS, AWS creds)"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from segmentation.config import get_settings
    from segmentation.ingest.producer import produce_file

    settings = get_settings()
    summary = produce_file(
        args.input,
        args.bootstrap or settings.kafka_bootstrap,
        args.topic or settings.kafka_topic,
        iam=args.iam,
        region=settings.aws_region,
        limit=args.limit,
        progress=not args.no_progress,
    )
    print(summary)
    return 1 if summary.failed else 0
