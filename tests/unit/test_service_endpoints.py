"""Per-service endpoints in the one client factory: a service can be sent to another emulator
(DynamoDB on moto, the rest on LocalStack) while every other client keeps the common endpoint."""

from __future__ import annotations

import json

import pytest

from segmentation.awsclients import cached_client, client
from segmentation.config import Settings

MOTO = "http://127.0.0.1:5999"
LOCALSTACK = "http://127.0.0.1:4999"


@pytest.fixture(autouse=True)
def _no_sdk_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SECRETS_MANAGER"):
        monkeypatch.delenv(var, raising=False)


def test_a_service_override_wins_over_the_common_endpoint(monkeypatch) -> None:
    monkeypatch.setenv("SEG_AWS_ENDPOINT_URL", LOCALSTACK)
    monkeypatch.setenv("SEG_AWS_SERVICE_ENDPOINTS", json.dumps({"dynamodb": MOTO}))
    settings = Settings()
    assert settings.service_endpoint("dynamodb") == MOTO
    assert settings.service_endpoint("s3") == LOCALSTACK
    assert client("dynamodb", settings).meta.endpoint_url == MOTO
    assert client("s3", settings).meta.endpoint_url == LOCALSTACK
    assert client("stepfunctions", settings).meta.endpoint_url == LOCALSTACK
    # warm clients are keyed by the service's own endpoint, not the common one
    assert cached_client("dynamodb", settings).meta.endpoint_url == MOTO


def test_the_sdk_per_service_variable_is_honoured(monkeypatch) -> None:
    """boto3 reads AWS_ENDPOINT_URL_<SERVICE_ID> only when no endpoint_url is passed; the factory
    always passes one, so it resolves the variable itself (service id, not the client name)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", MOTO)
    settings = Settings(aws_endpoint_url=LOCALSTACK)
    assert client("secretsmanager", settings).meta.endpoint_url == MOTO
    assert client("sns", settings).meta.endpoint_url == LOCALSTACK
    # the project's own setting is more specific than the SDK's variable
    both = Settings(aws_endpoint_url=LOCALSTACK, aws_service_endpoints={"secretsmanager": "x"})
    assert both.service_endpoint("secretsmanager") == "x"


def test_without_overrides_every_service_uses_the_common_endpoint(monkeypatch) -> None:
    monkeypatch.delenv("SEG_AWS_SERVICE_ENDPOINTS", raising=False)
    settings = Settings(aws_endpoint_url=MOTO)
    for service in ("s3", "dynamodb", "sns", "sqs", "secretsmanager", "stepfunctions", "glue"):
        assert settings.service_endpoint(service) == MOTO
    assert Settings(aws_endpoint_url=None).service_endpoint("s3") is None


def test_spark_and_the_lake_reader_follow_the_s3_endpoint() -> None:
    from segmentation.serving.lake_reader import s3_filesystem
    from segmentation.spark import local_conf

    settings = Settings(aws_endpoint_url=MOTO, aws_service_endpoints={"s3": LOCALSTACK})
    assert local_conf(settings)["spark.hadoop.fs.s3a.endpoint"] == LOCALSTACK
    assert s3_filesystem(settings).__reduce__()[1][0]["endpoint_override"] == "127.0.0.1:4999"
