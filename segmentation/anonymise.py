"""Keyed pseudonymisation of user ids.

A plain hash of a user id is reversible by enumeration (ids are a small, guessable space), so the
id is replaced by HMAC-SHA256 under a secret key that only the ingest and API Lambdas can read.
The same key gives the same pseudonym across runs and services, which is what lets segments be
looked up by raw id at the API without the raw id ever being stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from typing import Any

from segmentation.config import Settings, get_settings

MIN_KEY_BYTES = 32


class Anonymiser:
    """Maps raw user ids to stable pseudonyms (64 hex chars) under one secret key."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes | bytearray) or len(key) < MIN_KEY_BYTES:
            raise ValueError(
                f"HMAC key must be at least {MIN_KEY_BYTES} bytes; generate one with "
                "`segmentation keygen` or secrets.token_bytes(32)"
            )
        self._key = bytes(key)

    def __repr__(self) -> str:  # never print the key
        return "Anonymiser(key=<hidden>)"

    def anon(self, user_id: str) -> str:
        return hmac.new(self._key, user_id.encode("utf-8"), hashlib.sha256).hexdigest()

    def anon_many(self, user_ids: Iterable[str]) -> list[str]:
        """Batch form; reuses one keyed state so a 10k batch avoids re-keying per id."""
        base = hmac.new(self._key, digestmod=hashlib.sha256)
        out = []
        for uid in user_ids:
            h = base.copy()
            h.update(uid.encode("utf-8"))
            out.append(h.hexdigest())
        return out


def new_key() -> bytes:
    """A fresh random key, for bootstrapping the secret in a new environment."""
    return secrets.token_bytes(MIN_KEY_BYTES)


def key_from_secret(secret: str) -> bytes:
    """Decode the secret's stored form (hex) into key bytes, with a clear error otherwise."""
    try:
        key = bytes.fromhex(secret.strip())
    except ValueError:
        raise ValueError("HMAC secret must be hex-encoded bytes (64 hex characters)") from None
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"HMAC secret too short: {len(key)} bytes, expected >= {MIN_KEY_BYTES}")
    return key


# --- the key's home: Secrets Manager ------------------------------------------------------------
# The key is read through Powertools' SecretsProvider, whose in-memory cache (max_age =
# Settings.hmac_secret_max_age) keeps a warm Lambda from calling Secrets Manager per invocation
# while still picking up a rotated key within minutes. ``parameters.get_secret`` is the same call
# on a default provider whose client cannot be pointed at moto; one provider per endpoint is kept
# here instead so the local stack reads the same secret from moto server.

_PROVIDERS: dict[tuple[str | None, str], Any] = {}


def _provider(settings: Settings) -> Any:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from segmentation.awsclients import client

    cache_key = (settings.service_endpoint("secretsmanager"), settings.aws_region)
    if cache_key not in _PROVIDERS:
        _PROVIDERS[cache_key] = SecretsProvider(boto3_client=client("secretsmanager", settings))
    return _PROVIDERS[cache_key]


class KeyNotFoundError(RuntimeError):
    """The HMAC secret does not exist yet; ``segmentation keygen`` creates it."""


def load_key(
    settings: Settings, secret_name: str, force_fetch: bool = False, create_hint: str = ""
) -> bytes:
    """The key bytes of a hex secret (cached for ``hmac_secret_max_age``), or
    :class:`KeyNotFoundError` naming the command that creates it."""
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        secret = _provider(settings).get(
            secret_name, max_age=settings.hmac_secret_max_age, force_fetch=force_fetch
        )
    except GetParameterError as exc:
        if "ResourceNotFound" in str(exc):
            raise KeyNotFoundError(
                f"secret {secret_name!r} not found; create it with "
                f"`{create_hint or 'segmentation keygen'}`"
            ) from None
        raise
    if isinstance(secret, bytes):
        secret = secret.decode("ascii", "replace")
    return key_from_secret(str(secret))


def load_anonymiser(settings: Settings | None = None, force_fetch: bool = False) -> Anonymiser:
    """The anonymiser under the environment's key (Secrets Manager ``hmac_secret_name``).

    The ingest Lambdas and the segment API both call this, so an id HMAC'd at ingest and the
    same id HMAC'd at lookup give the same pseudonym.
    """
    settings = settings or get_settings()
    return Anonymiser(load_key(settings, settings.hmac_secret_name, force_fetch))


def _has_value(sm: Any, name: str) -> bool:
    try:
        sm.get_secret_value(SecretId=name)
    except sm.exceptions.ResourceNotFoundException:  # a secret with no version yet
        return False
    return True


def store_key(
    settings: Settings | None = None,
    rotate: bool = False,
    secret_name: str | None = None,
    description: str = "HMAC-SHA256 key that pseudonymises user ids (segmentation).",
) -> str:
    """Create the secret with a fresh key, or (``rotate``) put a new version; returns the action.

    Rotating changes every pseudonym, so segments computed under the old key no longer match new
    events: it is refused unless asked for explicitly. The key itself is never returned.
    ``secret_name`` (default: the anonymisation key's) names another key of the same form, e.g.
    the campaigns' arm key.
    """
    from segmentation.awsclients import client

    settings = settings or get_settings()
    sm = client("secretsmanager", settings)
    name = secret_name or settings.hmac_secret_name
    try:
        sm.describe_secret(SecretId=name)
        exists = True
    except sm.exceptions.ResourceNotFoundException:
        exists = False
    # Terraform creates the secret resource only (the key must never sit in its state); the
    # first keygen gives it its value.
    has_value = exists and _has_value(sm, name)
    if has_value and not rotate:
        return "exists"
    value = new_key().hex()
    if exists:
        sm.put_secret_value(SecretId=name, SecretString=value)
        action = "rotated" if has_value else "created"
    else:
        sm.create_secret(Name=name, SecretString=value, Description=description)
        action = "created"
    _PROVIDERS.clear()  # the next load must not serve the old key from cache
    return action
