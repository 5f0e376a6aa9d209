"""JSONPath, intrinsic functions and Choice rules of the local ASL interpreter."""

from __future__ import annotations

from typing import Any

import pytest

from segmentation_local.orchestration.choice import evaluate_rule
from segmentation_local.orchestration.errors import RuntimeFailure, StatesError
from segmentation_local.orchestration.interpreter import StateMachine, error_matches
from segmentation_local.orchestration.intrinsics import evaluate
from segmentation_local.orchestration.paths import apply_template, get_path, set_path

DATA = {"a": {"b": [10, {"c": "x"}]}, "n": 3, "s": "2026-01-02T03:04:05Z", "it's": 1}
CTX = {"Execution": {"Name": "exec-1", "StartTime": "2026-01-02T03:04:05.000Z"}}


def test_get_path() -> None:
    assert get_path(DATA, "$") == DATA
    assert get_path(DATA, "$.a.b[1].c") == "x"
    assert get_path(DATA, "$['a']['b'][0]") == 10
    assert get_path(DATA, "$['it\\'s']") == 1
    assert get_path(DATA, "$$.Execution.Name", CTX) == "exec-1"
    with pytest.raises(RuntimeFailure, match="'zz' not found"):
        get_path(DATA, "$.zz")
    with pytest.raises(RuntimeFailure, match="unsupported"):
        get_path(DATA, "$..c")


def test_set_path_copies_and_creates() -> None:
    out = set_path(DATA, "$.x.y", 1)
    assert out["x"] == {"y": 1} and "x" not in DATA
    assert set_path(DATA, "$", 5) == 5
    with pytest.raises(RuntimeFailure):
        set_path(DATA, "$.n.y", 1)


def test_apply_template() -> None:
    tpl = {"k.$": "$.n", "lit": {"v": [1, {"w.$": "$.a.b[0]"}]}, "f.$": "States.Format('{}', $.n)"}
    assert apply_template(tpl, DATA, CTX) == {"k": 3, "lit": {"v": [1, {"w": 10}]}, "f": "3"}


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("States.Format('a {} b {}', $.n, $.a.b[1].c)", "a 3 b x"),
        ("States.Format('esc \\{\\} {}', 1.5)", "esc {} 1.5"),
        ("States.Format('it\\'s {}', true)", "it's true"),
        ("States.Array('x', $.n, null)", ["x", 3, None]),
        ("States.ArrayGetItem(States.StringSplit($$.Execution.StartTime, 'T'), 0)", "2026-01-02"),
        ("States.StringSplit('a,b,,c', ',')", ["a", "b", "c"]),
        ("States.JsonMerge($.a, States.StringToJson('{\"z\": 1}'), false)", None),
        ("States.JsonToString($.a)", '{"b":[10,{"c":"x"}]}'),
        ("States.ArrayLength($.a.b)", 2),
        ("States.MathAdd($.n, -1)", 2),
    ],
)
def test_intrinsics(expr: str, expected: Any) -> None:
    value = evaluate(expr, DATA, CTX)
    if expected is None:
        assert value == {"b": [10, {"c": "x"}], "z": 1}
    else:
        assert value == expected


def test_uuid_is_fresh() -> None:
    assert evaluate("States.UUID()", {}, {}) != evaluate("States.UUID()", {}, {})


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("States.Format('{} {}', 1)", "placeholders"),
        ("States.Format('{}', $.a)", "strings, numbers"),
        ("States.JsonMerge($.n, $.a, false)", "JSON objects"),
        ("States.Nope(1)", "unsupported"),
        ("States.Format('x'", "expected ','"),
        ("States.ArrayGetItem($.a.b, 5)", "out of range"),
    ],
)
def test_intrinsic_failures(expr: str, fragment: str) -> None:
    with pytest.raises(StatesError, match=fragment) as info:
        evaluate(expr, DATA, CTX)
    assert info.value.error == "States.IntrinsicFailure"


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"Variable": "$.n", "NumericEquals": 3}, True),
        ({"Variable": "$.n", "NumericGreaterThan": 3}, False),
        ({"Variable": "$.n", "NumericLessThanEqualsPath": "$.n"}, True),
        ({"Variable": "$.a.b[1].c", "StringEquals": "x"}, True),
        ({"Variable": "$.n", "StringEquals": "3"}, False),  # type mismatch is false, no error
        ({"Variable": "$.a.b[1].c", "NumericEquals": 1}, False),
        ({"Variable": "$.s", "StringMatches": "2026-*-*"}, True),
        ({"Variable": "$.s", "StringMatches": "2025*"}, False),
        ({"Variable": "$.s", "IsTimestamp": True}, True),
        ({"Variable": "$.s", "TimestampLessThan": "2027-01-01T00:00:00Z"}, True),
        ({"Variable": "$.missing", "IsPresent": False}, True),
        ({"Variable": "$.missing", "IsNumeric": True}, False),
        ({"Variable": "$.n", "IsNumeric": True}, True),
        ({"Variable": "$.n", "IsString": False}, True),
        ({"Not": {"Variable": "$.n", "NumericEquals": 3}}, False),
        (
            {
                "And": [
                    {"Variable": "$.n", "IsNumeric": True},
                    {
                        "Or": [
                            {"Variable": "$.n", "NumericEquals": 1},
                            {"Variable": "$.n", "NumericEquals": 3},
                        ]
                    },
                ]
            },
            True,
        ),
    ],
)
def test_choice_rules(rule: dict[str, Any], expected: bool) -> None:
    assert evaluate_rule(rule, DATA, CTX) is expected


def test_bool_is_not_numeric() -> None:
    assert evaluate_rule({"Variable": "$.t", "IsNumeric": True}, {"t": True}) is False


def test_comparing_a_missing_variable_is_a_runtime_error() -> None:
    with pytest.raises(RuntimeFailure):
        evaluate_rule({"Variable": "$.missing", "NumericEquals": 1}, DATA)


def test_error_matching() -> None:
    assert error_matches(["States.ALL"], "Anything")
    assert error_matches(["States.TaskFailed"], "Glue.X")
    assert not error_matches(["States.TaskFailed"], "States.Timeout")
    assert not error_matches(["States.ALL"], "States.Runtime")


def test_runtime_errors_are_not_caught() -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:x",
                "ResultSelector": {"v.$": "$.missing"},
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}],
                "End": True,
            },
            "Done": {"Type": "Succeed"},
        },
    }
    result = StateMachine(definition, lambda *a: {}).execute({}, "e")
    assert result.status == "FAILED" and result.error == "States.Runtime"


def test_pass_result_and_output_paths() -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {"Type": "Pass", "Result": {"r": 1}, "ResultPath": "$.res", "Next": "Q"},
            "Q": {"Type": "Pass", "InputPath": "$.res", "OutputPath": "$.r", "End": True},
        },
    }
    assert StateMachine(definition, lambda *a: {}).execute({"x": 1}).output == 1


def test_unsupported_state_types_are_refused() -> None:
    with pytest.raises(ValueError, match="Map"):
        StateMachine({"StartAt": "M", "States": {"M": {"Type": "Map"}}}, lambda *a: {})
