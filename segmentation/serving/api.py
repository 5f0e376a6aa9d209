"""The segment API: look a user's segment up by raw id, list segments, health.

Routes run on Powertools' APIGatewayRestResolver with pydantic response models (the OpenAPI spec
in docs/openapi.json is generated from them). The raw user id exists only inside
:func:`user_segment`: it is validated (the event contract's id rule,
:mod:`segmentation.serving.user_id`), HMAC'd with the ingest key and dropped — it is never
logged, stored or echoed, including in error messages.

Powertools' request validation is off: its only input would be that id, whose rule is the
contract's (400 with one message), so its 422 would be a second, undocumented answer to the same
fault. Responses are pydantic models built in the handlers, so they are valid by construction.
"""

from __future__ import annotations

import json
import logging
import re
from functools import cache
from typing import Annotated, Any
from urllib.parse import quote

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import (
    BadRequestError,
    NotFoundError,
    ServiceError,
)
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from botocore.exceptions import ConnectionError as StoreConnectionError
from botocore.exceptions import HTTPClientError
from pydantic import BaseModel, Field

from segmentation.campaign.model import BAD_CAMPAIGN_ID, CAMPAIGN_ID_PATTERN, Arm
from segmentation.config import Settings, get_settings
from segmentation.serving import campaigns, console
from segmentation.serving import user_id as id_rule
from segmentation.serving.access import (
    SECURITY,
    UNAUTHORIZED_RESPONSE,
    ApiError,
    ConsoleCORS,
    analyst_claims,
)
from segmentation.serving.reasons import sentences
from segmentation.serving.segment_item import SegmentItem
from segmentation.serving.store import NoCurrentVersion, SegmentStore

logger = Logger(child=True)  # the handler's service (POWERTOOLS_SERVICE_NAME)
# With POWERTOOLS_DEBUG=true, Powertools' router logs each path and route argument at DEBUG:
# both hold the raw user id, so its event handler package never logs below INFO.
logging.getLogger("aws_lambda_powertools.event_handler").setLevel(logging.INFO)

INVALID_ID = id_rule.INVALID_ID
#: The path parameter as the spec declares it; the handler enforces it with the contract's rule.
UserIdPath = Annotated[
    str,
    Path(
        description=id_rule.SPEC_DESCRIPTION,
        min_length=1,
        pattern=id_rule.SPEC_PATTERN,
        examples=[id_rule.EXAMPLE],
    ),
]
#: ``?campaign=``: the lookups answer the user's arm in that campaign too.
CampaignQuery = Annotated[
    str | None,
    Query(
        description="A campaign id (POST /campaigns): the answer adds the user's arm in it.",
        pattern=CAMPAIGN_ID_PATTERN,
        examples=["c-0123456789ab"],
    ),
]


SEGMENT_KEY = (
    "Durable key of the segment across model versions (S1, S2, ...; 'noise' for DBSCAN noise): "
    "bind campaigns to it, not to segment_id. Null for a version published without keys."
)


class Segment(BaseModel):
    """One segment of the current model."""

    segment_id: int = Field(description="Segment number within its model version.")
    segment_name: str = Field(description="Human-readable name derived from the profile.")
    size: int = Field(description="Users in the segment.")
    share: float = Field(description="Fraction of all segmented users (0..1).")
    summary: str = Field(description="One-sentence profile summary.")
    profile: dict[str, Any] = Field(description="Feature averages that characterise the segment.")
    recommended_actions: list[str] = Field(description="Marketing actions suggested for it.")
    segment_key: str | None = Field(description=SEGMENT_KEY)
    since: str | None = Field(
        description="The model version the segment's key first appeared in (null when unknown)."
    )
    previous_size: int | None = Field(
        description="Users of the key in the previous model version; null for a key new in this "
        "version, and when unknown."
    )
    provisional_users: int = Field(
        0,
        description="Users assigned to the segment provisionally since the version was built "
        "(new users, and users of the weekly fit whose segment their new events changed); not "
        "counted in size, which stays the weekly fit's.",
    )


class SegmentList(BaseModel):
    model_version: str = Field(description="The model version currently served.")
    published_at: str | None = Field(None, description="When that version was published (UTC).")
    users: int = Field(description="Users segmented in that version.")
    previous_model_version: str | None = Field(
        description="The version this one's segments were matched to (their keys and "
        "previous_size); null for a first version, and when unknown."
    )
    provisional_users: int = Field(
        0, description="Users assigned provisionally since the version was built (all segments)."
    )
    provisional_assigned_at: str | None = Field(
        None, description="When the provisional assignments were last made (UTC); null if never."
    )
    segments: list[Segment]


class UserSegment(BaseModel):
    """A user's segment. Deliberately carries no user identifier at all."""

    model_version: str
    segment_id: int
    segment_name: str
    summary: str
    profile: dict[str, Any]
    recommended_actions: list[str]
    segment_key: str | None = Field(description=SEGMENT_KEY)
    moved_since_previous: bool | None = Field(
        description="Whether the user's segment key differs from the one in the previous model "
        "version; null for a user new in this version, a first version, or when unknown."
    )
    reasons: list[str] = Field(
        default_factory=list,
        description="Why this user is in this segment: the two or three features that drive "
        "the assignment, as plain sentences with the user's own values and the average "
        "(empty for a version published without them).",
        examples=[["Spent 412.00 EUR in the window (average 57.30 EUR)."]],
    )
    provisional: bool = Field(
        False,
        description="True when the segment was assigned between weekly runs (a user new since "
        "the version was built, or one whose new events changed the segment), by the same "
        "version's model; the next weekly version replaces it. False: the weekly fit's.",
    )
    assigned_at: str | None = Field(
        None,
        description="When this assignment was made (UTC): the provisional run's time, or the "
        "publish time of the weekly version.",
    )
    arm: Arm | None = Field(
        None,
        description="With ?campaign=ID: the user's arm in that campaign (treatment or control, "
        "the same on every call); null for a user outside its target (not in a target segment "
        "of the version the campaign is frozen to), and without ?campaign.",
    )


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": ApiError}}}


class Health(BaseModel):
    status: str = Field(description="'ok' when the segments table answers.")
    model_version: str | None = Field(description="Current model version, null before a publish.")


class _State:
    """Per-process (warm Lambda) dependencies, created on first use and replaceable in tests."""

    settings: Settings | None = None
    store: SegmentStore | None = None
    anonymiser: Any = None

    def reset(self, settings: Settings | None = None) -> None:
        self.settings, self.store, self.anonymiser = settings, None, None

    def get_settings(self) -> Settings:
        if self.settings is None:
            self.settings = get_settings()
        return self.settings

    def get_store(self) -> SegmentStore:
        if self.store is None:
            self.store = SegmentStore(self.get_settings())
        return self.store

    def anon(self, user_id: str) -> str:
        from segmentation.anonymise import load_anonymiser

        # load_anonymiser caches the secret for hmac_secret_max_age, so a rotated key is
        # picked up without a cold start.
        return load_anonymiser(self.get_settings()).anon(user_id)


state = _State()
# debug off whatever POWERTOOLS_DEV says: in debug mode the resolver prints every event, and
# the event's path holds the raw user id
app = APIGatewayRestResolver(enable_validation=False, debug=False, cors=ConsoleCORS())
console.register(app)  # the web console's routes (uploads, runs, models, contract)


def _segment(item: SegmentItem, provisional: int = 0) -> Segment:
    return Segment(
        segment_id=item.segment_id,
        segment_name=item.segment_name,
        size=item.size,
        share=item.share,
        summary=item.summary,
        profile=item.profile,
        recommended_actions=item.actions,
        segment_key=item.segment_key,
        since=item.since,
        previous_size=item.previous_size,
        provisional_users=provisional,
    )


def _current() -> dict[str, Any]:
    try:
        return state.get_store().current()
    except NoCurrentVersion:
        raise ServiceError(503, "no segments published yet; run the pipeline first") from None


@app.get(
    "/users/<user_id>/segment",
    summary="The segment of one user",
    description="The raw user id is HMAC'd with the ingest key inside the API; it is never "
    "stored, logged or returned. A user active since the version was built carries the "
    "segment the between-run assignment gave (provisional: true). 400 if the id breaks the "
    "contract's rule, 404 if the user is not in the current model version. With ?campaign=ID "
    "the answer adds the user's arm in that campaign (400 for a malformed id, 404 for an "
    "unknown campaign).",
    responses={
        200: {"description": "The user's segment"},
        400: _error(f"{INVALID_ID}; or {BAD_CAMPAIGN_ID}"),
        404: _error("The user is not in the current model version, or no such campaign"),
        503: _error("Nothing published yet, or the segment store does not answer"),
    },
)
def user_segment(user_id: UserIdPath, campaign: CampaignQuery = None) -> UserSegment:
    # API Gateway's decoded parameter, not the router's match (see resolve)
    raw = (app.current_event.path_parameters or {}).get("user_id", user_id)
    try:
        raw = id_rule.normalise(raw)
    except id_rule.InvalidUserId:
        raise BadRequestError(INVALID_ID) from None
    anon = state.anon(raw)
    del raw, user_id
    pointer = _current()
    found = state.get_store().user_segment(anon)
    if found is None:
        logger.info("lookup", extra={"found": False})
        # ServiceError, not NotFoundError: that one is the router's (see _no_route)
        raise ServiceError(404, "user not found in the current model version")
    version, item, profile = found
    provisional = bool(item.get("provisional", False))
    logger.info(
        "lookup", extra={"found": True, "model_version": version, "provisional": provisional}
    )
    # the query as API Gateway passed it (with validation off the router does not)
    asked = app.current_event.get_query_string_value("campaign")
    arm = campaigns.arm_for(asked, anon, state.get_store()) if asked is not None else None
    name = item.get("segment_name") or (profile.segment_name if profile else "")
    return UserSegment(
        model_version=version,
        segment_id=int(item["segment_id"]),
        segment_name=str(name),
        summary=profile.summary if profile else "",
        profile=profile.profile if profile else {},
        recommended_actions=profile.actions if profile else [],
        segment_key=item.get("segment_key") or (profile.segment_key if profile else None),
        moved_since_previous=item.get("moved_since_previous"),
        reasons=sentences(item.get("reasons")),
        provisional=provisional,
        assigned_at=item.get("assigned_at") if provisional else pointer.get("published_at"),
        arm=arm,
    )


@app.get(
    "/segments",
    summary="Every segment of the current model version",
    description="Sizes, profiles, names and recommended actions of each segment.",
    responses={
        200: {"description": "The segments"},
        503: _error("Nothing published yet, or the segment store does not answer"),
    },
)
def list_segments() -> SegmentList:
    pointer = _current()
    version = pointer["model_version"]
    store = state.get_store()
    segments = store.segments(version)
    summary = store.provisional_summary(version) or {}
    counts = {int(k): int(v) for k, v in (summary.get("by_segment") or {}).items()}
    return SegmentList(
        model_version=version,
        published_at=pointer.get("published_at"),
        users=int(pointer.get("users", 0)),
        previous_model_version=pointer.get("previous_model_version"),
        provisional_users=sum(counts.get(k, 0) for k in segments),
        provisional_assigned_at=summary.get("assigned_at"),
        segments=[_segment(segments[k], counts.get(k, 0)) for k in sorted(segments)],
    )


# The console's doors to the same two answers: behind the analysts' Cognito authorizer instead
# of the API key, which a page cannot hold (its config.json is public). Same bodies, same rules.


@app.get(
    "/lookups/<user_id>",
    summary="The segment of one user, for a signed-in analyst (the console's lookup box)",
    description="As GET /users/{user_id}/segment, behind the analysts' authorizer: the raw id is "
    "HMAC'd inside the API and never stored, logged or returned.",
    security=SECURITY,
    responses={
        200: {"description": "The user's segment"},
        400: _error(f"{INVALID_ID}; or {BAD_CAMPAIGN_ID}"),
        401: UNAUTHORIZED_RESPONSE,
        404: _error("The user is not in the current model version, or no such campaign"),
        503: _error("Nothing published yet, or the segment store does not answer"),
    },
)
def console_lookup(user_id: UserIdPath, campaign: CampaignQuery = None) -> UserSegment:
    analyst_claims(app.current_event)
    return user_segment(user_id, campaign)


@app.get(
    "/served",
    summary="Every segment of the version served now, for a signed-in analyst (the console)",
    description="As GET /segments, behind the analysts' authorizer.",
    security=SECURITY,
    responses={
        200: {"description": "The segments"},
        401: UNAUTHORIZED_RESPONSE,
        503: _error("Nothing published yet, or the segment store does not answer"),
    },
)
def console_served() -> SegmentList:
    analyst_claims(app.current_event)
    return list_segments()


@app.route(
    "/health",
    method=["GET", "HEAD"],
    summary="Liveness and the model version served",
    description="HEAD answers as GET does (status, headers), without a body.",
    responses={
        200: {
            "description": "The table answers",
            "content": {"application/json": {"model": Health}},
        },
        503: {
            "description": "The table does not answer",
            "content": {"application/json": {"model": Health}},
        },
    },
)
def health() -> Response[Health]:
    try:
        pointer = state.get_store().current(refresh=True)
        version: str | None = pointer["model_version"]
    except NoCurrentVersion:
        version = None
    except Exception as exc:  # the table is unreachable: unhealthy, say why (no user data here)
        logger.warning("health check failed", extra={"error": type(exc).__name__})
        return _health_answer(503, Health(status="unavailable", model_version=None))
    return _health_answer(200, Health(status="ok", model_version=version))


def _health_answer(status: int, health: Health) -> Response[Health]:
    # The Lambda leaves HEAD's body out itself, so API Gateway and the local adapter relay the
    # same answer (neither has to know HEAD).
    head = app.current_event.http_method.upper() == "HEAD"
    return Response(
        status,
        body="" if head else health.model_dump(),
        content_type="application/json",
    )


@app.exception_handler([StoreConnectionError, HTTPClientError])
def _store_unreachable(exc: Exception) -> Response[ApiError]:
    """503 while the segment store does not answer (a paused or unreachable table: the client's
    short timeouts end the wait), not the 502 of an unhandled error: the caller may retry, and
    nothing about the request was wrong. The log names the error class, never the request."""
    logger.warning("segment store unreachable", extra={"error": type(exc).__name__})
    return Response(
        503,
        content_type="application/json",
        body=ApiError(
            statusCode=503, message="The segment store does not answer; retry"
        ).model_dump(),
        headers={"Retry-After": "5"},
    )


@app.not_found
def _no_route(exc: NotFoundError) -> Response[ApiError]:
    """404 for a path that is no route; 405 with ``Allow`` for a route asked with a method it
    does not have (HTTP's answer, which clients and schemathesis expect)."""
    resource = app.current_event.raw_event.get("resource") or ""
    allowed = _methods_by_resource().get(resource)
    if allowed:
        return Response(
            405,
            content_type="application/json",
            body=ApiError(statusCode=405, message="Method not allowed").model_dump(),
            headers={"Allow": ", ".join(allowed)},
        )
    return Response(
        404,
        content_type="application/json",
        body=ApiError(statusCode=404, message="Not found").model_dump(),
    )


@cache
def _methods_by_resource() -> dict[str, list[str]]:
    # The spec lists every route and method once; API Gateway names a resource the same way.
    paths = json.loads(openapi_json())["paths"]
    return {path: sorted(m.upper() for m in item) for path, item in paths.items()}


def openapi_json() -> str:
    """The OpenAPI document of this API (committed as docs/openapi.json)."""
    from segmentation import __version__

    spec = json.loads(
        app.get_openapi_json_schema(
            title="segmentation segment API",
            version=__version__,
            description="Customer segments of the video-on-demand platform, by user.",
            security_schemes=console.SECURITY_SCHEMES,
        )
    )
    return json.dumps(console.document(_without_unused_schemas(spec)), indent=2)


def _without_unused_schemas(spec: dict[str, Any]) -> dict[str, Any]:
    # Powertools lists its 422 body schemas (HTTPValidationError...) even with validation off;
    # a schema no answer uses would read as a promise of that answer.
    schemas = spec.get("components", {}).get("schemas", {})
    text = json.dumps(spec.get("paths", {}))
    used: set[str] = set()
    pending = set(re.findall(r"#/components/schemas/([^\"]+)", text))
    while pending:
        name = pending.pop()
        if name in used or name not in schemas:
            continue
        used.add(name)
        pending |= set(re.findall(r"#/components/schemas/([^\"]+)", json.dumps(schemas[name])))
    spec["components"]["schemas"] = {k: v for k, v in schemas.items() if k in used}
    return spec


_PARAM = re.compile(r"\{(\w+)\}")


def routable(event: dict[str, Any]) -> dict[str, Any]:
    """The event with a ``path`` Powertools can route whatever characters the id holds.

    API Gateway has already matched the resource (``/users/{user_id}/segment``) and decoded its
    parameters; Powertools matches ``path`` again with a narrower character set, so an id with a
    TAB, an NBSP, a ``/`` or a ``?`` fell through to its 404 while a space reached the id rule.
    Routing on the resource with each parameter percent-encoded gives every id to the rule.
    The handlers read the decoded ``pathParameters``, never the router's match.
    """
    resource = event.get("resource") or ""
    params = event.get("pathParameters") or {}
    if "+}" in resource or not _PARAM.search(resource):
        return event
    if any(name not in params for name in _PARAM.findall(resource)):
        return event
    path = _PARAM.sub(lambda m: quote(str(params[m.group(1)]), safe=""), resource)
    return {**event, "path": path}


def resolve(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(routable(event), context)
