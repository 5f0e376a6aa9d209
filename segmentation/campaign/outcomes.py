"""The uplift report from the lake: a campaign's members (the frozen version's segment map), their
arms, and what they did in the window (the committed curated events).

The members are read with pyarrow (:func:`segmentation.serving.lake_reader.iter_segment_map`,
as publish reads them), the window's money events with Spark through the clean step's ledger
(:func:`segmentation.pipeline.curated.read_curated`, as the backtest reads its horizon), and the
outcomes are the backtest's (:func:`segmentation.pipeline.backtest.outcomes`): one definition of
"converted" and "spend" for both.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pandas as pd

from segmentation.campaign.arms import arms_of
from segmentation.campaign.model import Campaign
from segmentation.campaign.report import UpliftReport, read_report, write_report
from segmentation.campaign.uplift import compute
from segmentation.config import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def members(settings: Settings, campaign: Campaign, arm_key: bytes) -> pd.DataFrame:
    """One row per member (user_anon_id, segment_key, segment_name, arm) of the frozen version."""
    from segmentation.serving.lake_reader import iter_segment_map

    if campaign.model_version is None:
        raise ValueError(
            f"campaign {campaign.campaign_id} has not started (it starts "
            f"{campaign.start:%Y-%m-%d %H:%M} UTC): its membership is not frozen yet"
        )
    frames = []
    for batch in iter_segment_map(settings, campaign.model_version):
        if "segment_key" not in batch.schema.names:
            raise ValueError(
                f"the segment map of {campaign.model_version} has no segment keys (written before "
                "stable keys): a campaign needs a version published with them"
            )
        frame = batch.to_pandas()[["user_anon_id", "segment_key", "segment_name"]]
        frames.append(frame[frame["segment_key"].isin(campaign.segment_keys)])
    found = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if found.empty:
        return pd.DataFrame(columns=["user_anon_id", "segment_key", "segment_name", "arm"])
    found["arm"] = arms_of(
        arm_key, campaign.campaign_id, found["user_anon_id"].tolist(), campaign.holdout
    )
    return found


def window_days(campaign: Campaign) -> list[str]:
    """The UTC days the window ``[start, end)`` touches."""
    first = campaign.start.date()
    last = (campaign.end - timedelta(microseconds=1)).date()
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def window_events(
    spark: SparkSession, settings: Settings, campaign: Campaign
) -> tuple[pd.DataFrame, int]:
    """The window's purchase and subscription events (user_anon_id, event_type, amount) of the
    committed curated version, and how many of the window's days curated holds."""
    from pyspark.sql import functions as F

    from segmentation.awsclients import client
    from segmentation.contract import MONEY_EVENTS
    from segmentation.lake import LakePaths
    from segmentation.ledger import Ledger
    from segmentation.pipeline.curated import current_manifest, read_curated

    paths = LakePaths(settings)
    ledger = Ledger(client("dynamodb", settings), settings.ledger_table)
    manifest = current_manifest(spark, paths, ledger)
    days = window_days(campaign)
    held = sum(1 for d in days if d in manifest.partitions)
    columns = ["user_anon_id", "event_type", "amount"]
    events = read_curated(spark, paths, manifest, days[0], days[-1])
    if events is None:
        return pd.DataFrame(columns=columns), 0
    epoch = F.col("event_ts").cast("double")
    start, end = campaign.start.timestamp(), campaign.end.timestamp()
    money = events.where(
        (epoch >= start) & (epoch < end) & F.col("event_type").isin(sorted(MONEY_EVENTS))
    )
    return money.select(*columns).toPandas(), held


def build_report(
    spark: SparkSession,
    settings: Settings,
    campaign: Campaign,
    arm_key: bytes,
    now: datetime | None = None,
) -> UpliftReport:
    """The campaign's uplift report from the lake."""
    from segmentation.pipeline.backtest import outcomes

    who = members(settings, campaign, arm_key)
    events, held = window_events(spark, settings, campaign)
    outcome = outcomes(pd.Index(who["user_anon_id"], name="user_anon_id"), events)
    rows, overall = compute(who, outcome, list(campaign.segment_keys))
    assert campaign.model_version is not None  # members() refused an unfrozen campaign
    return UpliftReport(
        campaign_id=campaign.campaign_id,
        name=campaign.name,
        model_version=campaign.model_version,
        holdout=campaign.holdout,
        start=campaign.start,
        end=campaign.end,
        computed_at=now or datetime.now(UTC),
        window_days=len(window_days(campaign)),
        curated_days=held,
        segments=rows,
        overall=overall,
    )


__all__ = ["build_report", "members", "read_report", "window_events", "write_report"]
