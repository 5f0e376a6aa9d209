"""``segmentation generate`` and the interim ``segmentation demo``: files, summary, bad flags."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from segmentation_local.cli import main


def test_generate_writes_the_data_set_and_prints_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "data"
    argv = ["generate", "--users", "150", "--days", "30", "--seed", "5", "--out", str(out)]
    assert main([*argv, "--late-events", "0.2", "--end-date", "2026-06-30"]) == 0
    text = capsys.readouterr().out
    for word in ("users 150", "events", "personas", "binge_watcher", "defects", "events/s"):
        assert word in text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["parameters"]["days"] == 30 and summary["seed"] == 5
    assert summary["parameters"]["defects"]["late_events"] == 0.2
    assert summary["parameters"]["defects"]["exact_duplicates"] == 0.01
    assert summary["window"]["end_exclusive"] == "2026-07-01T00:00:00Z"
    assert pq.read_metadata(out / "events.parquet").num_rows == summary["counts"]["events"]


def test_no_defects_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "clean"
    assert main(["generate", "--users", "100", "--no-defects", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert all(v["total"] == 0 for v in summary["defects"].values())
    assert json.loads((out / "malformed_lines.json").read_text())["lines"] == []


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--users", "0"], "--users"),
        (["--exact-duplicates", "0.9"], "--exact-duplicates"),
        (["--days", "3"], "--days"),
    ],
)
def test_bad_parameters_exit_2_naming_the_flag(
    flags: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "--out", str(tmp_path), *flags]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "summary.json").exists()


def test_generate_requires_out(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["generate", "--users", "10"])
    assert exc.value.code == 2
