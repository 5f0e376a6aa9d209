"""The uplift report's shape (pydantic only: the segment API answers it without numpy or
pandas) and its home in the lake, ``segments/uplift/campaign_id=<id>/report.json``.

The figures are computed by :mod:`segmentation.campaign.uplift`; the methods are named there.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from segmentation.config import Settings

CONFIDENCE = 0.95
METHODS = {
    "conversion": "difference of proportions, normal approximation, unpooled variance (Wald)",
    "spend": "difference of means, Welch's t (unequal variances)",
    "relative": "treatment / control - 1, delta method on the log ratio",
}


class Estimate(BaseModel):
    """One outcome in both arms and the uplift, with its 95 % interval (null where undefined)."""

    treatment: float | None = Field(description="The treatment arm's rate or mean.")
    control: float | None = Field(description="The control arm's rate or mean.")
    absolute: float | None = Field(description="treatment - control.")
    absolute_low: float | None
    absolute_high: float | None
    relative: float | None = Field(description="treatment / control - 1 (null if control is 0).")
    relative_low: float | None
    relative_high: float | None

    def contains(self, value: float, relative: bool = False) -> bool:
        low, high = (
            (self.relative_low, self.relative_high)
            if relative
            else (self.absolute_low, self.absolute_high)
        )
        return low is not None and high is not None and low <= value <= high


class SegmentUplift(BaseModel):
    segment_key: str = Field(description="The target segment key ('all': every target pooled).")
    segment_name: str | None = None
    users_treatment: int = Field(description="Members in the treatment arm.")
    users_control: int = Field(description="Members in the control arm.")
    converted_treatment: int
    converted_control: int
    conversion: Estimate = Field(description="Share of members with a purchase or subscription.")
    spend: Estimate = Field(description="Spend per member (EUR).")
    note: str | None = Field(None, description="Why a figure should be read with care.")


class UpliftReport(BaseModel):
    campaign_id: str
    name: str
    model_version: str = Field(description="The version the membership is frozen to.")
    holdout: float
    start: datetime
    end: datetime
    computed_at: datetime
    window_days: int = Field(description="Days of the campaign window.")
    curated_days: int = Field(description="Days of the window the curated zone holds.")
    confidence: float = CONFIDENCE
    methods: dict[str, str] = Field(default_factory=lambda: dict(METHODS))
    segments: list[SegmentUplift] = Field(description="One row per target segment key.")
    overall: SegmentUplift = Field(description="Every target segment pooled.")


def _bucket_key(uri: str) -> tuple[str, str]:
    bucket, key = uri.split("://", 1)[1].split("/", 1)
    return bucket, key


def write_report(settings: Settings, report: UpliftReport, s3: Any = None) -> str:
    """Store the report in the segments zone (``uplift/campaign_id=<id>/report.json``, the
    latest one: MLflow keeps each run's); returns its URI."""
    from segmentation.awsclients import client
    from segmentation.lake import LakePaths

    uri = LakePaths(settings).uplift_report(report.campaign_id)
    bucket, key = _bucket_key(uri)
    (s3 or client("s3", settings)).put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(report.model_dump(mode="json"), indent=1).encode(),
        ContentType="application/json",
    )
    return uri


def read_report(settings: Settings, campaign_id: str, s3: Any) -> UpliftReport | None:
    """The latest stored report of a campaign, None before the first."""
    from segmentation.lake import LakePaths

    bucket, key = _bucket_key(LakePaths(settings).uplift_report(campaign_id))
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except (s3.exceptions.NoSuchKey, s3.exceptions.NoSuchBucket):
        return None
    return UpliftReport.model_validate_json(body)
