"""The cluster step matches its segments to the *published* version (the API's pointer), not to
a newer version the drift gate held; before anything is published, the newest document."""

from __future__ import annotations

import time
from datetime import date

import boto3
import pytest

from segmentation.ingest.lakewrite import split_s3_uri
from segmentation.lake import LakePaths
from segmentation.model_document import ModelDocument
from segmentation.pipeline.segment_history import previous_document
from segmentation.serving.table import CURRENT_KEY

pytestmark = [pytest.mark.spark, pytest.mark.moto]


def _document(version: str) -> ModelDocument:
    segment = {
        "segment_id": 0,
        "name": "binge watcher",
        "why": "long sessions",
        "size": 10,
        "share": 1.0,
        "means": {"monetary": 1.0},
        "z_scores": {"monetary": 0.0},
        "distinguishing": [],
        "actions": [],
        "segment_key": "S1",
        "since": version,
    }
    return ModelDocument(
        model_version=version,
        algorithm="kmeans",
        snapshot_date=date(2026, 9, 30),
        pipeline_run_id=f"run-{version}",
        mlflow_run_id="",
        registered_model=None,
        n_users=10,
        params={"algorithm": "kmeans"},
        metrics={},
        k_sweep=[],
        eps_sweep=[],
        features=[{"name": "monetary", "group": "RFM", "unit": "EUR", "definition": "sum"}],
        segments=[segment],
        scaler={"mean": {"monetary": 1.0}, "std": {"monetary": 1.0}},
        next_key=2,
    )


def test_the_previous_version_is_the_published_one(lake, spark) -> None:
    settings = lake.model_copy(update={"segments_table": f"{lake.lake_prefix}-segments"})
    paths = LakePaths(settings)
    s3 = boto3.client("s3", endpoint_url=settings.endpoint_url, region_name=settings.aws_region)
    for version in ("m-v1", "m-v2"):  # v2 written last: the newest
        bucket, key = split_s3_uri(paths.profiles(version))
        s3.put_object(Bucket=bucket, Key=key, Body=_document(version).to_json().encode())
        time.sleep(1.1)  # modification times a second apart
    # no table, nothing published: the newest document
    assert previous_document(spark, paths, exclude="m-v3").model_version == "m-v2"
    ddb = boto3.client(
        "dynamodb", endpoint_url=settings.endpoint_url, region_name=settings.aws_region
    )
    ddb.create_table(
        TableName=settings.segments_table,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    assert previous_document(spark, paths, exclude="m-v3").model_version == "m-v2"
    # v1 is published, v2 was held by the drift gate: the next run is matched to v1
    item = {k: {"S": v} for k, v in CURRENT_KEY.items()} | {"model_version": {"S": "m-v1"}}
    ddb.put_item(TableName=settings.segments_table, Item=item)
    assert previous_document(spark, paths, exclude="m-v3").model_version == "m-v1"
    # the run being written is never its own predecessor
    assert previous_document(spark, paths, exclude="m-v1").model_version == "m-v2"
