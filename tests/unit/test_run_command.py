"""`segmentation run`: the execution input it builds, and its exit status from a real execution
of the definition (tasks scripted; the Spark steps are tested in the pipeline's own tests)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from segmentation_local.cli import build_parser, main
from segmentation_local.commands.run import execution_input


def parse(*argv: str) -> Any:
    return build_parser().parse_args(["run", *argv])


def test_only_given_options_reach_the_input() -> None:
    assert execution_input(parse()) == {}
    assert execution_input(parse("--k", "5", "--window-days", "30")) == {"k": 5, "window_days": 30}
    assert execution_input(parse("--k", "auto", "--algorithm", "dbscan", "--eps", "1.5")) == {
        "k": "auto",
        "algorithm": "dbscan",
        "eps": 1.5,
    }


def test_input_json_and_file(tmp_path: Path) -> None:
    f = tmp_path / "in.json"
    f.write_text(json.dumps({"algorithm": "dbscan", "min_samples": 30}))
    assert execution_input(parse("--input", f"@{f}", "--min-samples", "40")) == {
        "algorithm": "dbscan",
        "min_samples": 40,
    }
    with pytest.raises(ValueError, match="JSON object"):
        execution_input(parse("--input", "[1]"))


def test_bad_input_fails_with_the_definitions_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad parameters stop at the definition's Choice states: exit 1, InvalidInput, no task."""
    from segmentation_local.orchestration import local_runner

    def no_tasks(self: Any, resource: str, params: Any, context: Any) -> Any:
        raise AssertionError(f"no task may run, got {resource}")

    monkeypatch.setattr(local_runner.LocalDispatcher, "__call__", no_tasks)
    report = tmp_path / "report.json"
    code = main(["run", "--input", '{"k": 99}', "--report", str(report)])
    assert code == 1
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["status"] == "FAILED" and summary["error"] == "InvalidInput"
    states = [s["name"] for s in json.loads(report.read_text())["states"]]
    assert states[-1] == "InvalidKMeansParameters"
