"""Terraform creates the HMAC secret without a value; `segmentation keygen` must then write it."""

from __future__ import annotations

import boto3
import pytest

pytestmark = pytest.mark.moto


def test_keygen_fills_the_secret_terraform_created(moto_env: str) -> None:
    from segmentation.anonymise import key_from_secret, store_key
    from segmentation.config import get_settings

    settings = get_settings()
    sm = boto3.client("secretsmanager", endpoint_url=moto_env, region_name="us-east-1")
    sm.create_secret(Name=settings.hmac_secret_name, Description="created by terraform")
    with pytest.raises(sm.exceptions.ResourceNotFoundException):
        sm.get_secret_value(SecretId=settings.hmac_secret_name)

    assert store_key(settings) == "created"
    first = sm.get_secret_value(SecretId=settings.hmac_secret_name)["SecretString"]
    assert len(key_from_secret(first)) == 32
    assert store_key(settings) == "exists"  # a second run keeps the key (pseudonyms stay stable)
    assert sm.get_secret_value(SecretId=settings.hmac_secret_name)["SecretString"] == first
