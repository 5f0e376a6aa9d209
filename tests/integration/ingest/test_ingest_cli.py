"""The commands end to end: broker start/stop, produce a file, poll it into the lake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ingest_helpers import make_events, read_events, write_csv

from segmentation_local.cli import main
from segmentation_local.process import free_port, port_open

pytestmark = [pytest.mark.broker, pytest.mark.moto]


def test_produce_then_poll_commands(
    broker: str, topic: str, lake: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = make_events(300, seed=21)
    path = write_csv(tmp_path / "events.csv", events)
    common = ["--bootstrap", broker, "--topic", topic]
    assert main(["produce", *common, "--input", str(path), "--no-progress"]) == 0
    assert "sent 300 events" in capsys.readouterr().out
    assert main(["poll", *common, "--max-records", "300", "--idle-timeout", "5"]) == 0
    assert "handled 300 records" in capsys.readouterr().out
    assert {r["event_id"] for r in read_events(lake, "hot")} == {e["event_id"] for e in events}


def test_produce_refuses_a_missing_or_unknown_file(tmp_path: Path) -> None:
    assert main(["produce", "--bootstrap", "127.0.0.1:1", "--input", str(tmp_path / "x.csv")]) == 2
    (tmp_path / "x.txt").write_text("x")
    assert main(["produce", "--bootstrap", "127.0.0.1:1", "--input", str(tmp_path / "x.txt")]) == 2


def test_broker_start_status_stop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    args = ["--port", str(port), "--state-dir", str(tmp_path)]
    try:
        assert main(["broker", "start", *args]) == 0
        assert port_open(port)
        assert main(["broker", "status", *args]) == 0
        assert "created" in capsys.readouterr().out
    finally:
        assert main(["broker", "stop", *args]) == 0
    assert main(["broker", "status", *args]) == 1 and not port_open(port)
    assert not (tmp_path / "broker.pid").exists()


@pytest.mark.moto
def test_batch_ingest_command_uploads_and_ingests(
    lake: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = make_events(120, seed=22)
    path = write_csv(tmp_path / "history.csv", events)
    path.write_text(path.read_text() + "usr-x,not-a-time,play,\n")
    assert main(["batch-ingest", "--upload", str(path)]) == 0
    out = capsys.readouterr().out
    assert "processed, 120 rows ok, 1 rejected" in out
    assert len(read_events(lake, "raw")) == 120
    assert main(["batch-ingest"]) == 0
    assert "nothing to ingest" in capsys.readouterr().out
