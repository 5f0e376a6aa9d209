"""The JSONPath subset ASL reference paths use, and payload templates (``"key.$"`` fields).

Only what Step Functions allows in InputPath/ResultPath/OutputPath and ``.$`` values is supported:
``$``, ``$$`` (the context object), ``.name``, ``['name']`` and ``[index]``. Anything else is
rejected with a clear error instead of being half-interpreted.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from segmentation_local.orchestration.errors import RuntimeFailure

_TOKEN = re.compile(r"\.([^.\[\]]+)|\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]")


def _tokens(path: str) -> tuple[str, list[str | int]]:
    if path.startswith("$$"):
        root, rest = "$$", path[2:]
    elif path.startswith("$"):
        root, rest = "$", path[1:]
    else:
        raise RuntimeFailure(f"path {path!r} must start with '$' or '$$'")
    out: list[str | int] = []
    pos = 0
    while pos < len(rest):
        m = _TOKEN.match(rest, pos)
        if not m:
            raise RuntimeFailure(f"unsupported JSONPath {path!r} at {rest[pos:]!r}")
        if m.group(1) is not None:
            if m.group(1) == "*":
                raise RuntimeFailure(f"wildcards are not reference paths: {path!r}")
            out.append(m.group(1))
        elif m.group(2) is not None:
            out.append(m.group(2).replace("\\'", "'"))
        else:
            out.append(int(m.group(3)))
        pos = m.end()
    return root, out


def get_path(data: Any, path: str, context: Any = None) -> Any:
    """Value at ``path``; ``States.Runtime`` if any step is missing, as on AWS."""
    root, tokens = _tokens(path)
    node = context if root == "$$" else data
    for tok in tokens:
        if isinstance(tok, int):
            if not isinstance(node, list) or tok >= len(node):
                raise RuntimeFailure(f"path {path!r}: no index {tok} in the input")
            node = node[tok]
        else:
            if not isinstance(node, dict) or tok not in node:
                raise RuntimeFailure(f"path {path!r}: field {tok!r} not found in the input")
            node = node[tok]
    return node


def has_path(data: Any, path: str, context: Any = None) -> bool:
    try:
        get_path(data, path, context)
    except RuntimeFailure:
        return False
    return True


def set_path(data: Any, path: str, value: Any) -> Any:
    """A copy of ``data`` with ``value`` placed at ``path`` (ResultPath semantics)."""
    root, tokens = _tokens(path)
    if root != "$":
        raise RuntimeFailure(f"ResultPath {path!r} cannot write to the context object")
    if not tokens:
        return value
    out = copy.deepcopy(data)
    if not isinstance(out, dict):
        raise RuntimeFailure(f"ResultPath {path!r}: the state input is not an object")
    node = out
    for tok in tokens[:-1]:
        if isinstance(tok, int):
            raise RuntimeFailure(f"ResultPath {path!r}: array indexes are not supported")
        nxt = node.get(tok)
        if nxt is None:
            nxt = node[tok] = {}
        if not isinstance(nxt, dict):
            raise RuntimeFailure(f"ResultPath {path!r}: {tok!r} is not an object")
        node = nxt
    last = tokens[-1]
    if isinstance(last, int):
        raise RuntimeFailure(f"ResultPath {path!r}: array indexes are not supported")
    node[last] = value
    return out


def apply_template(template: Any, data: Any, context: Any) -> Any:
    """Evaluate a payload template (Parameters, ResultSelector): ``"k.$"`` fields are paths or
    intrinsic functions, everything else is copied as is."""
    from segmentation_local.orchestration.intrinsics import evaluate

    if isinstance(template, dict):
        out: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$"):
                if not isinstance(value, str):
                    raise RuntimeFailure(f"field {key!r} must be a path or intrinsic string")
                out[key[:-2]] = (
                    evaluate(value, data, context)
                    if value.startswith("States.")
                    else copy.deepcopy(get_path(data, value, context))
                )
            else:
                out[key] = apply_template(value, data, context)
        return out
    if isinstance(template, list):
        return [apply_template(v, data, context) for v in template]
    return copy.deepcopy(template)
