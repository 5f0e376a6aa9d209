"""Terraform figures: `terraform test` per module (mock provider) and the local environment's
apply / no-op re-plan / destroy against the project's moto server.

Run: ``python bench/bench_terraform.py`` (or ``make bench``). Needs terraform on PATH; takes
about 4-5 minutes on 2 cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from segmentation.local import terraform as tf  # noqa: E402
from segmentation.local.motoserver import moto_service  # noqa: E402
from segmentation.local.process import free_port  # noqa: E402


def timed(label: str, fn) -> object:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn()
    print(f"{label:<40} {time.perf_counter() - start:7.1f} s", flush=True)
    return result


def main() -> int:
    if tf.terraform_binary() is None:
        print("terraform not installed; nothing to measure")
        return 0
    for module in sorted(p.parent.name for p in (tf.TERRAFORM_DIR / "modules").glob("*/main.tf")):
        chdir = tf.TERRAFORM_DIR / "modules" / module
        tf.init(chdir)
        proc = timed(f"terraform test modules/{module}", lambda c=chdir: tf.run(["test"], c))
        summary = tf.parse_test_output(proc.stdout)  # type: ignore[attr-defined]
        print(f"{'':<40} {summary.passed} runs passed")

    env_dir = tf.TERRAFORM_DIR / "envs" / "local"
    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp) / "build"
        subprocess.run(
            [sys.executable, str(ROOT / "tools" / "package.py"), "lambdas", "scripts"],
            check=True,
            capture_output=True,
            env={**os.environ, "SEG_BUILD_DIR": str(build)},
        )
        port = free_port()
        with moto_service(port, Path(tmp)):
            common = [
                "-input=false",
                f"-state={tmp}/local.tfstate",
                "-parallelism=20",
                "-var",
                f"aws_endpoint=http://127.0.0.1:{port}",
                "-var",
                f"build_dir={build}",
            ]
            tf.init(env_dir, backend=True)
            timed("envs/local apply", lambda: tf.run(["apply", "-auto-approve", *common], env_dir))
            state = json.loads(Path(f"{tmp}/local.tfstate").read_text())
            print(f"{'':<40} {len(state['resources'])} resource blocks")
            plan = timed(
                "envs/local re-plan (-detailed-exitcode)",
                lambda: tf.run(["plan", "-detailed-exitcode", *common], env_dir, check=False),
            )
            print(f"{'':<40} exit code {plan.returncode} (0 = no changes)")  # type: ignore[attr-defined]
            timed(
                "envs/local destroy (-refresh=false)",
                lambda: tf.run(["destroy", "-auto-approve", "-refresh=false", *common], env_dir),
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
