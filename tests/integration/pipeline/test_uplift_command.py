"""`segmentation uplift` end to end on the moto lake: a published version whose segments are the
generated users' personas, a campaign defined through the API, a batch generated with a known
effect on the campaign's treatment arm (`generate --continue --campaign`), cleaned into curated,
then the report: through the lake, MLflow and the console's route, its intervals hold the truth
(a fixed seed, a fixed arm key and campaign id: deterministic)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import mlflow
import pyarrow.parquet as pq
import pytest
from lakedata import TEST_KEY, write_events

from segmentation import anonymise
from segmentation.awsclients import client
from segmentation.campaign import store as campaign_store
from segmentation.config import Settings, get_settings
from segmentation.pipeline.steps import run_clean
from segmentation.serving import campaigns
from segmentation.serving.publish import publish
from segmentation_local.cli import main

pytestmark = [pytest.mark.spark, pytest.mark.moto, pytest.mark.slow]
# the serving tests' helpers (a published version, a signed-in analyst)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ARM_KEY = bytes(range(64, 96))
CAMPAIGN = "c-00000000ca11"
#: persona -> segment id of the published version (serving_data.KEYS: 0 S1, 1 S2, 2 S3)
PERSONA_SEGMENT = {"weekend_casual": 0, "searcher_browser": 1}


@pytest.fixture
def stack(lake: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    """The lake's settings as every command reads them, with the keys in Secrets Manager (the
    lake helpers' anonymisation key, a fixed arm key) and MLflow in a local file."""
    from serving_data import make_stack

    monkeypatch.setenv("SEG_LAKE_PREFIX", lake.lake_prefix)
    monkeypatch.setenv("SEG_MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.setenv("SEG_MLFLOW_EXPERIMENT", "uplift")
    get_settings.cache_clear()
    settings = get_settings()
    make_stack(settings)
    campaign_store.ensure_table(client("dynamodb", settings), settings)
    sm = client("secretsmanager", settings)
    sm.create_secret(Name=settings.hmac_secret_name, SecretString=TEST_KEY.hex())
    sm.create_secret(Name=settings.campaign_secret_name, SecretString=ARM_KEY.hex())
    # an earlier test's key for the same secret name and endpoint may still be cached
    anonymise._PROVIDERS.clear()
    mlflow.MlflowClient(settings.mlflow_tracking_uri).create_experiment(
        "uplift", artifact_location=str(tmp_path / "art")
    )
    return settings


def test_the_uplift_report_holds_the_generated_truth(
    stack: Settings, spark, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from serving_data import write_version
    from test_console_api import call, sign_in

    from segmentation.anonymise import Anonymiser
    from segmentation_local.console import LocalConsole

    root, batch = tmp_path / "root", tmp_path / "batch"
    gen = ["generate", "--users", "2500", "--days", "28", "--seed", "21", "--no-defects"]
    assert main([*gen, "--out", str(root)]) == 0
    labels = pq.read_table(root / "labels.parquet").to_pandas()
    placed = {
        u: PERSONA_SEGMENT.get(p, 2) for u, p in zip(labels.user_id, labels.persona, strict=True)
    }
    write_version(
        stack, "v1", len(labels), anonymiser=Anonymiser(TEST_KEY),
        custom_ids=list(labels.user_id), placed=placed,
    )  # fmt: skip
    publish("v1", stack)

    monkeypatch.setattr(campaigns, "new_campaign_id", lambda: CAMPAIGN)
    body = {
        "name": "Autumn push",
        "segment_keys": ["S1", "S2"],
        "holdout": 0.5,
        "start": "2026-10-01T00:00:00Z",
        "end": "2026-10-15T00:00:00Z",
    }
    with LocalConsole(tmp_path / "console", stack) as local:
        token = sign_in(stack)
        status, created, _ = call(local.api.url + "/campaigns", "POST", body, token=token)
        assert status == 201 and created["model_version"] == "v1", created
        assert created["campaign_id"] == CAMPAIGN and created["status"] == "ended"
        capsys.readouterr()

        cont = ["generate", "--continue", str(root), "--days", "14", "--no-defects"]
        effect = ["--campaign", CAMPAIGN, "--effect", "S1=0.25", "--campaign-seed", "3"]
        assert main([*cont, *effect, "--out", str(batch)]) == 0
        truth = json.loads((batch / "summary.json").read_text())["campaign"]["truth"]
        assert set(truth) == {"S1", "S2"} and truth["S1"]["converted_by_campaign"] > 0

        events = pq.read_table(batch / "events.parquet").to_pandas()
        write_events(stack, "raw", events)
        clean = {"lake_prefix": stack.lake_prefix, "snapshot_date": "2026-10-14", "run_id": "u0"}
        run_clean(clean, spark)
        capsys.readouterr()

        assert main(["uplift", "--campaign", CAMPAIGN, "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["model_version"] == "v1" and report["curated_days"] == 14
        rows = {r["segment_key"]: r for r in report["segments"]}
        for key in ("S1", "S2"):
            row, true = rows[key], truth[key]
            assert (row["users_treatment"], row["users_control"]) == (
                true["treatment"],
                true["control"],
            )
            conv, spend = row["conversion"], row["spend"]
            assert conv["absolute_low"] <= true["conversion_uplift"] <= conv["absolute_high"], key
            assert spend["absolute_low"] <= true["spend_uplift"] <= spend["absolute_high"], key
        assert rows["S1"]["conversion"]["absolute_low"] > 0  # the effect is found
        assert (
            rows["S2"]["conversion"]["absolute_low"]
            <= 0
            <= rows["S2"]["conversion"]["absolute_high"]
        )
        # the console's route answers the report the command wrote to the lake
        status, shown, _ = call(f"{local.api.url}/campaigns/{CAMPAIGN}/uplift", token=token)
        assert status == 200 and shown == report

    # readable text, and one MLflow run per report
    assert main(["uplift", "--campaign", CAMPAIGN]) == 0
    text = capsys.readouterr().out
    assert "conversion (share of members" in text and "S1" in text and "95 % CI" in text
    assert f"segments/uplift/campaign_id={CAMPAIGN}/report.json" in text
    runs = mlflow.MlflowClient(stack.mlflow_tracking_uri).search_runs(
        [mlflow.get_experiment_by_name("uplift").experiment_id],
        filter_string=f"tags.campaign_id = '{CAMPAIGN}'",
    )
    assert len(runs) == 2 and runs[0].data.tags["model_version"] == "v1"
    assert "S1_conversion_uplift_low" in runs[0].data.metrics
    assert main(["uplift", "--campaign", "c-000000000000"]) == 2
    assert "no campaign 'c-000000000000'" in capsys.readouterr().err
