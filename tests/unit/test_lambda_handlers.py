"""The four handlers are wired the same way: Powertools' service name from the environment that
Terraform sets (never overridden in code), a Tracer, a typed ``LambdaContext``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = sorted(p.parent.name for p in (ROOT / "lambdas").glob("*/handler.py"))


def _tree(name: str) -> ast.Module:
    return ast.parse((ROOT / "lambdas" / name / "handler.py").read_text())


@pytest.mark.parametrize("name", HANDLERS)
def test_powertools_objects_take_their_service_from_the_environment(name: str) -> None:
    calls = [
        node
        for node in ast.walk(_tree(name))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in {"Logger", "Metrics", "Tracer"}
    ]
    assert {c.func.id for c in calls} >= {"Logger", "Tracer"}, f"{name} lacks a Logger or Tracer"
    for call in calls:
        given = {k.arg for k in call.keywords}
        assert not given & {"service", "namespace"}, f"{name}: {call.func.id}({given}) in code"


@pytest.mark.parametrize("name", HANDLERS)
def test_handler_is_traced_and_typed(name: str) -> None:
    [handler] = [
        n for n in _tree(name).body if isinstance(n, ast.FunctionDef) and n.name == "handler"
    ]
    decorators = [ast.unparse(d) for d in handler.decorator_list]
    assert any(d.startswith("tracer.capture_lambda_handler") for d in decorators), decorators
    assert ast.unparse(handler.args.args[1].annotation) == "LambdaContext"


@pytest.mark.parametrize("name", HANDLERS)
def test_loaded_locally_the_service_is_the_function_name(name: str) -> None:
    from segmentation_local.lambdas import load_module

    assert load_module(name).logger.service == name
