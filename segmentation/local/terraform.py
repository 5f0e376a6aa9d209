"""Run the Terraform CLI the way this repository needs it: offline when a provider mirror exists.

The Makefile (``mk/terraform.mk``) and the tests share this behaviour: when ``TF_PLUGIN_MIRROR``
names a filesystem mirror (default ``/opt/tf-plugins`` when it exists), a CLI config under
``build/terraform`` installs ``hashicorp/*`` providers from it, with a shared plugin cache, so
``terraform init`` needs no network; otherwise Terraform uses the registry as usual.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = ROOT / "terraform"
DEFAULT_MIRROR = Path("/opt/tf-plugins")
SUMMARY = re.compile(r"(Success|Failure)! (\d+) passed, (\d+) failed(?:, (\d+) skipped)?\.")


def terraform_binary() -> str | None:
    return shutil.which(os.environ.get("TF", "terraform"))


def plugin_mirror() -> Path | None:
    """TF_PLUGIN_MIRROR when set (empty = use the registry), else the default mirror if present."""
    value = os.environ.get("TF_PLUGIN_MIRROR")
    if value is not None:
        return Path(value) if value.strip() else None
    return DEFAULT_MIRROR if (DEFAULT_MIRROR / "registry.terraform.io").is_dir() else None


def cli_config(build_dir: Path = ROOT / "build" / "terraform") -> Path | None:
    """Write (if changed) the CLI config pointing provider installation at the mirror."""
    mirror = plugin_mirror()
    if mirror is None:
        return None
    cache = build_dir / "plugin-cache"
    cache.mkdir(parents=True, exist_ok=True)
    text = (
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path    = "{mirror}"\n'
        '    include = ["registry.terraform.io/hashicorp/*"]\n'
        "  }\n"
        "  direct {\n"
        '    exclude = ["registry.terraform.io/hashicorp/*"]\n'
        "  }\n"
        "}\n"
        f'plugin_cache_dir = "{cache}"\n'
    )
    rc = build_dir / "terraformrc"
    if not rc.exists() or rc.read_text() != text:
        rc.write_text(text)
    return rc


def cli_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for terraform: the mirror config (or no dangling config), no checkpoint calls."""
    env = dict(os.environ)
    rc = cli_config()
    if rc is not None:
        env["TF_CLI_CONFIG_FILE"] = str(rc)
    elif env.get("TF_CLI_CONFIG_FILE") and not Path(env["TF_CLI_CONFIG_FILE"]).exists():
        del env["TF_CLI_CONFIG_FILE"]  # a missing config only adds a warning to every command
    env.update({"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"})
    env.update(extra or {})
    return env


def run(
    args: Sequence[str],
    chdir: Path,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """``terraform -chdir=<chdir> <args>``; output captured, failure raised with its output."""
    binary = terraform_binary()
    if binary is None:
        raise FileNotFoundError("terraform is not on PATH")
    proc = subprocess.run(
        [binary, f"-chdir={chdir}", *args, "-no-color"],
        env=cli_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise RuntimeError(
            f"terraform {' '.join(args)} in {chdir} exited {proc.returncode}:\n"
            f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return proc


def init(chdir: Path, *, backend: bool = False) -> None:
    run(["init", "-input=false", *([] if backend else ["-backend=false"])], chdir)


@dataclass(frozen=True)
class TestSummary:
    passed: int
    failed: int
    skipped: int
    failed_runs: tuple[str, ...]


def parse_test_output(output: str) -> TestSummary:
    """The ``terraform test`` summary line (not pytest's), plus the names of failed runs."""
    match = SUMMARY.search(output)
    if match is None:
        raise ValueError(f"no terraform test summary in output:\n{output[-2000:]}")
    failed_runs = tuple(re.findall(r'run "([^"]+)"\.\.\. fail', output))
    return TestSummary(
        passed=int(match.group(2)),
        failed=int(match.group(3)),
        skipped=int(match.group(4) or 0),
        failed_runs=failed_runs,
    )
