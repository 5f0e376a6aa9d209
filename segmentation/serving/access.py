"""Who may call the console's routes, and from which origin.

On AWS an API Gateway Cognito authorizer stands in front of the console routes (uploads, runs,
models) and passes the verified token's claims in ``requestContext.authorizer.claims``; locally
the API Gateway adapter verifies the token against the moto pool's keys and passes them the same
way. The routes still check that claims arrived, so a route wired without its authorizer (a
Terraform slip, a local adapter that forgot it) refuses the call instead of serving it.

CORS is limited to the console's origin (``SEG_CONSOLE_ORIGIN``), read when a request is
answered rather than when the module is imported, so a warm Lambda and the local server (which
learns the console's port only once it has bound it) both use the configured value.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import CORSConfig
from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn
from pydantic import BaseModel

from segmentation.config import get_settings

#: The OpenAPI security scheme of the console routes (an API Gateway Cognito authorizer).
SECURITY_SCHEME = "analyst"
SECURITY = [{SECURITY_SCHEME: []}]
SECURITY_SCHEMES: dict[str, Any] = {
    SECURITY_SCHEME: APIKey(
        name="Authorization",
        in_=APIKeyIn.header,
        description="A signed-in analyst's Cognito ID token (InitiateAuth USER_PASSWORD_AUTH), "
        "verified by API Gateway's Cognito authorizer.",
    )
}
UNAUTHORIZED = "sign in first: this route needs an analyst's token"


class ApiError(BaseModel):
    """The body of every error response; it never repeats the id that was asked for."""

    statusCode: int  # Powertools names the field so
    message: str


class GatewayError(BaseModel):
    """API Gateway's own answer (its authorizer's 401), before any handler runs."""

    message: str


#: The 401 of a console route: the authorizer's refusal (API Gateway's body), or the route's
#: own when claims are missing (an ApiError).
UNAUTHORIZED_RESPONSE: dict[str, Any] = {
    "description": "No valid analyst token: API Gateway's authorizer answers "
    '{"message": "Unauthorized"}',
    "content": {"application/json": {"model": GatewayError | ApiError}},
}


def error_response(description: str) -> dict[str, Any]:
    """An OpenAPI response entry whose body is an :class:`ApiError`."""
    return {"description": description, "content": {"application/json": {"model": ApiError}}}


class ConsoleCORS(CORSConfig):
    """Powertools' CORS headers for exactly one origin, the console's, looked up per request.

    No origin configured means no cross-origin caller at all (no CORS headers are sent)."""

    def __init__(self) -> None:
        super().__init__(allow_origin="", allow_headers=["Authorization", "Content-Type"])

    @property  # type: ignore[override]
    def _allowed_origins(self) -> list[str]:
        origin = get_settings().console_origin
        return [origin.rstrip("/")] if origin else []

    @_allowed_origins.setter
    def _allowed_origins(self, value: list[str]) -> None:
        # CORSConfig.__init__ assigns the constructor's origins; the settings' one wins.
        pass


def analyst_claims(event: Any) -> dict[str, Any]:
    """The authorizer's claims of the signed-in analyst, or 401.

    Only the presence of a subject is checked here: the token's signature, issuer, audience and
    expiry are the authorizer's to verify (API Gateway, or the local adapter)."""
    context = event.raw_event.get("requestContext") or {}
    claims = (context.get("authorizer") or {}).get("claims") or {}
    if not claims.get("sub"):
        raise UnauthorizedError(UNAUTHORIZED)
    return dict(claims)
