"""ASL intrinsic functions (``States.Format(...)`` and friends), parsed and evaluated.

A small recursive-descent parser over the documented grammar: arguments are single-quoted string
literals, numbers, ``null``/``true``/``false``, JSONPaths or nested intrinsic calls. Failures raise
``States.IntrinsicFailure`` as AWS does, so a Catch handles them the same way.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

from segmentation_local.orchestration.errors import StatesError
from segmentation_local.orchestration.paths import get_path


class IntrinsicFailure(StatesError):
    def __init__(self, cause: str) -> None:
        super().__init__("States.IntrinsicFailure", cause)


_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_NAME = re.compile(r"States\.[A-Za-z]+")


class _Parser:
    def __init__(self, text: str, data: Any, context: Any) -> None:
        self.text, self.pos, self.data, self.context = text, 0, data, context

    def fail(self, msg: str) -> IntrinsicFailure:
        return IntrinsicFailure(f"{msg} at position {self.pos} of {self.text!r}")

    def ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1

    def call(self) -> Any:
        m = _NAME.match(self.text, self.pos)
        if not m:
            raise self.fail("expected an intrinsic function name")
        name = m.group(0)
        self.pos = m.end()
        if self.text[self.pos : self.pos + 1] != "(":
            raise self.fail(f"expected '(' after {name}")
        self.pos += 1
        args: list[Any] = []
        self.ws()
        if self.text[self.pos : self.pos + 1] == ")":
            self.pos += 1
        else:
            while True:
                self.ws()
                args.append(self.arg())
                self.ws()
                ch = self.text[self.pos : self.pos + 1]
                self.pos += 1
                if ch == ")":
                    break
                if ch != ",":
                    raise self.fail("expected ',' or ')'")
        fn = FUNCTIONS.get(name)
        if fn is None:
            raise IntrinsicFailure(f"unsupported intrinsic function {name}")
        return fn(*args)

    def arg(self) -> Any:
        t, p = self.text, self.pos
        if t.startswith("States.", p):
            return self.call()
        if t[p : p + 1] == "'":
            return self.string()
        if t[p : p + 1] == "$":
            return self.path()
        for word, value in (("null", None), ("true", True), ("false", False)):
            if t.startswith(word, p):
                self.pos += len(word)
                return value
        m = _NUMBER.match(t, p)
        if m:
            self.pos = m.end()
            return json.loads(m.group(0))
        raise self.fail("expected an argument")

    def string(self) -> _Str:
        self.pos += 1
        out = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "\\" and self.pos + 1 < len(self.text):
                nxt = self.text[self.pos + 1]
                # \{ and \} stay escaped for States.Format; \' and \\ become the character
                out.append(nxt if nxt in "'\\" else ch + nxt)
                self.pos += 2
                continue
            if ch == "'":
                self.pos += 1
                return _Str("".join(out))
            out.append(ch)
            self.pos += 1
        raise self.fail("unterminated string literal")

    def path(self) -> Any:
        start, depth = self.pos, 0
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "[":
                depth += 1
            elif ch == "]":
                depth -= 1
            elif ch in ",)" and depth == 0:
                break
            self.pos += 1
        return get_path(self.data, self.text[start : self.pos].strip(), self.context)


class _Str(str):
    """A string literal from the definition (may still hold ``\\{`` escapes for Format)."""


def _plain(value: Any) -> Any:
    if isinstance(value, _Str):
        return str(value).replace("\\{", "{").replace("\\}", "}")
    return value


def _format(template: Any, *args: Any) -> str:
    if not isinstance(template, str):
        raise IntrinsicFailure("States.Format: the first argument must be a string")
    pieces = re.split(r"(?<!\\)\{\}", template)
    if len(pieces) - 1 != len(args):
        raise IntrinsicFailure(
            f"States.Format: {len(pieces) - 1} placeholders but {len(args)} arguments"
        )
    out = [_plain(_Str(pieces[0]))]
    for arg, piece in zip(args, pieces[1:], strict=True):
        if isinstance(arg, dict | list):
            raise IntrinsicFailure("States.Format: arguments must be strings, numbers or booleans")
        out.append(_plain(arg) if isinstance(arg, str) else json.dumps(arg))
        out.append(_plain(_Str(piece)))
    return "".join(out)


def _json_merge(a: Any, b: Any, deep: Any) -> dict[str, Any]:
    if not isinstance(a, dict) or not isinstance(b, dict):
        raise IntrinsicFailure("States.JsonMerge: both arguments must be JSON objects")
    if deep is not False:
        raise IntrinsicFailure("States.JsonMerge: only shallow merge (false) is supported")
    return {**a, **b}


def _array_get_item(array: Any, index: Any) -> Any:
    if not isinstance(array, list) or not isinstance(index, int) or not 0 <= index < len(array):
        raise IntrinsicFailure("States.ArrayGetItem: index out of range or not an array")
    return array[index]


def _string_split(value: Any, delimiters: Any) -> list[str]:
    if not isinstance(value, str) or not isinstance(delimiters, str) or not delimiters:
        raise IntrinsicFailure("States.StringSplit: arguments must be strings")
    parts = re.split("|".join(re.escape(d) for d in _plain(delimiters)), value)
    return [p for p in parts if p]


def _string_to_json(value: Any) -> Any:
    try:
        return json.loads(value)
    except (TypeError, ValueError) as exc:
        raise IntrinsicFailure(f"States.StringToJson: {exc}") from None


def _math_add(a: Any, b: Any) -> Any:
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (a, b)):
        raise IntrinsicFailure("States.MathAdd: arguments must be integers")
    return a + b


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "States.Format": _format,
    "States.Array": lambda *a: [_plain(x) for x in a],
    "States.ArrayGetItem": _array_get_item,
    "States.ArrayLength": lambda a: len(a),
    "States.StringSplit": _string_split,
    "States.JsonMerge": _json_merge,
    "States.JsonToString": lambda v: json.dumps(_plain(v), separators=(",", ":")),
    "States.StringToJson": _string_to_json,
    "States.UUID": lambda: str(uuid.uuid4()),
    "States.MathAdd": _math_add,
}


def evaluate(expression: str, data: Any, context: Any) -> Any:
    """Value of one intrinsic-function expression against the state's data and context."""
    parser = _Parser(expression.strip(), data, context)
    value = parser.call()
    if parser.pos != len(parser.text):
        raise parser.fail("unexpected text after the expression")
    return _plain(value)
