"""Choice-state rule evaluation (comparison operators, type tests, And/Or/Not).

Semantics follow the ASL spec: a comparison whose variable has the wrong type is simply false
(that is what lets a Choice validate untrusted input); a missing variable is false for the
``Is*`` tests and a ``States.Runtime`` failure for comparisons, as on AWS.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from segmentation_local.orchestration.errors import RuntimeFailure
from segmentation_local.orchestration.paths import get_path, has_path


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _timestamp(v: Any) -> datetime | None:
    if not isinstance(v, str):
        return None
    try:
        return datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None


def _matches(value: str, pattern: str) -> bool:
    # ASL wildcards: '*' matches anything; '\*' is a literal star. No other special characters.
    regex = "".join(
        ".*" if part == "*" else re.escape(part.replace("\\*", "*"))
        for part in re.split(r"(?<!\\)(\*)", pattern)
    )
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


_CMP = {
    "Equals": lambda a, b: a == b,
    "LessThan": lambda a, b: a < b,
    "GreaterThan": lambda a, b: a > b,
    "LessThanEquals": lambda a, b: a <= b,
    "GreaterThanEquals": lambda a, b: a >= b,
}
_KINDS = {
    "String": lambda v: v if isinstance(v, str) else None,
    "Numeric": lambda v: v if _is_number(v) else None,
    "Boolean": lambda v: v if isinstance(v, bool) else None,
    "Timestamp": _timestamp,
}
_TYPE_TESTS = {
    "IsNull": lambda v: v is None,
    "IsString": lambda v: isinstance(v, str),
    "IsNumeric": _is_number,
    "IsBoolean": lambda v: isinstance(v, bool),
    "IsTimestamp": lambda v: _timestamp(v) is not None,
}


def evaluate_rule(rule: dict[str, Any], data: Any, context: Any = None) -> bool:
    """True when ``rule`` (a Choice rule, without its Next) holds for ``data``."""
    if "And" in rule:
        return all(evaluate_rule(r, data, context) for r in rule["And"])
    if "Or" in rule:
        return any(evaluate_rule(r, data, context) for r in rule["Or"])
    if "Not" in rule:
        return not evaluate_rule(rule["Not"], data, context)
    var = rule.get("Variable")
    if not isinstance(var, str):
        raise RuntimeFailure(f"Choice rule without a Variable: {rule}")
    if "IsPresent" in rule:
        return has_path(data, var, context) == rule["IsPresent"]
    for test, check in _TYPE_TESTS.items():
        if test in rule:
            if not has_path(data, var, context):
                return False
            return check(get_path(data, var, context)) == rule[test]
    value = get_path(data, var, context)
    if "StringMatches" in rule:
        return isinstance(value, str) and _matches(value, rule["StringMatches"])
    for kind, coerce in _KINDS.items():
        for op, cmp in _CMP.items():
            for suffix in ("", "Path"):
                key = f"{kind}{op}{suffix}"
                if key not in rule:
                    continue
                other = get_path(data, rule[key], context) if suffix else rule[key]
                a, b = coerce(value), coerce(other)
                if a is None or b is None:
                    return False
                return bool(cmp(a, b))
    raise RuntimeFailure(f"unsupported Choice rule: {sorted(rule)}")
