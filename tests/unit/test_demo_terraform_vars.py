"""The one envs/local apply (make, demo, tests) deploys what the running stack uses (ports,
names, endpoint)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from segmentation.config import Settings
from segmentation_local.terraform import LOCAL_ENV as TF_LOCAL
from segmentation_local.terraform import local_variables


def _declared(env_dir: Path) -> set[str]:
    return set(re.findall(r'^variable "([^"]+)"', (env_dir / "variables.tf").read_text(), re.M))


def test_vars_carry_the_stack_settings() -> None:
    settings = Settings(
        aws_endpoint_url="http://127.0.0.1:41234",
        mlflow_tracking_uri="http://127.0.0.1:45678",
        lake_prefix="demo-lake",
        segments_table="demo-segments",
        ledger_table="demo-ledger",
        kafka_topic="demo-events",
    )
    values = local_variables(settings)
    assert values["aws_endpoint"] == "http://127.0.0.1:41234"
    # the deployed state machine passes this URI to the cluster step: a free port must reach it
    assert values["mlflow_tracking_uri"] == "http://127.0.0.1:45678"
    assert values["lake_prefix"] == "demo-lake"
    assert values["segments_table"] == "demo-segments"
    # the Glue jobs' --ledger_table and every SEG_LEDGER_TABLE name the stack's ledger
    assert values["ledger_table"] == "demo-ledger"
    assert values["kafka_topic"] == "demo-events"


def test_vars_are_declared_by_envs_local() -> None:
    names = set(local_variables(Settings()))
    assert names <= _declared(TF_LOCAL)


@pytest.mark.moto
def test_a_failed_apply_is_retried_once_on_an_emptied_emulator(
    moto_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    from segmentation.config import get_settings
    from segmentation_local import terraform as tf

    boto3.client("s3", endpoint_url=moto_env).create_bucket(Bucket="left-by-the-failed-apply")
    calls: list[str] = []

    def fake_run(args, log, timeout):  # the apply fails once, everything else works
        calls.append(args[0])
        return not (calls[-1] == "apply" and calls.count("apply") == 1)

    monkeypatch.setattr(tf, "package_artifacts", lambda build: calls.append("package"))
    monkeypatch.setattr(tf, "outputs", lambda state: {})
    monkeypatch.setattr(tf, "_run_logged", fake_run)
    tf.apply_local(get_settings(), tmp_path / "local.tfstate")
    assert calls == ["package", "init", "apply", "apply"]
    buckets = boto3.client("s3", endpoint_url=moto_env).list_buckets()["Buckets"]
    assert buckets == []  # the retry started from an empty emulator

    calls.clear()
    monkeypatch.setattr(tf, "_run_logged", lambda args, *a: args[0] != "apply")
    with pytest.raises(RuntimeError, match="apply.*failed"):
        tf.apply_local(get_settings(), tmp_path / "local.tfstate")
