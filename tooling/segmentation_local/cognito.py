"""The analysts' Cognito user pool, locally (moto) or on AWS, and the local token check.

On AWS Terraform creates the pool and the console's app client, and API Gateway's Cognito
authorizer verifies tokens. Locally :func:`ensure_pool` finds the same-named pool and client on
moto (created by terraform/envs/local) or creates them, and :class:`TokenVerifier` does what the
authorizer does: the ID token's signature against the pool's published keys (moto serves them at
``/<pool id>/.well-known/jwks.json``, as Cognito does at its issuer), its issuer, audience (the
console's client), ``token_use`` and expiry. So an unsigned or forged call to a console route is
refused locally by a real check, not by a flag.
"""

from __future__ import annotations

import json
import secrets
import string
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

from segmentation.config import Settings, get_settings

POOL_NAME = "segmentation-analysts"
CLIENT_NAME = "segmentation-console"
#: The console signs in with USER_PASSWORD_AUTH (moto has no hosted UI; no SRP client in JS).
AUTH_FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


@dataclass(frozen=True)
class Pool:
    user_pool_id: str
    client_id: str
    region: str

    @property
    def issuer(self) -> str:
        """The ``iss`` of the pool's tokens (Cognito's, and moto's)."""
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"


def _client(settings: Settings) -> Any:
    from segmentation.awsclients import client

    return client("cognito-idp", settings)


def find_pool(settings: Settings | None = None) -> Pool | None:
    """The analysts' pool and the console's client, when they exist."""
    settings = settings or get_settings()
    idp = _client(settings)
    pools = [
        p["Id"]
        for page in idp.get_paginator("list_user_pools").paginate(MaxResults=60)
        for p in page["UserPools"]
        if p["Name"] == POOL_NAME
    ]
    if not pools:
        return None
    clients = idp.list_user_pool_clients(UserPoolId=pools[0], MaxResults=60)["UserPoolClients"]
    ids = [c["ClientId"] for c in clients if c["ClientName"] == CLIENT_NAME]
    if not ids:
        return None
    return Pool(pools[0], ids[0], settings.aws_region)


def ensure_pool(settings: Settings | None = None) -> Pool:
    """The analysts' pool and client, created when missing (only on a local endpoint: on AWS
    they are Terraform's)."""
    settings = settings or get_settings()
    found = find_pool(settings)
    if found is not None:
        return found
    if not settings.endpoint_url:
        raise FileNotFoundError(
            f"no Cognito user pool {POOL_NAME!r} with a client {CLIENT_NAME!r}; apply "
            "terraform/envs/aws first"
        )
    idp = _client(settings)
    pools = [
        p["Id"]
        for page in idp.get_paginator("list_user_pools").paginate(MaxResults=60)
        for p in page["UserPools"]
        if p["Name"] == POOL_NAME
    ]
    pool_id = (
        pools[0]
        if pools
        else idp.create_user_pool(
            PoolName=POOL_NAME,
            UsernameAttributes=["email"],
            AutoVerifiedAttributes=["email"],
            AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        )["UserPool"]["Id"]
    )
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=CLIENT_NAME,
        GenerateSecret=False,
        ExplicitAuthFlows=AUTH_FLOWS,
    )["UserPoolClient"]["ClientId"]
    return Pool(pool_id, client_id, settings.aws_region)


def one_time_password() -> str:
    """A temporary password meeting Cognito's default policy (upper, lower, digit, symbol)."""
    alphabet = string.ascii_letters + string.digits
    body = "".join(secrets.choice(alphabet) for _ in range(12))
    return "T" + body + "a7!"


def add_analyst(email: str, settings: Settings | None = None) -> str:
    """Create an analyst (Cognito user named by ``email``) and return the one-time password
    the analyst changes at first sign-in (the console asks for the new one)."""
    settings = settings or get_settings()
    pool = ensure_pool(settings)
    password = one_time_password()
    _client(settings).admin_create_user(
        UserPoolId=pool.user_pool_id,
        Username=email,
        TemporaryPassword=password,
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
        ],
    )
    return password


class InvalidToken(Exception):
    """The token is missing, malformed, forged, expired or not the console's ID token."""


class TokenVerifier:
    """API Gateway's Cognito authorizer, locally: claims of a valid ID token, else
    :class:`InvalidToken`. The pool's keys are fetched once and again on an unknown ``kid``."""

    def __init__(self, pool: Pool, endpoint: str, leeway: int = 0) -> None:
        self.pool = pool
        self.jwks_url = f"{endpoint.rstrip('/')}/{pool.user_pool_id}/.well-known/jwks.json"
        self.leeway = leeway
        self._keys: Any = None
        self._lock = threading.Lock()

    def _key_set(self, refresh: bool = False) -> Any:
        from joserfc.jwk import KeySet

        with self._lock:
            if self._keys is None or refresh:
                with urllib.request.urlopen(self.jwks_url, timeout=10) as resp:
                    self._keys = KeySet.import_key_set(json.loads(resp.read()))
            return self._keys

    def claims(self, authorization: str | None) -> dict[str, Any]:
        from joserfc import jwt
        from joserfc.errors import JoseError

        if not authorization:
            raise InvalidToken("no token")
        token = authorization.removeprefix("Bearer ").strip()
        try:
            try:
                decoded = jwt.decode(token, self._key_set(), algorithms=["RS256"])
            except JoseError:
                decoded = jwt.decode(token, self._key_set(refresh=True), algorithms=["RS256"])
            registry = jwt.JWTClaimsRegistry(
                now=int(time.time()),
                leeway=self.leeway,
                iss={"essential": True, "value": self.pool.issuer},
                aud={"essential": True, "value": self.pool.client_id},
                token_use={"essential": True, "value": "id"},
                exp={"essential": True},
                sub={"essential": True},
            )
            registry.validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise InvalidToken(type(exc).__name__) from None
        return dict(decoded.claims)
