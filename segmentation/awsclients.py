"""boto3 clients that honour the configured endpoint (moto server locally, real AWS otherwise).

Every module that talks to AWS takes its clients from here, so pointing the whole system at moto
is one setting (``SEG_AWS_ENDPOINT_URL`` or the SDK's ``AWS_ENDPOINT_URL``) and never a code path.
One service can be sent elsewhere (``SEG_AWS_SERVICE_ENDPOINTS``, or the SDK's
``AWS_ENDPOINT_URL_<SERVICE>``): the LocalStack test keeps DynamoDB on moto that way, because
LocalStack's DynamoDB fetches a jar at first use.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from segmentation.config import Settings, get_settings


def client(service: str, settings: Settings | None = None, **config: Any) -> Any:
    """A boto3 client for ``service`` in the configured region, on that service's endpoint
    (:meth:`Settings.service_endpoint`).

    S3 uses path-style addressing when an endpoint is set: moto and LocalStack listen on one
    host, where virtual-hosted bucket names would not resolve.
    """
    settings = settings or get_settings()
    endpoint = settings.service_endpoint(service)
    options: dict[str, Any] = {"retries": {"max_attempts": 3, "mode": "standard"}, **config}
    if endpoint and service == "s3":
        options.setdefault("s3", {"addressing_style": "path"})
    return boto3.client(
        service,
        region_name=settings.aws_region,
        endpoint_url=endpoint,
        config=Config(**options),
    )


_CLIENTS: dict[tuple[str, str, str | None], Any] = {}


def cached_client(service: str, settings: Settings | None = None) -> Any:
    """A client reused across warm invocations, keyed by region and endpoint.

    Lambdas keep clients between invocations to save the connection set-up; keying by endpoint
    (not a module global) means a process that is re-pointed at another endpoint — a test's own
    moto server, or the demo's — never talks to a server that is gone.
    """
    settings = settings or get_settings()
    key = (service, settings.aws_region, settings.service_endpoint(service))
    if key not in _CLIENTS:
        _CLIENTS[key] = client(service, settings)
    return _CLIENTS[key]


def store_client(settings: Settings | None = None) -> Any:
    """The DynamoDB client of the API's stores (segments, campaigns).

    A store that stops answering must cost a lookup seconds (health says 503), not botocore's
    default 60 s per attempt: 3 attempts of at most 2 + 5 s stay well inside API Gateway's
    29 s integration timeout."""
    return client(
        "dynamodb",
        settings,
        connect_timeout=2,
        read_timeout=5,
        retries={"max_attempts": 3, "mode": "standard"},
    )


def ensure_table(client: Any, name: str, keys: tuple[str, ...], ttl: str | None = None) -> bool:
    """Create a pay-per-request DynamoDB table of string ``keys`` (hash, then range) when it is
    missing; True if it was created.

    For tests and a local stack without ``terraform apply`` (segments, ledger and campaigns
    tables, as Terraform defines them); on AWS Terraform owns the tables."""
    try:
        client.describe_table(TableName=name)
        return False
    except client.exceptions.ResourceNotFoundException:
        pass
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys],
        KeySchema=[
            {"AttributeName": k, "KeyType": kind}
            for k, kind in zip(keys, ("HASH", "RANGE"), strict=False)
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=name)
    if ttl:
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl}
        )
    return True
