"""Run the Terraform CLI the way this repository needs it: offline when a provider mirror exists,
and never racing on the shared provider cache.

The Makefile (``mk/terraform.mk``), the demo, the tests and the benchmarks all come through here:

- :func:`cli_config` writes the one CLI config: when ``TF_PLUGIN_MIRROR`` names a filesystem
  mirror (default ``/opt/tf-plugins`` when it exists), ``hashicorp/*`` providers install from it
  with a shared plugin cache, so ``terraform init`` needs no network; otherwise Terraform uses
  the registry as usual.
- Terraform's plugin cache is not safe for concurrent use (hashicorp/terraform#31964): an
  ``init`` re-links the cache while another directory's ``test`` or ``apply`` reads its providers
  through it. So every ``init`` holds an exclusive lock on the cache and every other command a
  shared one (``flock``, so it also holds across processes: make, a demo and pytest at once), and
  :func:`prepare` initialises a list of directories one after the other before concurrent runs
  start.
- :func:`apply_local` is the one way ``terraform/envs/local`` is applied (make, demo, tests,
  bench), with its variables from the settings (:func:`local_variables`).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = ROOT / "terraform"
LOCAL_ENV = TERRAFORM_DIR / "envs" / "local"
BUILD_DIR = ROOT / "build" / "terraform"
DEFAULT_MIRROR = Path("/opt/tf-plugins")
SUMMARY = re.compile(r"(Success|Failure)! (\d+) passed, (\d+) failed(?:, (\d+) skipped)?\.")


def terraform_binary() -> str | None:
    return shutil.which(os.environ.get("TF", "terraform"))


def module_dirs() -> list[Path]:
    """Every module (a folder of terraform/modules with a main.tf), sorted by name."""
    return sorted(p.parent for p in (TERRAFORM_DIR / "modules").glob("*/main.tf"))


def env_dirs() -> list[Path]:
    return [TERRAFORM_DIR / "envs" / "aws", LOCAL_ENV]


def plugin_mirror() -> Path | None:
    """TF_PLUGIN_MIRROR when set (empty = use the registry), else the default mirror if present."""
    value = os.environ.get("TF_PLUGIN_MIRROR")
    if value is not None:
        return Path(value) if value.strip() else None
    return DEFAULT_MIRROR if (DEFAULT_MIRROR / "registry.terraform.io").is_dir() else None


def cli_config(build_dir: Path = BUILD_DIR) -> Path | None:
    """Write (if changed) the CLI config pointing provider installation at the mirror.

    Written to a temporary file and renamed: a terraform process started by another thread
    never reads a half-written config (it would fall back to the network)."""
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
        tmp = rc.with_name(f".{rc.name}.{os.getpid()}.tmp")
        tmp.write_text(text)
        tmp.replace(rc)
    return rc


@contextlib.contextmanager
def cache_lock(*, exclusive: bool, build_dir: Path = BUILD_DIR) -> Iterator[None]:
    """Readers-writer lock on the shared plugin cache: ``init`` writes, everything else reads.

    One open file per holder, so threads of one process exclude each other as processes do."""
    build_dir.mkdir(parents=True, exist_ok=True)
    with (build_dir / "plugin-cache.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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
    stdout: Any = None,
) -> subprocess.CompletedProcess[str]:
    """``terraform -chdir=<chdir> <args>`` under the cache lock; output captured (or written to
    ``stdout``, a file), failure raised with its output."""
    binary = terraform_binary()
    if binary is None:
        raise FileNotFoundError("terraform is not on PATH")
    capture = {"capture_output": True} if stdout is None else {"stdout": stdout, "stderr": stdout}
    with cache_lock(exclusive=bool(args) and args[0] == "init"):
        proc = subprocess.run(
            [binary, f"-chdir={chdir}", *args, "-no-color"],
            env=cli_env(env),
            text=True,
            timeout=timeout,
            **capture,
        )
    if check and proc.returncode != 0:
        raise RuntimeError(
            f"terraform {' '.join(args)} in {chdir} exited {proc.returncode}:\n"
            f"{(proc.stdout or '')[-4000:]}\n{(proc.stderr or '')[-4000:]}"
        )
    return proc


def init(chdir: Path, *, backend: bool = False, **kwargs: Any) -> None:
    run(["init", "-input=false", *([] if backend else ["-backend=false"])], chdir, **kwargs)


def prepare(dirs: Iterable[Path], *, backend: bool = False) -> None:
    """Initialise ``dirs`` one after the other: call before running their commands concurrently."""
    for chdir in dirs:
        init(chdir, backend=backend)


def local_variables(
    settings: Any,
    *,
    build_dir: Path | None = None,
    lifecycle: bool = True,
    msk: bool = True,
) -> dict[str, str]:
    """envs/local's variables from the settings, so what Terraform deploys (the Lambdas'
    environment, the state machine's arguments) names the same endpoint, ports and resources as
    the running stack, e.g. an MLflow server on a free port. ``lifecycle`` and ``msk`` off make
    a quick apply (moto settles lifecycle rules for ~1 min; the local stream needs no MSK)."""
    values = {
        "aws_endpoint": settings.endpoint_url or "",
        "region": settings.aws_region,
        "lake_prefix": settings.lake_prefix,
        "hmac_secret_name": settings.hmac_secret_name,
        "segments_table": settings.segments_table,
        "ledger_table": settings.ledger_table,
        "campaigns_table": settings.campaigns_table,
        "campaign_secret_name": settings.campaign_secret_name,
        "kafka_topic": settings.kafka_topic,
        "timestamp_min": settings.timestamp_min.isoformat(),
        "mlflow_tracking_uri": settings.mlflow_tracking_uri,
        "build_dir": str(build_dir or ROOT / "build"),
        "enable_lifecycle": str(lifecycle).lower(),
        "msk": str(msk).lower(),
    }
    return values


def _var_args(values: Mapping[str, str]) -> list[str]:
    return [f"-var={name}={value}" for name, value in values.items()]


def package_artifacts(build_dir: Path) -> None:
    """The offline part of ``make package`` (Lambda zips, job scripts) that envs/local uploads."""
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "package.py"), "lambdas", "scripts"],
        check=True,
        env={**os.environ, "SEG_BUILD_DIR": str(build_dir)},
        capture_output=True,
    )


def _run_logged(args: list[str], log: Any, timeout: float) -> bool:
    try:
        proc = run(args, LOCAL_ENV, timeout=timeout, check=False, stdout=log)
    except subprocess.TimeoutExpired:
        raise RuntimeError(
            f"terraform {args[0]} did not finish in {timeout:.0f} s (see {log.name}); a moto "
            "without the project's patches hangs on some resources — use --provision python"
        ) from None
    return proc.returncode == 0


def apply_local(
    settings: Any,
    state: Path,
    *,
    build_dir: Path | None = None,
    lifecycle: bool = True,
    msk: bool = True,
    log: Path | None = None,
    say: Callable[[str], None] = lambda _: None,
    timeout: float = 900.0,
) -> dict[str, Any]:
    """Package, init and ``terraform apply`` envs/local against the settings' endpoint; returns
    the outputs. Terraform's own output goes to ``log`` (default beside the state).

    The provider occasionally re-sends a create that moto had already answered (seen under load:
    CreateStage 201, then the same POST again -> 409 "already exists"); the emulator then holds a
    resource the state does not. So a failed apply is retried once on an emptied emulator with a
    fresh state; a real fault fails the same way twice."""
    if terraform_binary() is None:
        raise RuntimeError("terraform is not installed; use --provision python")
    build = build_dir or ROOT / "build"
    log = log or state.with_suffix(".log")
    log.parent.mkdir(parents=True, exist_ok=True)
    state.unlink(missing_ok=True)  # a fresh emulator holds nothing an old state describes
    common = ["-input=false", f"-state={state}", "-parallelism=20"]
    variables = _var_args(local_variables(settings, build_dir=build, lifecycle=lifecycle, msk=msk))
    apply = ["apply", "-auto-approve", *common, *variables]
    with log.open("w") as out:
        say(f"    package lambdas + scripts -> {build}")
        package_artifacts(build)
        say("    $ terraform init")
        if not _run_logged(["init", "-input=false"], out, timeout):
            raise RuntimeError(f"terraform init failed; see {log}")
        say(f"    $ terraform apply ({len(variables)} variables from the settings)")
        ok = _run_logged(apply, out, timeout)
        if not ok:
            say("    apply failed; resetting the emulator and applying once more")
            reset_emulator(settings.endpoint_url)
            state.unlink(missing_ok=True)
            ok = _run_logged(apply, out, timeout)
        if not ok:
            raise RuntimeError(f"terraform apply failed; see {log}")
    return outputs(state)


def outputs(state: Path) -> dict[str, Any]:
    import json

    proc = run(["output", "-json", f"-state={state}"], LOCAL_ENV)
    return {k: v["value"] for k, v in json.loads(proc.stdout or "{}").items()}


def destroy_local(
    settings: Any,
    state: Path,
    *,
    build_dir: Path | None = None,
    lifecycle: bool = True,
    msk: bool = True,
    refresh: bool = True,
    timeout: float = 900.0,
) -> subprocess.CompletedProcess[str]:
    """``terraform destroy`` of what :func:`apply_local` created (same variables)."""
    values = local_variables(settings, build_dir=build_dir, lifecycle=lifecycle, msk=msk)
    args = ["destroy", "-auto-approve", "-input=false", f"-state={state}", "-parallelism=20"]
    if not refresh:
        args.append("-refresh=false")
    return run([*args, *_var_args(values)], LOCAL_ENV, check=False, timeout=timeout)


def plan_local(
    settings: Any,
    state: Path,
    *,
    build_dir: Path | None = None,
    lifecycle: bool = True,
    msk: bool = True,
    timeout: float = 300.0,
) -> subprocess.CompletedProcess[str]:
    """``terraform plan -detailed-exitcode`` of envs/local (exit 0 = no changes)."""
    values = local_variables(settings, build_dir=build_dir, lifecycle=lifecycle, msk=msk)
    args = ["plan", "-detailed-exitcode", "-input=false", f"-state={state}", "-parallelism=20"]
    return run([*args, *_var_args(values)], LOCAL_ENV, check=False, timeout=timeout)


def reset_emulator(endpoint: str | None) -> None:
    if endpoint:
        request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=60).close()


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


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m segmentation_local.terraform``: what the Makefile's terraform targets call."""
    parser = argparse.ArgumentParser(prog="python -m segmentation_local.terraform")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("cli-config", help="write the CLI config (offline provider mirror)")
    sub.add_parser("init", help="init every module and environment, one after the other")
    for name in ("apply-local", "destroy-local"):
        p = sub.add_parser(name, help=f"{name.split('-')[0]} envs/local against the settings")
        p.add_argument("--state", type=Path, default=ROOT / ".local" / "tf" / "local.tfstate")
    args = parser.parse_args(argv)
    if args.action == "cli-config":
        rc = cli_config()
        print(f"terraform CLI config: {rc or '(none: no provider mirror, the registry is used)'}")
    elif args.action == "init":
        dirs = [*module_dirs(), *env_dirs()]
        prepare(dirs)
        print(f"initialised {len(dirs)} directories")
    else:
        from segmentation.config import get_settings

        settings = get_settings()
        if args.action == "apply-local":
            args.state.parent.mkdir(parents=True, exist_ok=True)
            out = apply_local(settings, args.state, say=print)
            print(f"applied envs/local against {settings.endpoint_url}: {len(out)} outputs")
        else:
            proc = destroy_local(settings, args.state)
            print(proc.stdout[-2000:], proc.stderr[-2000:])
            return proc.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
