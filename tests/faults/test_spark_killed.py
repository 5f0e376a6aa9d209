"""Fault: the Spark JVM dies mid-clean and mid-cluster (issue 17).

The local run of the state machine is killed twice: in CleanEvents after this run's curated day
objects were PUT and before the ledger commit, and in ClusterUsers after the segment map was
written and before the model document. Each time the definition's retry (States.TaskFailed) runs
the step again on a new session. The run must end as an undisturbed run of the same data does:
the same users in the same segments, the same curated rows, no object left over or doubled.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from pipeline_stack import active_spark, ingest_landing, pipeline_settings

from segmentation.awsclients import client
from segmentation.config import Settings

pytestmark = [pytest.mark.slow, pytest.mark.spark, pytest.mark.moto]
USERS, DAYS = 150, 14


@pytest.fixture
def lake_env(moto_env: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Settings]:
    with pipeline_settings(monkeypatch, tmp_path, "seg-fault", "faults") as settings:
        yield settings


def _ingest(settings: Settings, dataset: Path) -> None:
    ingest_landing(
        settings, dataset / "events.parquet", "incoming/events.parquet", dataset / "catalog.parquet"
    )


def _kill_jvm_once(original: Any, kills: list[str], label: str) -> Any:
    """``original``, but the first call kills the local JVM (SIGKILL) before running it."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if label not in kills:
            kills.append(label)
            spark = active_spark()
            assert spark is not None, "no live session to kill"
            proc = spark.sparkContext._gateway.proc
            proc.kill()
            proc.wait()
        return original(*args, **kwargs)

    return wrapper


def _run(settings: Settings, payload: dict[str, Any]) -> dict[str, Any]:
    from segmentation.ledger import Ledger
    from segmentation.serving.lake_reader import iter_segment_map
    from segmentation_local.orchestration.asl import local_values
    from segmentation_local.orchestration.local_runner import LocalDispatcher, run_pipeline

    dispatcher = LocalDispatcher.from_values(settings, local_values(settings))
    result = run_pipeline(payload, settings, dispatcher=dispatcher, progress=False)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    version = result.output["model_version"]
    assignment, map_rows = {}, 0
    for batch in iter_segment_map(settings, version):
        for row in batch.to_pylist():
            assignment[row["user_anon_id"]] = (row["segment_id"], row.get("segment_key"))
            map_rows += 1
    s3 = client("s3", settings)
    curated = sorted(
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=settings.bucket("curated"))
        for o in page.get("Contents", [])
        if not o["Key"].startswith("_ledger/")
    )
    head = Ledger(client("dynamodb", settings), settings.ledger_table).head()
    assert head.manifest_uri is not None  # relative to the curated zone
    body = s3.get_object(Bucket=settings.bucket("curated"), Key=head.manifest_uri)["Body"]
    manifest = json.loads(body.read())
    rows = sum(p["rows"] for p in manifest["partitions"].values())
    return {
        "attempts": {s.name: s.attempts for s in result.states},
        "version": version,
        "assignment": assignment,
        # data objects; s3a's delete of a killed attempt's prefix leaves 0-byte directory markers
        # (keys ending in "/"), which no reader lists as data
        "curated_objects": len([k for k in curated if not k.endswith("/")]),
        "curated_keys": curated,
        "curated_days": len(manifest["partitions"]),
        "curated_rows": rows,
        "ledger_version": head.version,
        "segmented": len(assignment),
        "map_rows": map_rows,
    }


def test_a_run_whose_jvm_dies_mid_clean_and_mid_cluster_ends_like_an_undisturbed_one(
    lake_env: Settings, moto_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from segmentation.pipeline import clean, cluster_step
    from segmentation_local.bootstrap import provision
    from segmentation_local.synthetic.params import GenerateParams
    from segmentation_local.synthetic.service import generate_to

    settings = lake_env
    params = GenerateParams(users=USERS, days=DAYS, seed=5)
    generate_to(params, tmp_path / "data")
    payload = {"snapshot_date": params.end_date.isoformat(), "window_days": DAYS, "k": 3}

    provision(settings)
    sm = client("secretsmanager", settings)
    key = sm.get_secret_value(SecretId=settings.hmac_secret_name)["SecretString"]
    _ingest(settings, tmp_path / "data")
    undisturbed = _run(settings, payload)

    # the same data on an emptied emulator (same HMAC key, so the same pseudonyms), killed twice
    requests.post(f"{moto_env}/moto-api/reset", timeout=10)
    client("secretsmanager", settings).create_secret(
        Name=settings.hmac_secret_name, SecretString=key
    )
    provision(settings)
    _ingest(settings, tmp_path / "data")
    kills: list[str] = []
    # after the day files are written, before the ledger commit
    monkeypatch.setattr(clean, "output_counts", _kill_jvm_once(clean.output_counts, kills, "clean"))
    monkeypatch.setattr(
        cluster_step,
        "write_document",
        _kill_jvm_once(cluster_step.write_document, kills, "cluster"),
    )
    killed = _run(settings, payload)

    assert kills == ["clean", "cluster"]
    assert killed["attempts"]["CleanEvents"] == killed["attempts"]["ClusterUsers"] == 2
    assert undisturbed["attempts"]["CleanEvents"] == undisturbed["attempts"]["ClusterUsers"] == 1
    assert killed["assignment"] == undisturbed["assignment"]  # the same users, the same segments
    assert killed["segmented"] == undisturbed["segmented"] > 0
    assert killed["map_rows"] == killed["segmented"]  # no user twice in the published map
    # (the model version's name may differ: the killed cluster attempt had registered its model
    # in MLflow, so the retry's registry version is the next one)
    # the same data objects in curated: the killed attempt's day objects were removed by its retry
    for fact in ("curated_rows", "curated_days", "curated_objects", "ledger_version"):
        assert killed[fact] == undisturbed[fact], (fact, killed["curated_keys"])
