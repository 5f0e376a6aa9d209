"""Load a Lambda handler from ``lambdas/<name>/handler.py`` to call it in-process locally.

The Lambda folders are deployment units, not a package; locally they are imported by path so the
very file that is zipped for AWS is the one that runs.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

LAMBDAS_DIR = Path(__file__).resolve().parents[3] / "lambdas"


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
    """The handler, called as the Lambda runtime would call it in a warm sandbox.

    Locally metrics are disabled (POWERTOOLS_METRICS_DISABLED): EMF lines feed CloudWatch, which
    is not here. Powertools 3.x then skips the flush at the end of each invocation *and* the
    clearing that comes with it, so a warm process accumulates values until the 100-value
    auto-publish prints them anyway (seen: the paper-scale demo's 390 ingest batches printed
    EMF blobs). The module's ``metrics`` are cleared after each call instead.
    """
    module = load_module(name)
    handler = getattr(module, attribute)
    metrics = getattr(module, "metrics", None)
    if metrics is None or not hasattr(metrics, "clear_metrics"):
        return handler

    @functools.wraps(handler)
    def invoke(event: dict[str, Any], context: Any) -> Any:
        from aws_lambda_powertools.metrics.functions import is_metrics_disabled

        try:
            return handler(event, context)
        finally:
            if is_metrics_disabled():
                metrics.clear_metrics()

    return invoke
