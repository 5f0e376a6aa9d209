"""The web console in real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright;
no downloaded browser), against the whole local system: moto (S3, DynamoDB, Cognito, Secrets
Manager), MLflow, the local API Gateway with the Cognito check, the landing watcher's batch
ingest, and the real pipeline (local Spark) run by the local runner from the console's Start.

An analyst signs in (one-time password, then a new one), uploads a small CSV with two bad rows
and reads them reported by line and column, sees the form refuse a bad k with the API's message,
starts a K-Means run and a DBSCAN run, follows both to the end, sees the segment cards and charts,
and looks one user up. Screenshots go to $SEG_TEST_ARTIFACTS (default .local/artifacts/browser).
Small data (300 users x 30 days): about two minutes on 2 cores.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

pytestmark = [pytest.mark.slow, pytest.mark.moto, pytest.mark.spark, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("SEG_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(os.environ.get("SEG_TEST_ARTIFACTS", ROOT / ".local" / "artifacts" / "browser"))
EMAIL = "analyst@example.com"
NEW_PASSWORD = "Br0wser-Test!pw"
SNAPSHOT = "2026-09-30"
RUN_TIMEOUT_MS = 300_000
GENERATE = [sys.executable, "-m", "segmentation_local.cli", "generate", "--users", "300"]
GENERATE += ["--days", "30", "--seed", "7", "--no-defects"]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A small synthetic data set and the CSV the analyst uploads: its events plus two bad
    rows at known lines (a timestamp that is no date, an unknown event type)."""
    out = tmp_path_factory.mktemp("data")
    subprocess.run(
        [*GENERATE, "--out", str(out)],
        check=True,
        capture_output=True,
    )
    lines = (out / "events.csv").read_text().splitlines()
    header = lines[0].split(",")
    good = dict(zip(header, lines[1].split(","), strict=True))
    bad_date = {**good, "event_id": "e-bad-1", "timestamp": "not-a-date"}
    bad_type = {**good, "event_id": "e-bad-2", "event_type": "dance"}
    rows = [*lines, ",".join(bad_date[c] for c in header), ",".join(bad_type[c] for c in header)]
    upload = out / "events-with-two-bad-rows.csv"
    upload.write_text("\n".join(rows) + "\n")
    return {
        "csv": upload,
        "catalog": out / "catalog.parquet",
        "rows": len(lines) - 1,
        "bad_lines": {(len(lines) + 1, "timestamp"), (len(lines) + 2, "event_type")},
        "user": good["user_id"],
    }


@pytest.fixture(scope="module")
def stack(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """moto (reset) + python-provisioned AWS + MLflow + the local console with the real runner."""
    from segmentation.config import get_settings
    from segmentation_local.bootstrap import provision
    from segmentation_local.console import LocalConsole
    from segmentation_local.mlflow_server import mlflow_service
    from segmentation_local.process import start_on_free_port

    state = tmp_path_factory.mktemp("console")
    with pytest.MonkeyPatch.context() as mp:
        requests.post(f"{moto_server}/moto-api/reset", timeout=10)
        for key, value in {
            "AWS_ENDPOINT_URL": moto_server,
            "SEG_AWS_ENDPOINT_URL": moto_server,
            "MLFLOW_S3_ENDPOINT_URL": moto_server,
            "SEG_LAKE_PREFIX": f"b{uuid.uuid4().hex[:8]}",
            "SEG_SPARK_SHUFFLE_PARTITIONS": "2",
            "SEG_SPARK_LOG_FILE": str(state / "spark.log"),
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "PYSPARK_PYTHON": sys.executable,
        }.items():
            mp.setenv(key, value)
        get_settings.cache_clear()
        provision(get_settings())
        port, mlflow = start_on_free_port(
            lambda p: mlflow_service(get_settings(), state / "mlflow", p)
        )
        mp.setenv("SEG_MLFLOW_TRACKING_URI", f"http://127.0.0.1:{port}")
        get_settings.cache_clear()
        try:
            with LocalConsole(state, get_settings()) as console:
                yield console
                console.executions.wait(60)
        finally:
            mlflow.stop()
            get_settings.cache_clear()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} missing: `apt-get install -y chromium` (make setup does)")
    os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@contextmanager
def signed_in_tab(url: str, settings: Any, email: str, password: str, view: str) -> Iterator[Any]:
    """A Chromium tab of the console at ``url``, signed in as a new analyst ``email`` (whose
    first password is set permanently here: test_console sets one through the form), on the
    tab ``view``; the browser is closed when the block ends."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} missing: `apt-get install -y chromium` (make setup does)")
    from playwright.sync_api import sync_playwright

    from segmentation.awsclients import client
    from segmentation_local.cognito import add_analyst, ensure_pool

    add_analyst(email, settings)
    client("cognito-idp", settings).admin_set_user_password(
        UserPoolId=ensure_pool(settings).user_pool_id,
        Username=email,
        Password=password,
        Permanent=True,
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            tab.goto(url)
            tab.fill("#signin-form [name='email']", email)
            tab.fill("#signin-form [name='password']", password)
            tab.click("#signin-form button[type='submit']")
            tab.wait_for_selector("#tabs:not([hidden])")
            tab.click(f"#tabs button[data-view='{view}']")
            yield tab
        finally:
            browser.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def start_run(page: Any, fields: dict[str, str]) -> str:
    """Fill the form, Start, and follow the new run to its end; its id."""
    page.click("#tabs button[data-view='run']")
    for name, value in fields.items():
        selector = f"#run-fields [name='{name}']"
        if name == "algorithm":
            page.select_option(selector, value)
        else:
            page.fill(selector, value)
    before = page.get_attribute("#run-progress", "data-run-id")
    page.click("#run-start")
    page.wait_for_function(
        """previous => {
            const box = document.querySelector('#run-progress');
            return box.dataset.runId && box.dataset.runId !== previous
                && ['SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT'].includes(box.dataset.status);
        }""",
        arg=before,
        timeout=RUN_TIMEOUT_MS,
        polling=500,
    )
    if page.get_attribute("#run-progress", "data-status") != "SUCCEEDED":
        raise AssertionError(page.inner_text("#run-progress"))
    return str(page.get_attribute("#run-progress", "data-run-id"))


def test_the_console_from_sign_in_to_segments(
    stack: Any, browser: Any, data: dict[str, Any]
) -> None:
    from segmentation.awsclients import client
    from segmentation.config import get_settings
    from segmentation.ingest.catalog import upload_catalog
    from segmentation_local.cognito import add_analyst

    settings = get_settings()
    upload_catalog(data["catalog"], client("s3", settings), settings)  # genres, as the demo does
    password = add_analyst(EMAIL, settings)
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # JavaScript errors; the browser's network lines (the deliberate 401 below) are not
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and not m.text.startswith("Failed to load resource")
            and errors.append(m.text)
        ),
    )
    try:
        walk_through(page, stack, data, password)
    except Exception as exc:
        shot(page, "failed")
        raise AssertionError(f"{exc}\npage errors: {errors}") from exc
    assert not errors, errors
    listing = stack.executions.list_executions(stateMachineArn=stack.executions.machine_arn)
    assert [e["status"] for e in listing["executions"]] == ["SUCCEEDED", "SUCCEEDED"]


def walk_through(page: Any, stack: Any, data: dict[str, Any], password: str) -> None:
    from segmentation.pipeline.params import InvalidInput, validate_execution_input

    page.goto(stack.url)

    # -- sign in: the one-time password, then a new one
    page.fill("#signin-form [name='email']", EMAIL)
    page.fill("#signin-form [name='password']", password)
    page.click("#signin-form button[type='submit']")
    page.wait_for_selector("#new-password-row:not([hidden])")
    page.fill("#signin-form [name='new_password']", NEW_PASSWORD)
    page.click("#signin-form button[type='submit']")
    page.wait_for_selector("#tabs:not([hidden])")
    assert EMAIL in page.inner_text("#who")

    # -- an unsigned POST /runs is refused, from the page's origin as from anywhere
    status = page.evaluate(
        "async (url) => (await fetch(url + '/runs', {method: 'POST', body: '{}'})).status",
        stack.api.url,
    )
    assert status == 401

    # -- data: the format instructions, the upload, its report
    page.wait_for_selector("#contract tbody tr")
    assert "user_id" in page.inner_text("#contract")
    page.set_input_files("#upload-form [name='file']", str(data["csv"]))
    page.click("#upload-form button[type='submit']")
    page.wait_for_selector("#report-summary", timeout=60_000)
    summary = page.inner_text("#report-summary")
    assert f"{data['rows']} rows accepted, 2 rejected" in summary, summary
    cells = page.eval_on_selector_all(
        "#report-errors tbody tr",
        "rows => rows.map(r => [...r.cells].map(c => c.textContent))",
    )
    assert {(int(line), column) for line, column, *_ in cells} == data["bad_lines"]
    shot(page, "1-data")

    # -- run: the form refuses what the API refuses, in the same words
    page.click("#tabs button[data-view='run']")
    for bad in [
        {"k": 1},
        {"k": 3.5},
        {"k": "many"},
        {"eps": 0},
        {"eps": 101},
        {"min_samples": 1},
        {"window_days": 0},
        {"snapshot_date": "2026-02-30"},
        {"algorithm": "kmedoids"},
        {"run_id": ""},
        {"rebuild": "yes"},
        {"k_maxx": 3},
    ]:
        with pytest.raises(InvalidInput) as api_says:
            validate_execution_input(bad)
        assert page.evaluate("i => window.segmentationCheck(i)", bad) == str(api_says.value)
    page.fill("#run-fields [name='k']", "1")
    page.click("#run-start")
    with pytest.raises(InvalidInput) as api_says:
        validate_execution_input({"algorithm": "kmeans", "k": 1})
    assert page.inner_text("#run-message") == str(api_says.value)
    page.fill("#run-fields [name='k']", "")

    # -- a K-Means run (k chosen by the sweep over 2..4), then a DBSCAN run
    common = {"window_days": "30", "snapshot_date": SNAPSHOT}
    start_run(page, {"algorithm": "kmeans", "k_max": "4", **common})
    steps = page.eval_on_selector_all(
        "#run-progress li.step", "items => items.map(i => [i.dataset.step, i.className])"
    )
    assert [s for s, _ in steps] == ["clean", "features", "cluster", "monitor", "publish"]
    assert all("succeeded" in cls for _, cls in steps), steps
    shot(page, "2-run")
    page.click("#tabs button[data-view='segments']")
    page.wait_for_selector("#segment-cards .card")
    assert page.locator("#segment-cards .card").count() >= 2
    assert page.locator("#chart-sizes svg rect.bar").count() >= 2
    assert page.locator("#chart-heatmap svg rect.cell").count() > 10
    assert page.locator("#chart-sweep svg polyline").count() == 2  # elbow + silhouette
    assert "kmeans" in page.inner_text("#model-version")
    shot(page, "3-segments-kmeans")

    start_run(page, {"algorithm": "dbscan", "min_samples": "5", **common})
    page.click("#tabs button[data-view='segments']")
    page.wait_for_selector("#model-version:has-text('dbscan')")
    assert page.locator("#segment-cards .card").count() >= 1
    assert page.locator("#chart-noise svg rect.bar").count() == 1
    assert page.locator("#history tbody tr").count() == 2
    assert page.locator("#metrics tbody tr").count() >= 1
    shot(page, "4-segments-dbscan")

    # -- a user lookup: the answer names the segment; the id is gone from the page
    page.fill("#lookup-form [name='user_id']", data["user"])
    page.click("#lookup-form button[type='submit']")
    page.wait_for_selector("#lookup-result h3")
    assert page.input_value("#lookup-form [name='user_id']") == ""
    assert data["user"] not in page.content()
    shot(page, "5-lookup")
    if os.environ.get("SEG_CONSOLE_SCREENSHOT"):  # refresh the README's (docs/console.png)
        shutil.copy(ARTIFACTS / "3-segments-kmeans.png", ROOT / "docs" / "console.png")
