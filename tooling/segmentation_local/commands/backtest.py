"""``segmentation backtest --snapshot-date T --horizon-days H``: segments vs what users did next.

The pipeline's backtest step (:mod:`segmentation.pipeline.backtest_step`, the Glue job the state
machine runs with ``backtest_horizon_days``) on local Spark, with the horizon's end T + H as its
``snapshot_date``: it takes the newest model version of snapshot T or earlier (or
``--model-version``), the features of its snapshot, its segment map and the curated events of
the H days after it (the generator's continuation gives them locally:
``segmentation generate --continue``, then ingest and clean). Prints, for the segments and for
the 5 x 5 x 5 RFM baseline, the out-of-sample variance explained of each next-period outcome and
each group's lift (:mod:`segmentation.pipeline.backtest`). The figures also go to the lake as
JSON beside the version's profiles, and with ``--mlflow`` to an MLflow run.
"""

from __future__ import annotations

import argparse
import json
from datetime import date, timedelta


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


def run(args: argparse.Namespace) -> int:
    from segmentation.config import get_settings
    from segmentation.lake import LakePaths
    from segmentation.pipeline import backtest_step
    from segmentation.pipeline.args import resolve
    from segmentation.pipeline.backtest import report
    from segmentation.pipeline.params import BacktestParams, bounds, expected
    from segmentation.spark import get_spark

    try:
        snapshot = date.fromisoformat(args.snapshot_date)
    except ValueError:
        print(f"error: --snapshot-date: got {args.snapshot_date!r}, expected YYYY-MM-DD")
        return 2
    field = BacktestParams.model_fields["horizon_days"]
    allowed = bounds(field.annotation, field)
    if not allowed["ge"] <= args.horizon_days <= allowed["le"]:
        print(
            f"error: --horizon-days: got {args.horizon_days}, expected "
            f"{expected(BacktestParams, 'horizon_days')}"
        )
        return 2
    settings = get_settings()
    if args.lake_prefix:
        settings = settings.model_copy(update={"lake_prefix": args.lake_prefix})
    try:
        params = resolve(
            "backtest",
            {
                "lake_prefix": settings.lake_prefix,
                "snapshot_date": (snapshot + timedelta(days=args.horizon_days)).isoformat(),
                "horizon_days": args.horizon_days,
                "model_version": args.model_version,
                "splits": args.splits,
                "seed": args.seed,
                "mlflow": args.mlflow,
            },
        )
    except ValueError as exc:
        print(f"error: {exc}")
        return 2
    spark = get_spark("segmentation-backtest", settings)
    try:
        done = backtest_step.evaluate(spark, params, LakePaths(settings))
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}")
        return 2
    version, taken = done.version.model_version, done.version.snapshot_date
    if done.mlflow_run_id:
        print(f"logged to MLflow run {done.mlflow_run_id}")
    if args.json:
        print(json.dumps({"model_version": version, **done.result.to_dict()}, default=float))
        return 0
    print(f"model version {version}, snapshot {taken}")
    if taken != snapshot and not args.model_version:
        print(f"  (no model version of snapshot {snapshot}: the newest before it)")
    print(report(done.result))
    print(f"\nreport: {done.report_uri}")
    return 0
