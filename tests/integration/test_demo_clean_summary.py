"""The demo reads what the execution's clean step did from the lake: the run's quality report
and the committed ledger manifest (the state's output holds only the Glue job run id)."""

from __future__ import annotations

import json

import pytest

from segmentation.awsclients import client
from segmentation.config import get_settings
from segmentation.lake import LakePaths
from segmentation.ledger import Ledger, Manifest, ensure_table
from segmentation_local.demo import clean_summary

pytestmark = pytest.mark.moto


def _execution(run_id: str, clean_s: float) -> dict:
    return {
        "output": {"run_id": run_id, "steps": {"clean": {"job_run_id": "jr_local_x"}}},
        "states": [
            {"name": "ValidateInput", "type": "Task", "duration_s": 0.4},
            {"name": "CleanEvents", "type": "Task", "duration_s": clean_s},
        ],
    }


def test_clean_summary_reads_the_report_and_the_manifest(moto_env: str) -> None:
    settings = get_settings()
    s3, ddb = client("s3", settings), client("dynamodb", settings)
    s3.create_bucket(Bucket=settings.bucket("curated"))
    ensure_table(ddb, settings)
    report = {
        "rows_in": 1200,
        "new_rows_out": 1100,
        "objects_new": 3,
        "quarantined": {"unknown_event_type": 4, "negative_amount": 1},
        "duplicates": {"exact": 5, "event_id": 2, "against_history": 7},
        "days_written": ["2026-09-01", "2026-09-02"],
        "rebuild": False,
        "version": 2,
    }
    bucket, _, key = (
        LakePaths(settings).quality_report("run-2").removeprefix("s3://").partition("/")
    )
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(report).encode())
    manifest = Manifest(
        version=2,
        run_id="run-2",
        objects={"raw/a": "1", "raw/b": "2", "hot/c": "3", "hot/d": "4", "raw/e": "5"},
        partitions={"2026-09-01": {"location": "x", "rows": 600}, "2026-09-02": {"rows": 900}},
    )
    # the head the run started from (version 1), then the run's own commit
    previous = Manifest(version=1, run_id="run-1", objects={"raw/a": "1", "raw/b": "2"})
    for m in (previous, manifest):
        rel = f"_ledger/manifest-{m.version:06d}-{m.run_id}.json"
        s3.put_object(Bucket=settings.bucket("curated"), Key=rel, Body=m.to_json().encode())
    Ledger(ddb, settings.ledger_table).commit(0, 2, rel, "run-2")

    summary = clean_summary(settings, _execution("run-2", 12.5))
    assert summary == {
        "run_id": "run-2",
        "seconds": 12.5,
        "noop": False,
        "rebuild": False,
        "rows_in": 1200,
        "new_rows": 1100,
        "objects_new": 3,
        "quarantined": 5,
        "against_history": 7,
        "days_written": 2,
        "objects_before": 2,
        "version": 2,
        "curated_rows": 1500,
        "curated_days": 2,
        "objects_cleaned": 5,
    }
    # a run with nothing new writes no report: the manifest still says what curated holds
    noop = clean_summary(settings, _execution("run-3", 1.5))
    assert noop["noop"] and noop["version"] == 2 and noop["curated_rows"] == 1500
