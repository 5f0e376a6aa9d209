"""Invoke a Lambda handler file locally the way the Lambda runtime does.

The runtime imports ``lambdas/<name>/handler.py`` as module ``handler`` and calls
``handler(event, context)``; this does the same (module loaded from its file path, a context
object with the attributes Powertools reads), so local runs exercise the deployed handler code.
"""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LAMBDAS = ROOT / "lambdas"


@dataclass
class LocalLambdaContext:
    """The attributes of the runtime's context object that handlers and Powertools use."""

    function_name: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    invoked_function_arn: str = ""
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    timeout_ms: int = 900_000

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_ms


@cache
def load_handler(name: str, attribute: str = "handler") -> Callable[[Any, Any], Any]:
    """``lambdas/<name>/handler.py``'s entry point, imported once per process (a warm Lambda)."""
    path = LAMBDAS / name / "handler.py"
    if not path.is_file():
        raise FileNotFoundError(f"no Lambda handler at {path}")
    spec = importlib.util.spec_from_file_location(f"lambdas_{name}_handler", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, attribute)


def invoke(name: str, event: Any, function_arn: str = "") -> Any:
    """Call Lambda ``name``'s handler with ``event`` and a fresh context."""
    context = LocalLambdaContext(function_name=name, invoked_function_arn=function_arn)
    return load_handler(name)(event, context)
