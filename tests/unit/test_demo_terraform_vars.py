"""The demo's Terraform apply deploys what the running stack uses (ports, names, endpoint)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from segmentation.config import Settings
from segmentation.demo import TF_LOCAL, terraform_vars


def _declared(env_dir: Path) -> set[str]:
    return set(re.findall(r'^variable "([^"]+)"', (env_dir / "variables.tf").read_text(), re.M))


def test_vars_carry_the_stack_settings() -> None:
    settings = Settings(
        aws_endpoint_url="http://127.0.0.1:41234",
        mlflow_tracking_uri="http://127.0.0.1:45678",
        lake_prefix="demo-lake",
        segments_table="demo-segments",
        kafka_topic="demo-events",
    )
    values = dict(v.removeprefix("-var=").split("=", 1) for v in terraform_vars(settings))
    assert values["aws_endpoint"] == "http://127.0.0.1:41234"
    # the deployed state machine passes this URI to the cluster step: a free port must reach it
    assert values["mlflow_tracking_uri"] == "http://127.0.0.1:45678"
    assert values["lake_prefix"] == "demo-lake"
    assert values["segments_table"] == "demo-segments"
    assert values["kafka_topic"] == "demo-events"


def test_vars_are_declared_by_envs_local() -> None:
    names = {v.removeprefix("-var=").split("=", 1)[0] for v in terraform_vars(Settings())}
    assert names <= _declared(TF_LOCAL)


@pytest.mark.moto
def test_a_failed_apply_is_retried_once_on_an_emptied_emulator(
    moto_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    from segmentation import demo
    from segmentation.config import get_settings

    boto3.client("s3", endpoint_url=moto_env).create_bucket(Bucket="left-by-the-failed-apply")
    calls: list[str] = []

    def fake_run(argv, env, out, log, timeout):  # the apply fails once, everything else works
        calls.append(argv[2] if argv[0] == "terraform" else "package")
        return not (calls[-1] == "apply" and calls.count("apply") == 1)

    monkeypatch.setattr(demo, "_run_logged", fake_run)
    demo.terraform_apply(get_settings(), tmp_path, lambda _: None)
    assert calls == ["package", "init", "apply", "apply"]
    buckets = boto3.client("s3", endpoint_url=moto_env).list_buckets()["Buckets"]
    assert buckets == []  # the retry started from an empty emulator

    calls.clear()
    monkeypatch.setattr(demo, "_run_logged", lambda argv, *a: argv[2] != "apply")
    with pytest.raises(RuntimeError, match="apply.*failed"):
        demo.terraform_apply(get_settings(), tmp_path, lambda _: None)
