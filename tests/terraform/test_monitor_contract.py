"""The Monitor task's two halves agree without a Terraform run: the alarms of
terraform/modules/monitoring watch metrics segmentation.monitoring sends, the thresholds the
deployment defines once default to Settings' (SEG_MONITOR_*), and the orchestration module lets
the function put metrics in the namespace the code uses. (The module tests check each alarm
against the variables; tests/terraform/test_local_apply.py checks the applied values.)"""

from __future__ import annotations

import re

from segmentation.config import Settings
from segmentation.monitoring import METRICS, NAMESPACE
from segmentation_local import terraform as tf

MODULES = tf.TERRAFORM_DIR / "modules"


def test_every_monitor_alarm_watches_a_metric_the_monitor_sends() -> None:
    main = (MODULES / "monitoring" / "main.tf").read_text()
    block = main[
        main.index("monitor_alarms = {") : main.index(
            'resource "aws_cloudwatch_metric_alarm" "monitor"'
        )
    ]
    alarmed = re.findall(r'metric\s*=\s*"(\w+)"', block)
    assert sorted(alarmed) == sorted(
        METRICS[k]
        for k in (
            "feature_psi_max",
            "segment_share_shift_max",
            "run_quarantine_rate",
            "segmented_users_change",
        )
    )


def test_the_thresholds_default_to_the_settings_defaults() -> None:
    variables = (MODULES / "deployment" / "variables.tf").read_text()
    start = variables.index('variable "monitor_thresholds"')
    block = variables[start : variables.index("\nvariable ", start)]
    defaults = {
        name: float(value)
        for name, value in re.findall(r"(\w+)\s*=\s*optional\(number,\s*([0-9.]+)\)", block)
    }
    fields = Settings.model_fields
    assert defaults == {
        name: fields[f"monitor_{name}"].default
        for name in ("psi_max", "share_shift_max", "quarantine_rate_max", "users_drop_max")
    }


def test_the_function_may_put_metrics_in_the_code_namespace() -> None:
    main = (MODULES / "orchestration" / "main.tf").read_text()
    assert re.search(rf'metrics_namespace\s*=\s*"{NAMESPACE}"', main)
    assert '"cloudwatch:namespace" = local.metrics_namespace' in main
    for setting in (
        "alert_topic_arn",
        "pipeline_name",
        "monitor_psi_max",
        "monitor_users_drop_max",
    ):
        assert f"SEG_{setting.upper()}" in main, setting
