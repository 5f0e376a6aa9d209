"""The demo's Terraform apply deploys what the running stack uses (ports, names, endpoint)."""

from __future__ import annotations

import re
from pathlib import Path

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
