"""The clean step keeps Athena's view in step with the ledger: after each commit the catalog's
curated.events partitions are the committed days, at the committed versions' locations."""

from __future__ import annotations

import uuid

import pytest

from segmentation.awsclients import client
from segmentation.config import Settings
from segmentation.lake import LakePaths
from segmentation.ledger import Manifest
from segmentation.pipeline.curated import glue_names, partition_rel, sync_glue_partitions

pytestmark = pytest.mark.moto


def _locations(glue, database: str, table: str) -> dict[str, str]:
    pages = glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=table)
    return {
        p["Values"][0]: p["StorageDescriptor"]["Location"]
        for page in pages
        for p in page["Partitions"]
    }


def test_partitions_follow_each_commit(moto_env: str) -> None:
    settings = Settings(aws_endpoint_url=moto_env, lake_prefix=f"g{uuid.uuid4().hex[:8]}")
    paths = LakePaths(settings)
    glue = client("glue", settings)
    database, table = glue_names(paths)
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_table(
        DatabaseName=database,
        TableInput={
            "Name": table,
            "PartitionKeys": [{"Name": "event_date", "Type": "string"}],
            "StorageDescriptor": {
                "Columns": [{"Name": "event_id", "Type": "string"}],
                "Location": paths.events("curated") + "/",
            },
        },
    )

    def manifest(version: int, days: dict[str, str]) -> Manifest:
        parts = {d: {"location": partition_rel(d, label), "rows": 1} for d, label in days.items()}
        return Manifest(version=version, partitions=parts)

    def uri(day: str, label: str) -> str:
        return f"{paths.events('curated')}/{partition_rel(day, label)}/"

    sync_glue_partitions(paths, manifest(1, {"2026-09-01": "v1", "2026-09-02": "v1"}))
    assert _locations(glue, database, table) == {
        "2026-09-01": uri("2026-09-01", "v1"),
        "2026-09-02": uri("2026-09-02", "v1"),
    }
    # the next commit rewrote 09-02, added 09-03 and dropped 09-01 (retention)
    sync_glue_partitions(paths, manifest(2, {"2026-09-02": "v2", "2026-09-03": "v2"}))
    assert _locations(glue, database, table) == {
        "2026-09-02": uri("2026-09-02", "v2"),
        "2026-09-03": uri("2026-09-03", "v2"),
    }
    # idempotent: the same commit again changes nothing
    sync_glue_partitions(paths, manifest(2, {"2026-09-02": "v2", "2026-09-03": "v2"}))
    assert len(_locations(glue, database, table)) == 2
