"""Terraform figures: `terraform test` per module (mock provider) and the local environment's
apply / no-op re-plan / destroy against the project's moto server.

Run: ``python bench/bench_terraform.py`` (or ``make bench``). Needs terraform on PATH; takes
about 4-5 minutes on 2 cores.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from segmentation.config import Settings  # noqa: E402
from segmentation_local import terraform as tf  # noqa: E402
from segmentation_local.motoserver import moto_service  # noqa: E402
from segmentation_local.process import free_port  # noqa: E402


def timed(label: str, fn) -> object:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn()
    print(f"{label:<40} {time.perf_counter() - start:7.1f} s", flush=True)
    return result


def main() -> int:
    if tf.terraform_binary() is None:
        print("terraform not installed; nothing to measure")
        return 0
    tf.prepare([*tf.module_dirs(), *tf.env_dirs()])  # one after the other: a shared cache
    for chdir in tf.module_dirs():
        proc = timed(f"terraform test modules/{chdir.name}", lambda c=chdir: tf.run(["test"], c))
        summary = tf.parse_test_output(proc.stdout)  # type: ignore[attr-defined]
        print(f"{'':<40} {summary.passed} runs passed")

    with tempfile.TemporaryDirectory() as tmp:
        build, state = Path(tmp) / "build", Path(tmp) / "local.tfstate"
        port = free_port()
        with moto_service(port, Path(tmp)):
            settings = Settings(_env_file=None, aws_endpoint_url=f"http://127.0.0.1:{port}")
            timed("envs/local apply", lambda: tf.apply_local(settings, state, build_dir=build))
            resources = json.loads(state.read_text())["resources"]
            print(f"{'':<40} {len(resources)} resource blocks")
            plan = timed(
                "envs/local re-plan (-detailed-exitcode)",
                lambda: tf.plan_local(settings, state, build_dir=build),
            )
            print(f"{'':<40} exit code {plan.returncode} (0 = no changes)")  # type: ignore[attr-defined]
            timed(
                "envs/local destroy (-refresh=false)",
                lambda: tf.destroy_local(settings, state, build_dir=build, refresh=False),
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
