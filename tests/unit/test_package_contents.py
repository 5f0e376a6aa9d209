"""What `make package` ships to AWS holds the runtime package only: no local tooling (moto
launcher and patches, ASL interpreter, demo, synthetic data, CLI), which would bloat the Lambda
layer and the Glue/EMR wheel and drag the emulator's dependencies into production."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Module names of the local tooling and its emulator, none of which may reach an archive.
TOOLING = ("segmentation_local", "moto", "demo", "interpreter", "synthetic", "motoserver", "cli")

pytestmark = pytest.mark.slow  # builds a wheel with pip (setuptools in an isolated build env)


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("package")
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "package.py"), "wheel", "layer", "lambdas"],
        check=True,
        capture_output=True,
        env={**os.environ, "SEG_BUILD_DIR": str(out)},
    )
    return out


def _modules(archive: Path) -> set[str]:
    """Every dotted module (and package directory) name inside a zip archive."""
    names = set()
    for entry in zipfile.ZipFile(archive).namelist():
        parts = entry.removeprefix("python/").removesuffix(".py").split("/")
        names.update(parts)
    return names


def _offending(names: set[str]) -> set[str]:
    return {n for n in names if any(n == t or n.startswith(f"{t}-") for t in TOOLING)}


def test_the_runtime_wheel_holds_no_tooling(build: Path) -> None:
    (wheel,) = (build / "wheelhouse").glob("segmentation-*.whl")
    names = _modules(wheel)
    assert {"segmentation", "pipeline", "serving", "ingest", "contract"} <= names
    assert not _offending(names), f"tooling in the runtime wheel: {_offending(names)}"
    with zipfile.ZipFile(wheel) as zf:
        meta = [n for n in zf.namelist() if n.endswith("entry_points.txt")]
        assert not meta, "the runtime wheel declares console scripts of the tooling"


def test_the_lambda_layer_holds_no_tooling(build: Path) -> None:
    names = _modules(build / "layer" / "dependencies.zip")
    assert "segmentation" in names
    assert not _offending(names), f"tooling in the Lambda layer: {_offending(names)}"


def test_each_lambda_zip_is_only_its_handler(build: Path) -> None:
    zips = sorted((build / "lambda").glob("*.zip"))
    assert {z.stem for z in zips} == {
        p.parent.name for p in (ROOT / "lambdas").glob("*/handler.py")
    }
    for archive in zips:
        assert zipfile.ZipFile(archive).namelist() == ["handler.py"], archive.name
