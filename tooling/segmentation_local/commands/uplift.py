"""``segmentation uplift --campaign ID``: did the campaign work? Treatment against control, per
target segment, over the campaign window.

Reads the campaign (the campaigns table; frozen first if its start has passed), its members
(the frozen version's segment map in the lake) and their arms (the arm key), and the window's
purchase and subscription events (the committed curated zone); prints per target key the
conversion and spend per member in each arm, the absolute and relative uplift with 95 %
intervals and the users behind each figure (:mod:`segmentation.campaign.uplift`). The report is
logged to MLflow (SEG_MLFLOW_TRACKING_URI / _EXPERIMENT) and written to the lake
(``segments/uplift/campaign_id=<id>/report.json``, what the console shows).
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "uplift",
        help="a campaign's uplift report: treatment vs control per target segment, with 95 % "
        "intervals (logged to MLflow, written to the lake)",
    )
    p.add_argument("--campaign", required=True, metavar="ID", help="the campaign's id")
    p.add_argument("--lake-prefix", help="default: SEG_LAKE_PREFIX")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--no-mlflow", action="store_true", help="do not log the report to MLflow (lake only)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    from segmentation.campaign.arms import load_arm_key
    from segmentation.campaign.model import BAD_CAMPAIGN_ID, CAMPAIGN_ID
    from segmentation.campaign.outcomes import build_report, write_report
    from segmentation.campaign.store import CampaignStore, NothingServed, UnknownCampaign
    from segmentation.campaign.uplift import log_to_mlflow, report_text
    from segmentation.config import get_settings
    from segmentation.spark import get_spark

    if not CAMPAIGN_ID.fullmatch(args.campaign):
        raise ValueError(f"--{BAD_CAMPAIGN_ID}, got {args.campaign!r}")
    settings = get_settings()
    if args.lake_prefix:
        settings = settings.model_copy(update={"lake_prefix": args.lake_prefix})
    try:
        campaign = CampaignStore(settings).get(args.campaign)
    except UnknownCampaign as exc:
        raise ValueError(str(exc)) from None
    except NothingServed as exc:
        raise ValueError(str(exc)) from None
    spark = get_spark("segmentation-uplift", settings)
    report = build_report(spark, settings, campaign, load_arm_key(settings))
    uri = write_report(settings, report)
    run_id = None
    if not args.no_mlflow:
        run_id = log_to_mlflow(report, settings.mlflow_tracking_uri, settings.mlflow_experiment)
    if args.json:
        print(json.dumps(report.model_dump(mode="json")))
        return 0
    print(report_text(report))
    print("")
    print(f"written to {uri}" + (f"; logged to MLflow run {run_id}" if run_id else ""))
    if report.curated_days < report.window_days:
        print(
            f"note: the curated zone holds {report.curated_days} of the window's "
            f"{report.window_days} days: ingest and clean the rest for the whole window"
        )
    return 0
