"""The console's Run view in headless Chromium with scripted task outcomes (no Spark, seconds):
a failed run's error shown in words, state by state; a second Start while a run is running gets
the API's 409 and the page follows the running one instead."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_console import ARTIFACTS, signed_in_tab

from segmentation.config import Settings, get_settings
from segmentation_local.orchestration.local_runner import run_pipeline

pytestmark = [pytest.mark.moto, pytest.mark.browser]
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "unit"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from serving_data import make_stack  # noqa: E402
from test_state_machine import Script  # noqa: E402

EMAIL = "runner@example.com"
PASSWORD = "Scr1pted-Runs!pw"


class Runner:
    """The real definition with scripted outcomes (clean fails every attempt); each run
    waits for ``release``."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def __call__(self, execution_input: dict[str, Any], name: str, on_state: Any) -> Any:
        self.release.wait(30)
        failures = {"unit-clean": ["States.TaskFailed"] * 10}
        return run_pipeline(
            execution_input,
            Settings(lake_prefix="unit"),
            execution_name=name,
            dispatcher=Script(failures),
            on_state=on_state,
        )


@pytest.fixture
def console(moto_env: str, tmp_path: Path) -> Iterator[tuple[Any, Runner]]:
    from segmentation_local.console import LocalConsole

    settings = get_settings()
    make_stack(settings)
    runner = Runner()
    with LocalConsole(tmp_path, settings, runner=runner) as local:
        yield local, runner
        runner.release.set()
        local.executions.wait(30)


@pytest.fixture
def page(console: tuple[Any, Runner]) -> Iterator[Any]:
    local, _ = console
    with signed_in_tab(local.url, get_settings(), EMAIL, PASSWORD, "run") as tab:
        yield tab


def test_a_failed_run_says_why_and_a_second_start_follows_the_running_one(
    console: tuple[Any, Runner], page: Any
) -> None:
    local, runner = console
    page.click("#run-start")
    page.wait_for_selector("#run-progress[data-status='RUNNING']")
    first = page.get_attribute("#run-progress", "data-run-id")

    # a second Start while it runs: the API's 409, and the page follows the running run
    page.evaluate("document.querySelector('#run-start').disabled = false")
    page.click("#run-start")
    page.wait_for_selector("#run-message:has-text('is running')")
    assert first in page.inner_text("#run-message")
    assert "(following it)" in page.inner_text("#run-message")

    runner.release.set()
    page.wait_for_selector("#run-progress[data-status='FAILED']", timeout=30_000)
    assert page.get_attribute("#run-progress", "data-run-id") == first
    error = page.inner_text("#run-error")
    assert error.startswith("CleanEvents failed (States.TaskFailed)"), error
    assert "scripted failure of unit-clean" in error
    clean = page.get_attribute("#run-progress li[data-step='clean']", "class")
    assert "failed" in clean
    later = page.get_attribute("#run-progress li[data-step='features']", "class")
    assert "waiting" in later
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "run-failed.png"), full_page=True)
    listing = local.executions.list_executions(stateMachineArn=local.executions.machine_arn)
    assert [e["status"] for e in listing["executions"]] == ["FAILED"]
