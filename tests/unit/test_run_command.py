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
    code = main(["run", "--skip-validation", "--input", '{"k": 99}', "--report", str(report)])
    assert code == 1
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["status"] == "FAILED" and summary["error"] == "InvalidInput"
    states = [s["name"] for s in json.loads(report.read_text())["states"]]
    assert states[-1] == "InvalidKMeansParameters"


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--input", '{"k": 99}'], 'k: got 99, expected "auto" or an integer >= 2 and <= 50'),
        (["--input", '{"min_sample": 30}'], "unknown field(s) min_sample; expected some of"),
        (["--k", "51"], "k: got 51"),
        (["--window-days", "0"], "window_days: got 0, expected an integer >= 1 and <= 3650"),
        (["--snapshot-date", "2026-02-30"], 'snapshot_date: got "2026-02-30"'),
    ],
)
def test_bad_input_is_refused_before_the_execution_starts(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    named: str,
) -> None:
    """Local and --deployed runs check the input with the model first: exit 2, field named."""
    from segmentation_local.orchestration import local_runner

    def no_execution(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("no execution may start")

    monkeypatch.setattr(local_runner, "run_pipeline", no_execution)
    for deployed in ([], ["--deployed"]):
        assert main(["run", *argv, *deployed]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: InvalidInput: ") and named in err


def test_help_shows_the_models_defaults_and_bounds(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    # the values the deployed state machine applies (the old help said eps 1.0, min_samples 10)
    assert "DBSCAN core-point neighbours: an integer >= 2 and <= 10000 (default 24)" in text
    assert '"auto" or a number > 0 and <= 100 (default "auto")' in text
    assert '"auto" or an integer >= 2 and <= 50 (default "auto")' in text
    assert "an integer >= 1 and <= 3650 (default 90)" in text
