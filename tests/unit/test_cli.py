"""The CLI: subcommands are discovered, bad input exits 2 with a message and no traceback."""

from __future__ import annotations

import pytest

from segmentation_local.cli import build_parser, main


def test_schema_and_config_commands_print(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    out = capsys.readouterr().out
    assert "user_id" in out and "event_type" in out and "EUR" in out
    assert main(["config"]) == 0
    assert "SEG_LAKE_PREFIX=" in capsys.readouterr().out


def test_unknown_command_is_refused() -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["nope"])
    assert exc.value.code == 2


def test_settings_reject_bad_values(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from segmentation.config import Settings

    monkeypatch.setenv("SEG_FEATURE_WINDOW_DAYS", "0")
    with pytest.raises(ValidationError, match="feature_window_days"):
        Settings()
    monkeypatch.delenv("SEG_FEATURE_WINDOW_DAYS")
    with pytest.raises(ValueError, match="unknown lake zone 'gold'"):
        Settings().bucket("gold")
    assert Settings().zone_uri("curated", "events", "dt=2026-01-01") == (
        "s3://segmentation-local-curated/events/dt=2026-01-01"
    )
