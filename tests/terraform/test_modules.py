"""`terraform test` (mock provider, offline) of every module, and validate of both environments.

Terraform prints its own summary ("Success! 8 passed, 0 failed."), not pytest's, so each module's
suite is one pytest test that fails with the names of the failed runs.

Every directory is initialised first, one after the other (``tf.prepare``), and only then do the
suites run concurrently: an ``init`` re-links the shared plugin cache under a running ``test``
(hashicorp/terraform#31964; seen here as "could not read package directory").
"""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from segmentation_local import terraform as tf

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.skipif(tf.terraform_binary() is None, reason="terraform is not installed"),
]

MODULES = [p.name for p in tf.module_dirs()]


def test_every_module_has_tests_and_docs() -> None:
    for name in MODULES:
        module = tf.TERRAFORM_DIR / "modules" / name
        for required in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
            assert (module / required).is_file(), f"module {name} lacks {required}"
        assert list((module / "tests").glob("*.tftest.hcl")), f"module {name} has no tests"


@pytest.fixture(scope="module")
def prepared() -> None:
    """Every module and environment initialised, one after the other, before any test runs."""
    tf.prepare([*tf.module_dirs(), *tf.env_dirs()])


def _test(module: str) -> subprocess.CompletedProcess[str]:
    return tf.run(["test"], tf.TERRAFORM_DIR / "modules" / module, check=False)


@pytest.fixture(scope="module")
def module_runs(prepared: None) -> dict[str, subprocess.CompletedProcess[str]]:
    """All suites at once: each is one CPU-bound terraform process, so this halves wall time."""
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return dict(zip(MODULES, pool.map(_test, MODULES), strict=True))


@pytest.mark.parametrize("module", MODULES)
def test_module(module: str, module_runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    proc = module_runs[module]
    summary = tf.parse_test_output(proc.stdout + proc.stderr)
    assert summary.failed == 0 and proc.returncode == 0, (
        f"{module}: failed runs {summary.failed_runs}\n{proc.stdout[-6000:]}{proc.stderr[-3000:]}"
    )
    assert summary.passed > 0 and summary.skipped == 0


@pytest.mark.parametrize("env", ["aws", "local"])
def test_environment_validates(env: str, prepared: None) -> None:
    chdir = tf.TERRAFORM_DIR / "envs" / env
    proc = tf.run(["validate"], chdir, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_summary_parser_reads_failures() -> None:
    out = 'run "a"... pass\n  run "b"... fail\nFailure! 1 passed, 1 failed, 2 skipped.\n'
    summary = tf.parse_test_output(out)
    assert (summary.passed, summary.failed, summary.skipped) == (1, 1, 2)
    assert summary.failed_runs == ("b",)
    with pytest.raises(ValueError):
        tf.parse_test_output("no summary here")
