"""Load a Lambda handler from ``lambdas/<name>/handler.py`` to call it in-process locally.

The Lambda folders are deployment units, not a package; locally they are imported by path so the
very file that is zipped for AWS is the one that runs.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

LAMBDAS_DIR = Path(__file__).resolve().parents[2] / "lambdas"


#: What Terraform puts in every function's environment for Powertools (modules/*: the service
#: is the function's key; envs/*: the namespace). Handlers read them when they are imported.
POWERTOOLS_ENV = {"POWERTOOLS_METRICS_NAMESPACE": "Segmentation"}


@contextlib.contextmanager
def _function_environment(name: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in (*POWERTOOLS_ENV, "POWERTOOLS_SERVICE_NAME")}
    for key, value in POWERTOOLS_ENV.items():
        os.environ.setdefault(key, value)
    os.environ["POWERTOOLS_SERVICE_NAME"] = name
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def load_module(name: str) -> ModuleType:
    """The handler module of Lambda ``name``, imported once per process (like a warm Lambda),
    with the Powertools environment Terraform gives the function."""
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
    with _function_environment(name):
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
