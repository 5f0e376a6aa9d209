"""``segmentation poll``: the local event source mapping (Kafka topic -> ingest Lambda handler)."""

from __future__ import annotations

import argparse
import os
import signal


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "poll",
        help="consume the topic in batches and call the ingest Lambda handler (local MSK trigger)",
    )
    p.add_argument("--bootstrap", help="HOST:PORT (default: SEG_KAFKA_BOOTSTRAP)")
    p.add_argument("--topic", help="topic (default: SEG_KAFKA_TOPIC)")
    p.add_argument("--group", help="consumer group (default: SEG_KAFKA_CONSUMER_GROUP)")
    p.add_argument("--batch-size", type=int, help="default: SEG_INGEST_BATCH_SIZE")
    p.add_argument("--batch-window", type=float, help="seconds; SEG_INGEST_BATCH_WINDOW_SECONDS")
    p.add_argument("--idle-timeout", type=float, help="stop after this many idle seconds")
    p.add_argument("--max-records", type=int, help="stop after this many records")
    p.add_argument("--function", default="ingest", help="Lambda under lambdas/ to call")
    p.add_argument("--iam", action="store_true", help="MSK IAM auth (SASL OAUTHBEARER over TLS)")
    p.add_argument(
        "--emit-metrics",
        action="store_true",
        help="print the handler's EMF metric lines (off locally by default: they feed CloudWatch)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.emit_metrics:
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    from segmentation.config import get_settings
    from segmentation.ingest.kafka_auth import client_config
    from segmentation_local.lambdas import load_handler
    from segmentation_local.poller import Poller, PollerConfig

    settings = get_settings()
    bootstrap = args.bootstrap or settings.kafka_bootstrap
    config = PollerConfig(
        bootstrap=bootstrap,
        topic=args.topic or settings.kafka_topic,
        group=args.group or settings.kafka_consumer_group,
        batch_size=args.batch_size or settings.ingest_batch_size,
        batch_window=(
            args.batch_window
            if args.batch_window is not None
            else settings.ingest_batch_window_seconds
        ),
        idle_timeout=args.idle_timeout,
        max_records=args.max_records,
        client=client_config(bootstrap, iam=args.iam, region=settings.aws_region),
    )
    poller = Poller(config, load_handler(args.function), function_name=args.function)
    signal.signal(signal.SIGTERM, lambda *_: poller.stop())
    try:
        stats = poller.run()
    except KeyboardInterrupt:
        poller.stop()
        stats = poller.stats
    print(
        f"handled {stats.records} records in {stats.batches} batches ({stats.retries} retries); "
        f"{stats.active:.1f} s from the first record to the last commit "
        f"({stats.rate:,.0f} records/s), {stats.elapsed:.1f} s in all"
    )
    return 0
