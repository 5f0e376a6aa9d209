"""The segment API: look a user's segment up by raw id, list segments, health.

Routes run on Powertools' APIGatewayRestResolver with pydantic response models (the OpenAPI spec
in docs/openapi.json is generated from them). The raw user id exists only inside
:func:`user_segment`: it is validated (the event contract's id rule), HMAC'd with the ingest key
and dropped — it is never logged, stored or echoed, including in error messages.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import (
    BadRequestError,
    NotFoundError,
    ServiceError,
)
from pydantic import BaseModel, Field, StringConstraints, TypeAdapter, ValidationError

from segmentation.config import Settings, get_settings
from segmentation.contract import ID_MAX_LEN
from segmentation.serving.segment_item import SegmentItem
from segmentation.serving.store import NoCurrentVersion, SegmentStore

logger = Logger(child=True)  # the handler's service (POWERTOOLS_SERVICE_NAME)

#: The contract's id rule (stripped, then 1-128 non-whitespace characters), so a lookup id is
#: normalised exactly as ingest normalised it before HMAC'ing.
UserId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=ID_MAX_LEN, pattern=r"^\S+$"),
]
_USER_ID = TypeAdapter(UserId)
INVALID_ID = f"user_id must be 1-{ID_MAX_LEN} non-whitespace characters"


class Segment(BaseModel):
    """One segment of the current model."""

    segment_id: int = Field(description="Segment number within its model version.")
    segment_name: str = Field(description="Human-readable name derived from the profile.")
    size: int = Field(description="Users in the segment.")
    share: float = Field(description="Fraction of all segmented users (0..1).")
    summary: str = Field(description="One-sentence profile summary.")
    profile: dict[str, Any] = Field(description="Feature averages that characterise the segment.")
    recommended_actions: list[str] = Field(description="Marketing actions suggested for it.")


class SegmentList(BaseModel):
    model_version: str = Field(description="The model version currently served.")
    published_at: str | None = Field(None, description="When that version was published (UTC).")
    users: int = Field(description="Users segmented in that version.")
    segments: list[Segment]


class UserSegment(BaseModel):
    """A user's segment. Deliberately carries no user identifier at all."""

    model_version: str
    segment_id: int
    segment_name: str
    summary: str
    profile: dict[str, Any]
    recommended_actions: list[str]


class ApiError(BaseModel):
    """The body of every error response; it never repeats the id that was asked for."""

    statusCode: int  # Powertools names the field so
    message: str


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
app = APIGatewayRestResolver(enable_validation=True, debug=False)


def _segment(item: SegmentItem) -> Segment:
    return Segment(
        segment_id=item.segment_id,
        segment_name=item.segment_name,
        size=item.size,
        share=item.share,
        summary=item.summary,
        profile=item.profile,
        recommended_actions=item.actions,
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
    "stored, logged or returned. 400 if the id breaks the contract's rule, 404 if the user is "
    "not in the current model version.",
    responses={
        200: {"description": "The user's segment"},
        400: _error(INVALID_ID),
        404: _error("The user is not in the current model version"),
        503: _error("Nothing published yet"),
    },
)
def user_segment(user_id: str) -> UserSegment:
    raw = (app.current_event.path_parameters or {}).get("user_id", user_id)
    try:
        raw = _USER_ID.validate_python(raw)
    except ValidationError:
        raise BadRequestError(INVALID_ID) from None
    anon = state.anon(raw)
    del raw, user_id
    _current()
    found = state.get_store().user_segment(anon)
    if found is None:
        logger.info("lookup", extra={"found": False})
        raise NotFoundError("user not found in the current model version")
    version, item, profile = found
    logger.info("lookup", extra={"found": True, "model_version": version})
    name = item.get("segment_name") or (profile.segment_name if profile else "")
    return UserSegment(
        model_version=version,
        segment_id=int(item["segment_id"]),
        segment_name=str(name),
        summary=profile.summary if profile else "",
        profile=profile.profile if profile else {},
        recommended_actions=profile.actions if profile else [],
    )


@app.get(
    "/segments",
    summary="Every segment of the current model version",
    description="Sizes, profiles, names and recommended actions of each segment.",
    responses={
        200: {"description": "The segments"},
        503: _error("Nothing published yet"),
    },
)
def list_segments() -> SegmentList:
    pointer = _current()
    version = pointer["model_version"]
    segments = state.get_store().segments(version)
    return SegmentList(
        model_version=version,
        published_at=pointer.get("published_at"),
        users=int(pointer.get("users", 0)),
        segments=[_segment(segments[k]) for k in sorted(segments)],
    )


@app.get(
    "/health",
    summary="Liveness and the model version served",
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
        return Response(
            503,
            body=Health(status="unavailable", model_version=None).model_dump(),
            content_type="application/json",
        )
    return Response(
        200,
        body=Health(status="ok", model_version=version).model_dump(),
        content_type="application/json",
    )


def openapi_json() -> str:
    """The OpenAPI document of this API (committed as docs/openapi.json)."""
    from segmentation import __version__

    return app.get_openapi_json_schema(
        title="segmentation segment API",
        version=__version__,
        description="Customer segments of the video-on-demand platform, by user.",
    )


def resolve(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
