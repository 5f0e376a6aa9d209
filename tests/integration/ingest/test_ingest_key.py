"""The HMAC key lives in Secrets Manager (moto), is created once, cached, and never printed."""

from __future__ import annotations

from typing import Any

import pytest

from segmentation.anonymise import KeyNotFoundError, load_anonymiser, store_key
from segmentation.awsclients import client
from segmentation_local.cli import main

pytestmark = pytest.mark.moto


def test_keygen_creates_once_and_the_key_is_stable(
    moto_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from segmentation.config import get_settings

    settings = get_settings()
    with pytest.raises(KeyNotFoundError, match="segmentation keygen"):
        load_anonymiser(settings, force_fetch=True)
    assert main(["keygen"]) == 0
    assert main(["keygen"]) == 0
    out = capsys.readouterr().out
    assert "created" in out and "already exists; kept it" in out
    secret = client("secretsmanager", settings).get_secret_value(
        SecretId=settings.hmac_secret_name
    )["SecretString"]
    assert secret not in out and len(bytes.fromhex(secret)) == 32

    first = load_anonymiser(settings).anon("usr-1")
    assert load_anonymiser(settings).anon("usr-1") == first  # cached or not, the same key
    assert load_anonymiser(settings, force_fetch=True).anon("usr-1") == first


def test_rotation_is_explicit_and_changes_pseudonyms(moto_env: str) -> None:
    from segmentation.config import get_settings

    settings = get_settings()
    assert store_key(settings) == "created"
    before = load_anonymiser(settings).anon("usr-1")
    assert store_key(settings) == "exists"
    assert load_anonymiser(settings).anon("usr-1") == before
    assert store_key(settings, rotate=True) == "rotated"
    assert load_anonymiser(settings).anon("usr-1") != before


def test_a_cached_key_is_served_without_calling_secrets_manager(
    moto_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from segmentation.config import get_settings

    settings = get_settings()
    store_key(settings)
    anon = load_anonymiser(settings)
    # Delete the secret behind the cache's back: within max_age the warm Lambda keeps working.
    client("secretsmanager", settings).delete_secret(
        SecretId=settings.hmac_secret_name, ForceDeleteWithoutRecovery=True
    )
    assert load_anonymiser(settings).anon("x") == anon.anon("x")
    with pytest.raises(Exception, match="ResourceNotFound|not found"):
        load_anonymiser(settings, force_fetch=True)


def test_the_handler_refuses_to_run_without_a_key(moto_env: str, ingest_module: Any) -> None:
    from segmentation.anonymise import _PROVIDERS
    from segmentation.ingest.kafka import build_event
    from segmentation_local.lambda_context import LocalContext

    _PROVIDERS.clear()
    event = build_event([("t", 0, 0, None, b"k", b"{}")], bootstrap="b")
    with pytest.raises(KeyNotFoundError):
        ingest_module.handler(event, LocalContext("ingest"))


def test_keygen_fills_a_secret_created_without_a_value(moto_env: str) -> None:
    from segmentation.config import get_settings

    settings = get_settings()
    client("secretsmanager", settings).create_secret(Name=settings.hmac_secret_name)
    with pytest.raises(Exception, match="ResourceNotFound|not found|AWSCURRENT"):
        load_anonymiser(settings, force_fetch=True)
    assert store_key(settings) == "created"
    assert len(load_anonymiser(settings).anon("u")) == 64
