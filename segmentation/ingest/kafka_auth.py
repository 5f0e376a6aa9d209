"""Client settings for the Kafka clients (producer, poller): plaintext locally, IAM on MSK.

MSK with IAM access control takes SASL/OAUTHBEARER over TLS, where the bearer token is a SigV4
presigned URL made from the caller's AWS credentials (aws-msk-iam-sasl-signer-python). librdkafka
calls ``oauth_cb`` whenever the token nears expiry, so long-running clients keep authenticating.
"""

from __future__ import annotations

from typing import Any


def msk_iam_token(region: str) -> tuple[str, float]:
    """(token, expiry as epoch seconds), the pair librdkafka's ``oauth_cb`` must return."""
    from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

    token, expiry_ms = MSKAuthTokenProvider.generate_auth_token(region)
    return token, expiry_ms / 1000.0


def client_config(bootstrap: str, iam: bool = False, region: str = "us-east-1") -> dict[str, Any]:
    """confluent-kafka settings shared by producer and consumer."""
    config: dict[str, Any] = {"bootstrap.servers": bootstrap}
    if iam:
        config.update(
            {
                "security.protocol": "SASL_SSL",
                "sasl.mechanisms": "OAUTHBEARER",
                "oauth_cb": lambda _config: msk_iam_token(region),
            }
        )
    return config
