"""The campaigns' routes, and the arm of a user in one (``?campaign=`` of the lookups).

``POST /campaigns`` (a signed-in analyst) defines a campaign: a name, target segment keys of
the served version, a holdout share and a window; it is refused with 400 naming the field and
what it allows (an unknown segment key, end before start, a holdout out of (0, 1) ...).
``GET /campaigns`` and ``GET /campaigns/{campaign_id}`` list and describe them (status, the
frozen model version); ``GET /campaigns/{campaign_id}/uplift`` answers the latest uplift report
``segmentation uplift`` wrote to the lake. How membership is frozen:
:mod:`segmentation.campaign.store`.

:func:`arm_for` is the lookups' half: the arm of an anonymised user in a campaign, null when
the user is no member (not in a target segment of the frozen version).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, ServiceError
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, Field

from segmentation.campaign.arms import arm_of, load_arm_key
from segmentation.campaign.model import (
    BAD_CAMPAIGN_ID,
    CAMPAIGN_ID,
    CAMPAIGN_ID_PATTERN,
    EXPECTED,
    Arm,
    Campaign,
    InvalidCampaign,
    Status,
    new_campaign_id,
    parse_spec,
)
from segmentation.campaign.report import UpliftReport, read_report
from segmentation.campaign.store import CampaignStore, NothingServed, UnknownCampaign
from segmentation.config import Settings, get_settings
from segmentation.serving.access import SECURITY, UNAUTHORIZED_RESPONSE, analyst_claims
from segmentation.serving.access import error_response as _error

router = Router()

NO_CAMPAIGN = "No such campaign"
#: A started campaign is frozen on its first read, which needs a served version.
SERVED = "Nothing published yet (a started campaign is frozen to the served version)"
#: The 404 body's words: fixed, as every error body of the lookups is.
NO_SUCH_CAMPAIGN = "no such campaign"


class CampaignView(Campaign):
    """A campaign as the API answers it."""

    status: Status = Field(
        description="scheduled (before its start), running, or ended (after its end)."
    )


class CampaignList(BaseModel):
    campaigns: list[CampaignView] = Field(description="Newest first.")


class _State:
    """The campaigns table, the arm key and the segments table (per warm Lambda), replaceable
    in tests and by the local console."""

    settings: Settings | None = None
    store: CampaignStore | None = None
    s3: Any = None
    frozen: dict[str, Campaign]

    def __init__(self) -> None:
        self.frozen = {}

    def reset(self, settings: Settings | None = None) -> None:
        self.settings, self.store, self.s3, self.frozen = settings, None, None, {}

    def get_settings(self) -> Settings:
        return self.settings or get_settings()

    def campaigns(self) -> CampaignStore:
        if self.store is None:
            self.store = CampaignStore(self.get_settings())
        return self.store

    def client(self) -> Any:
        if self.s3 is None:
            from segmentation.awsclients import client

            self.s3 = client("s3", self.get_settings())
        return self.s3

    def campaign(self, campaign_id: str) -> Campaign:
        """The campaign (a frozen one is kept: it never changes again); 404 if unknown."""
        if campaign_id in self.frozen:
            return self.frozen[campaign_id]
        try:
            found = self.campaigns().get(campaign_id)
        except UnknownCampaign:
            raise ServiceError(404, NO_SUCH_CAMPAIGN) from None
        except NothingServed as exc:
            raise ServiceError(503, str(exc)) from None
        if found.model_version is not None:
            self.frozen[campaign_id] = found
        return found

    def arm_key(self) -> bytes:
        # cached by the secrets provider for hmac_secret_max_age, as the anonymisation key
        return load_arm_key(self.get_settings())


state = _State()


def _view(campaign: Campaign, now: datetime) -> CampaignView:
    return CampaignView(**campaign.model_dump(), status=campaign.status_at(now))


def _checked_id(campaign_id: str | None) -> str:
    if campaign_id is None or not CAMPAIGN_ID.fullmatch(campaign_id):
        raise BadRequestError(BAD_CAMPAIGN_ID)
    return campaign_id


def arm_for(campaign_id: str | None, user_anon_id: str, segments: Any) -> Arm | None:
    """The arm of a pseudonymised user in ``campaign_id`` (None without a campaign, or for a
    user outside its target). Membership is the frozen version's; before the start, the served
    version's (what the start will freeze unless a new version is published first)."""
    if campaign_id is None:
        return None
    campaign = state.campaign(_checked_id(campaign_id))
    version = campaign.model_version or segments.current()["model_version"]
    item = segments.weekly_item(user_anon_id, version)
    if item is None or not campaign.targets(item.get("segment_key")):
        return None
    return arm_of(state.arm_key(), campaign.campaign_id, user_anon_id, campaign.holdout)


def _served_keys(settings: Settings) -> tuple[str, set[str]]:
    from segmentation.serving.store import NoCurrentVersion, SegmentStore

    segments = SegmentStore(settings, state.campaigns().dynamo)
    try:
        version = segments.current(refresh=True)["model_version"]
    except NoCurrentVersion:
        raise ServiceError(503, "no segments published yet; run the pipeline first") from None
    keys = {s.segment_key for s in segments.segments(version).values() if s.segment_key}
    return version, keys


def _json_body() -> Any:
    try:
        return router.current_event.json_body
    except (ValueError, TypeError):
        raise BadRequestError("expected a JSON body: " + json.dumps(list(EXPECTED))) from None


@router.post(
    "/campaigns",
    summary="Define a campaign: target segment keys, a holdout share, a window",
    description="The target's users are frozen to the model version served at the start (a "
    "campaign starting later is frozen when its start has passed). Each member is in the "
    "treatment or the control arm (GET /users/{user_id}/segment?campaign=...). 400 names the "
    "first bad field and what it allows; an unknown segment key is one. Needs a signed-in "
    "analyst.",
    security=SECURITY,
    responses={
        201: {
            "description": "The campaign",
            "content": {"application/json": {"model": CampaignView}},
        },
        400: _error("A field breaks the campaign model, or a segment key is not served"),
        401: UNAUTHORIZED_RESPONSE,
        503: _error("Nothing published yet, or the segment store does not answer"),
    },
)
def create_campaign() -> Response[CampaignView]:
    claims = analyst_claims(router.current_event)
    try:
        spec = parse_spec(_json_body())
    except InvalidCampaign as exc:
        raise BadRequestError(str(exc)) from None
    settings = state.get_settings()
    version, keys = _served_keys(settings)
    unknown = [k for k in spec.segment_keys if k not in keys]
    if unknown:
        served = ", ".join(sorted(keys, key=_key_order)) or "(none: it has no keys)"
        raise BadRequestError(
            f"segment_keys: {unknown[0]} is not a segment of the served version {version}; "
            f"expected some of {served}"
        )
    now = datetime.now(UTC)
    campaign = Campaign(
        **spec.model_dump(),
        campaign_id=new_campaign_id(),
        created_at=now,
        created_by=claims.get("email"),
    )
    try:
        stored = state.campaigns().create(campaign, now)
    except NothingServed as exc:
        raise ServiceError(503, str(exc)) from None
    return Response(
        201, content_type="application/json", body=_view(stored, now).model_dump(mode="json")
    )


def _key_order(key: str) -> tuple[int, str]:
    return (int(key[1:]) if key[1:].isdigit() else 1 << 30, key)


@router.get(
    "/campaigns",
    summary="Every campaign, newest first",
    security=SECURITY,
    responses={
        200: {"description": "The campaigns"},
        401: UNAUTHORIZED_RESPONSE,
        503: _error(SERVED),
    },
)
def list_campaigns() -> CampaignList:
    analyst_claims(router.current_event)
    now = datetime.now(UTC)
    try:
        found = state.campaigns().all(now)
    except NothingServed as exc:
        raise ServiceError(503, str(exc)) from None
    return CampaignList(campaigns=[_view(c, now) for c in found])


CampaignIdPath = Annotated[
    str,
    Path(description="A campaign id, as POST /campaigns answers it.", pattern=CAMPAIGN_ID_PATTERN),
]


@router.get(
    "/campaigns/<campaign_id>",
    summary="One campaign: its definition, status and frozen model version",
    security=SECURITY,
    responses={
        200: {"description": "The campaign"},
        400: _error(BAD_CAMPAIGN_ID),
        401: UNAUTHORIZED_RESPONSE,
        404: _error(NO_CAMPAIGN),
        503: _error(SERVED),
    },
)
def get_campaign(campaign_id: CampaignIdPath) -> CampaignView:
    analyst_claims(router.current_event)
    campaign = state.campaign(_checked_id(campaign_id))
    return _view(campaign, datetime.now(UTC))


@router.get(
    "/campaigns/<campaign_id>/uplift",
    summary="The campaign's latest uplift report (segmentation uplift writes it to the lake)",
    description="Per target segment key: conversion and spend per member in treatment and "
    "control over the window, the absolute and relative uplift with 95 % intervals and the "
    "users behind each figure. 404 before the first report.",
    security=SECURITY,
    responses={
        200: {"description": "The report"},
        400: _error(BAD_CAMPAIGN_ID),
        401: UNAUTHORIZED_RESPONSE,
        404: _error("No such campaign, or no report yet (run `segmentation uplift`)"),
        503: _error(SERVED),
    },
)
def campaign_uplift(campaign_id: CampaignIdPath) -> UpliftReport:
    analyst_claims(router.current_event)
    campaign = state.campaign(_checked_id(campaign_id))
    report = read_report(state.get_settings(), campaign.campaign_id, state.client())
    if report is None:
        raise ServiceError(
            404,
            f"no uplift report of {campaign.campaign_id} yet; run `segmentation uplift "
            f"--campaign {campaign.campaign_id}`",
        )
    return report
