"""The runtime package (what Lambdas, Glue and EMR import) never reaches into the local tooling,
and the tooling's background stack does not depend on the demo that uses it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "segmentation"
TOOLING = ROOT / "tooling" / "segmentation_local"
DEPLOYED = [
    *RUNTIME.rglob("*.py"),
    *ROOT.glob("lambdas/*/handler.py"),
    *ROOT.glob("glue_jobs/*.py"),
]
DEPLOYED += list(ROOT.glob("emr_steps/*.py"))


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


@pytest.mark.parametrize("path", DEPLOYED, ids=lambda p: str(p.relative_to(ROOT)))
def test_deployed_code_never_imports_the_tooling(path: Path) -> None:
    bad = {m for m in imported_modules(path) if m.split(".")[0] == "segmentation_local"}
    assert not bad, f"{path.relative_to(ROOT)} imports the local tooling: {sorted(bad)}"


def test_the_background_stack_does_not_import_the_demo() -> None:
    assert not {
        m for m in imported_modules(TOOLING / "stack.py") if m.startswith("segmentation_local.demo")
    }


def test_the_import_check_sees_imports() -> None:
    assert "segmentation_local.demo" in imported_modules(TOOLING / "commands" / "demo.py")
