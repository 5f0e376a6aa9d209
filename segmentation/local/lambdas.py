"""Load a Lambda handler from ``lambdas/<name>/handler.py`` to call it in-process locally.

The Lambda folders are deployment units, not a package; locally they are imported by path so the
very file that is zipped for AWS is the one that runs.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

LAMBDAS_DIR = Path(__file__).resolve().parents[2] / "lambdas"


def load_module(name: str) -> ModuleType:
    """The handler module of Lambda ``name``, imported once per process (like a warm Lambda)."""
    module_name = f"lambda_{name}_handler"
    if module_name in sys.modules:
        return sys.modules[module_name]
    path = LAMBDAS_DIR / name / "handler.py"
    if not path.is_file():
        raise FileNotFoundError(f"no Lambda handler at {path}")
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def load_handler(name: str, attribute: str = "handler") -> Callable[[dict[str, Any], Any], Any]:
    return getattr(load_module(name), attribute)
