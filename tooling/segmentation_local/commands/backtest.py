"""``segmentation backtest --snapshot-date T --horizon-days H``: segments vs what users did next.

Reads, from the lake the pipeline wrote: the features of snapshot T, the segment map of the
model version fitted on them (the newest one whose snapshot is T, or ``--model-version``), and
the curated events of the horizon (T, T + H] (the generator's continuation gives them locally:
``segmentation generate --continue``, then ingest and clean). Prints, for the segments and for the
5 x 5 x 5 RFM baseline, the out-of-sample variance explained of each next-period outcome and
each group's lift (:mod:`segmentation.pipeline.backtest`).
"""

from __future__ import annotations

import argparse
import json
from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from segmentation.lake import LakePaths


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "backtest",
        help="segments vs a 5x5x5 RFM baseline on what users did in the following days",
    )
    p.add_argument("--snapshot-date", required=True, help="the snapshot the segments describe")
    p.add_argument("--horizon-days", type=int, default=28, help="days after it (default 28)")
    p.add_argument("--model-version", help="default: the newest model of that snapshot")
    p.add_argument("--lake-prefix", help="default: SEG_LAKE_PREFIX")
    p.add_argument("--splits", type=int, default=5, help="seeded half splits (default 5)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument(
        "--mlflow",
        action="store_true",
        help="also log the figures as an MLflow run (SEG_MLFLOW_TRACKING_URI / _EXPERIMENT)",
    )
    p.set_defaults(func=run)


def _model_version(spark: SparkSession, paths: LakePaths, snapshot: date) -> str:
    """The newest model version fitted on ``snapshot``'s features."""
    from segmentation.lake import PROFILES
    from segmentation.model_document import ModelDocument
    from segmentation.pipeline import lakeio

    root = paths.settings.zone_uri("segments", PROFILES, scheme=paths.scheme)
    if not lakeio.exists(spark, root):
        raise FileNotFoundError(f"no model version in {root}; run the pipeline first")
    fs, path = lakeio.fs_path(spark, root)
    found = []
    for status in fs.listStatus(path):
        doc = status.getPath().suffix("/profiles.json")
        if fs.exists(doc):
            document = ModelDocument.from_json(lakeio.read_text(spark, doc.toString()), str(doc))
            if document.snapshot_date == snapshot:
                found.append((fs.getFileStatus(doc).getModificationTime(), document.model_version))
    if not found:
        raise FileNotFoundError(
            f"no model version of snapshot {snapshot} in {root}; run the pipeline with "
            f"--snapshot-date {snapshot} first"
        )
    return max(found)[1]


def run(args: argparse.Namespace) -> int:
    from pyspark.sql import functions as F

    from segmentation.awsclients import client
    from segmentation.config import get_settings
    from segmentation.lake import LakePaths
    from segmentation.ledger import Ledger
    from segmentation.pipeline.backtest import backtest, log_to_mlflow, report
    from segmentation.pipeline.clean_rules import window_bounds
    from segmentation.pipeline.curated import current_manifest, read_curated
    from segmentation.spark import get_spark

    try:
        snapshot = date.fromisoformat(args.snapshot_date)
    except ValueError:
        print(f"error: --snapshot-date: got {args.snapshot_date!r}, expected YYYY-MM-DD")
        return 2
    if args.horizon_days < 1:
        print(f"error: --horizon-days: got {args.horizon_days}, expected an integer >= 1")
        return 2
    settings = get_settings()
    if args.lake_prefix:
        settings = settings.model_copy(update={"lake_prefix": args.lake_prefix})
    paths = LakePaths(settings)
    spark = get_spark("segmentation-backtest", settings)
    try:
        version = args.model_version or _model_version(spark, paths, snapshot)
        features = (
            spark.read.parquet(paths.features(snapshot.isoformat()))
            .toPandas()
            .set_index("user_anon_id")
        )
        segments = (
            spark.read.parquet(paths.segment_map(version))
            .select("user_anon_id", "segment_name")
            .toPandas()
            .set_index("user_anon_id")["segment_name"]
        )
        ledger = Ledger(client("dynamodb", settings), settings.ledger_table)
        manifest = current_manifest(spark, paths, ledger)
        last = snapshot + timedelta(days=args.horizon_days)
        start, end = window_bounds(last, args.horizon_days)  # (T, T + H] as whole UTC days
        events = read_curated(
            spark, paths, manifest, (snapshot + timedelta(days=1)).isoformat(), last.isoformat()
        )
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}")
        return 2
    if events is None:
        print(
            f"error: no curated events in {snapshot + timedelta(days=1)} .. {last}: the horizon "
            "needs the days after the snapshot (generate a continuation, ingest and clean it)"
        )
        return 2
    epoch = F.col("event_ts").cast("long")
    horizon = (
        events.where((epoch >= start) & (epoch < end))
        .select("user_anon_id", "event_type", "amount")
        .toPandas()
    )
    result = backtest(features, segments, horizon, args.horizon_days, args.splits, args.seed)
    if args.mlflow:
        run_id = log_to_mlflow(
            result,
            settings.mlflow_tracking_uri,
            settings.mlflow_experiment,
            version,
            snapshot.isoformat(),
        )
        print(f"logged to MLflow run {run_id}")
    if args.json:
        print(json.dumps({"model_version": version, **result.to_dict()}, default=float))
    else:
        print(f"model version {version}, snapshot {snapshot}")
        print(report(result))
    return 0
