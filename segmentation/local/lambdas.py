"""Load a Lambda handler from ``lambdas/<name>/handler.py`` to call it in-process locally.

The Lambda folders are deployment units, not a package; locally they are imported by path so the
very file that is zipped for AWS is the one that runs.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

LAMBDAS_DIR = Path(__file__).resolve().parents[2] / "lambdas"


def load_handler(name: str, attribute: str = "handler") -> Callable[[dict[str, Any], Any], Any]:
    path = LAMBDAS_DIR / name / "handler.py"
    if not path.is_file():
        raise FileNotFoundError(f"no Lambda handler at {path}")
    spec = importlib.util.spec_from_file_location(f"lambda_{name}_handler", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, attribute)
