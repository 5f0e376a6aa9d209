"""Local Lambda invocations behave like a warm sandbox whose metrics go nowhere."""

from __future__ import annotations

from pathlib import Path

import pytest

HANDLER = """
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

metrics = Metrics(namespace="Test", service="probe")


@metrics.log_metrics
def handler(event, context):
    metrics.add_metric(name="Calls", unit=MetricUnit.Count, value=1)
    return event["n"]
"""


def test_disabled_metrics_never_print_in_a_warm_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from segmentation_local import lambdas

    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "handler.py").write_text(HANDLER)
    monkeypatch.setattr(lambdas, "LAMBDAS_DIR", tmp_path)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.delitem(__import__("sys").modules, "lambda_probe_handler", raising=False)
    handler = lambdas.load_handler("probe")
    # Powertools auto-publishes at 100 values of one metric, even when disabled, unless the
    # values are cleared between invocations
    assert [handler({"n": i}, None) for i in range(250)] == list(range(250))
    assert '"_aws"' not in capsys.readouterr().out
