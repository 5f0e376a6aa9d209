"""Build the deployment artifacts Terraform references by path + hash (``make package``).

Outputs under ``build/`` (paths the Terraform environments read):

- ``lambda/<name>.zip``         every ``lambdas/<name>/`` with a ``handler.py`` (thin handlers only)
- ``wheelhouse/*.whl``          the core package wheel + its pure-Python dependencies for Linux
                                x86_64 / CPython 3.11 (Glue installs them from S3 with --no-deps)
- ``layer/dependencies.zip``    Lambda layer: ``python/`` = the wheelhouse installed with
                                ``pip --target`` (pyarrow/pandas/numpy come from AWSSDKPandas)
- ``glue/<job>.py``             copies of ``glue_jobs/*.py``
- ``emr/<step>.py``             copies of ``emr_steps/*.py``
- ``emr/pyspark_venv.tar.gz``   (``emr-venv``, needs Docker) Python 3.11 venv for EMR Serverless

Zips are deterministic (sorted entries, fixed timestamps and modes), so an unchanged source gives
an unchanged ``filebase64sha256`` and Terraform plans no change. Missing sources are skipped with
a note: the Terraform decides whether a missing artifact is an error (AWS) or not (local).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("SEG_BUILD_DIR", ROOT / "build"))
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
PLATFORM = ["--platform", "manylinux2014_x86_64", "--implementation", "cp"]
PY_VERSION = ["--python-version", "3.11", "--only-binary=:all:"]
# Runtime dependencies shipped with the functions and Glue jobs; numpy/pandas/pyarrow come from
# the AWSSDKPandas layer (Lambda) or the Glue 5.0 runtime, boto3 from the runtime itself.
SHIPPED_DEPENDENCIES = ["pydantic", "pydantic-settings", "aws-lambda-powertools[tracer]"]
# Already in the Lambda Python runtime and Glue 5.0: shipping them would shadow the runtime's boto3.
RUNTIME_PROVIDED = {
    "boto3",
    "botocore",
    "s3transfer",
    "urllib3",
    "jmespath",
    "python_dateutil",
    "six",
}
SKIP_PARTS = {"__pycache__", ".pytest_cache", ".ruff_cache"}


def _show(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _files(base: Path) -> list[Path]:
    return sorted(
        p
        for p in base.rglob("*")
        if p.is_file() and not SKIP_PARTS.intersection(p.parts) and p.suffix != ".pyc"
    )


def deterministic_zip(dest: Path, entries: Iterable[tuple[Path, str]]) -> Path:
    """Zip ``(file, arcname)`` pairs so the same inputs always give the same bytes."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(dest.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for src, arcname in sorted(entries, key=lambda e: e[1]):
            info = zipfile.ZipInfo(arcname, date_time=FIXED_TIME)
            mode = 0o755 if os.access(src, os.X_OK) and src.suffix != ".py" else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, src.read_bytes())
    tmp.replace(dest)
    return dest


def build_lambdas() -> list[Path]:
    """One zip per ``lambdas/<name>/handler.py``; the handler sits at the zip root."""
    out = []
    for handler in sorted((ROOT / "lambdas").glob("*/handler.py")):
        src = handler.parent
        zip_path = BUILD / "lambda" / f"{src.name}.zip"
        deterministic_zip(zip_path, [(f, f.relative_to(src).as_posix()) for f in _files(src)])
        out.append(zip_path)
        print(f"lambda  {_show(zip_path)}")
    if not out:
        print("lambda  (no lambdas/*/handler.py yet)")
    return out


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args], check=True, cwd=ROOT)


def build_wheel() -> Path:
    """The core package as a wheel (pip's PEP 517 build, isolated from the dev venv)."""
    house = BUILD / "wheelhouse"
    house.mkdir(parents=True, exist_ok=True)
    for old in house.glob("segmentation-*.whl"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SOURCE_DATE_EPOCH": "315532800"}
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp, str(ROOT)],
            check=True,
            env=env,
        )
        (wheel,) = Path(tmp).glob("segmentation-*.whl")
        dest = house / wheel.name
        shutil.move(str(wheel), dest)
    for leftover in ("lib", "bdist.linux-x86_64"):  # setuptools' in-tree build directories
        shutil.rmtree(ROOT / "build" / leftover, ignore_errors=True)
    print(f"wheel   {_show(dest)}")
    return dest


def download_dependencies() -> None:
    """Linux x86_64 / CPython 3.11 wheels of the shipped dependencies, pinned by constraints."""
    _pip(
        "download",
        "-q",
        "-d",
        str(BUILD / "wheelhouse"),
        "-c",
        str(ROOT / "constraints.txt"),
        *PLATFORM,
        *PY_VERSION,
        *SHIPPED_DEPENDENCIES,
    )
    for wheel in (BUILD / "wheelhouse").glob("*.whl"):
        if wheel.name.split("-")[0].lower() in RUNTIME_PROVIDED:
            wheel.unlink()
    names = sorted(w.name.split("-")[0] for w in (BUILD / "wheelhouse").glob("*.whl"))
    print(f"deps    {_show(BUILD / 'wheelhouse')}/: {', '.join(names)}")


def build_layer() -> Path:
    """The Lambda dependency layer: the wheelhouse installed under python/."""
    wheels = sorted((BUILD / "wheelhouse").glob("*.whl"))
    if not any(w.name.startswith("segmentation-") for w in wheels):
        raise SystemExit("layer: build the wheel first (tools/package.py wheel deps layer)")
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "python"
        _pip(
            "install",
            "-q",
            "--no-deps",
            "--no-compile",
            "--target",
            str(target),
            *PLATFORM,
            *PY_VERSION,
            *map(str, wheels),
        )
        entries = [(f, f.relative_to(tmp).as_posix()) for f in _files(target)]
        dest = deterministic_zip(BUILD / "layer" / "dependencies.zip", entries)
    print(f"layer   {_show(dest)} ({dest.stat().st_size / 1e6:.1f} MB)")
    return dest


def copy_scripts() -> list[Path]:
    """Glue and EMR entry points, copied so Terraform uploads exactly what was packaged."""
    out = []
    for src_dir, dest_dir in (("glue_jobs", "glue"), ("emr_steps", "emr")):
        for script in sorted((ROOT / src_dir).glob("*.py")):
            if script.name == "__init__.py":
                continue
            dest = BUILD / dest_dir / script.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            if not dest.exists() or dest.read_bytes() != script.read_bytes():
                shutil.copyfile(script, dest)
            out.append(dest)
            print(f"script  {_show(dest)}")
    if not out:
        print("script  (no glue_jobs/*.py or emr_steps/*.py yet)")
    return out


EMR_VENV_SCRIPT = """
set -eu
dnf install -y -q python3.11 python3.11-pip tar gzip >/dev/null
python3.11 -m venv --copies /opt/venv
/opt/venv/bin/pip install -q --upgrade pip
/opt/venv/bin/pip install -q -c /src/constraints.txt /build/wheelhouse/segmentation-*.whl \
    mlflow-skinny venv-pack
/opt/venv/bin/venv-pack -p /opt/venv -o /build/emr/pyspark_venv.tar.gz -f
"""


def build_emr_venv() -> Path:
    """EMR Serverless venv archive, built on Amazon Linux 2023 (EMR 7's OS) with Python 3.11.

    EMR Serverless runs Python 3.9 by default and pydantic-core is a compiled extension, so the
    core package cannot ride along as --py-files; a packed venv passed as ``spark.archives`` with
    PYSPARK_PYTHON=./environment/bin/python is AWS's documented way to bring another Python.
    """
    if not shutil.which("docker"):
        raise SystemExit("emr-venv needs Docker (builds on public.ecr.aws/amazonlinux:2023)")
    if not list((BUILD / "wheelhouse").glob("segmentation-*.whl")):
        build_wheel()
    (BUILD / "emr").mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--platform",
            "linux/amd64",
            "-v",
            f"{ROOT}:/src:ro",
            "-v",
            f"{BUILD}:/build",
            "public.ecr.aws/amazonlinux/amazonlinux:2023",
            "bash",
            "-c",
            EMR_VENV_SCRIPT,
        ],
        check=True,
    )
    dest = BUILD / "emr" / "pyspark_venv.tar.gz"
    print(f"venv    {_show(dest)}")
    return dest


STEPS = {
    "lambdas": build_lambdas,
    "wheel": build_wheel,
    "deps": download_dependencies,
    "layer": build_layer,
    "scripts": copy_scripts,
    "emr-venv": build_emr_venv,
}
ALL = ["lambdas", "wheel", "deps", "layer", "scripts"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "steps", nargs="+", choices=[*STEPS, "all"], help="what to build ('all' = " + " ".join(ALL)
    )
    args = parser.parse_args(argv)
    steps = [s for step in args.steps for s in (ALL if step == "all" else [step])]
    for step in steps:
        STEPS[step]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
