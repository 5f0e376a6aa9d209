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
