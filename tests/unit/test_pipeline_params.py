"""The parameter models are the one source: the ASL's defaults and Choice bounds, the docs table
and the committed JSON Schema must equal them, and a change on either side fails here."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from segmentation.config import Settings
from segmentation.pipeline.params import (
    STEP_MODELS,
    ExecutionInput,
    InvalidInput,
    bounds,
    json_schema,
    literals,
    markdown_table,
    validate_execution_input,
)
from segmentation_local.cli import main
from segmentation_local.orchestration.asl import PIPELINE_ASL

ROOT = Path(__file__).resolve().parents[2]
NUMERIC = {
    "NumericGreaterThanEquals": "ge",
    "NumericGreaterThan": "gt",
    "NumericLessThanEquals": "le",
    "NumericLessThan": "lt",
}
VALIDATIONS = ("ValidateCommon", "ValidateAlgorithm", "ValidateKMeans", "ValidateDBSCAN")


def template() -> dict[str, Any]:
    """The ASL template itself (Terraform variables only occur inside strings)."""
    return json.loads(PIPELINE_ASL.read_text())


def _conditions(rule: dict[str, Any]) -> list[dict[str, Any]]:
    """The leaf comparisons of a Choice rule (And / Or flattened: each value an Or allows must
    be one the model allows too)."""
    for combinator in ("And", "Or"):
        if combinator in rule:
            return [c for sub in rule[combinator] for c in _conditions(sub)]
    return [rule]


def drift(definition: dict[str, Any]) -> list[str]:
    """Every way the definition's parameter facts differ from the models (empty: none)."""
    states = definition["States"]
    problems: list[str] = []
    fields = ExecutionInput.model_fields

    # ApplyDefaults: one default per field, the static ones equal to the model's
    defaults = states["ApplyDefaults"]["Parameters"]["defaults"]
    names = {k.removesuffix(".$") for k in defaults}
    if names != set(fields):
        problems.append(f"ApplyDefaults fields {sorted(names)} != model {sorted(fields)}")
    for key, value in defaults.items():
        name = key.removesuffix(".$")
        if name not in fields:
            continue
        factory = fields[name].default_factory is not None
        if key.endswith(".$") != factory:
            problems.append(f"ApplyDefaults {name}: computed in one, static in the other")
        elif not factory and value != fields[name].default:
            problems.append(
                f"ApplyDefaults {name}={value!r}, model default {fields[name].default!r}"
            )

    # Choice states: per field, the numeric bounds of every rule and the string values tested
    for state in VALIDATIONS:
        for rule in states[state]["Choices"]:
            numeric: dict[str, dict[str, float]] = {}
            for cond in _conditions(rule):
                name = cond["Variable"].removeprefix("$.params.")
                if name not in fields:
                    problems.append(f"{state} tests {cond['Variable']}, not a model field")
                    continue
                for op, kind in NUMERIC.items():
                    if op in cond:
                        numeric.setdefault(name, {})[kind] = cond[op]
                if "StringEquals" in cond and cond["StringEquals"] not in literals(
                    fields[name].annotation
                ):
                    problems.append(f"{state}: {name} == {cond['StringEquals']!r} not in model")
            for name, found in numeric.items():
                want = bounds(fields[name].annotation, fields[name])
                if found != want:
                    problems.append(f"{state}: {name} bounds {found} != model {want}")
            # the Fail state's cause states the same numbers
            cause = states[states[state]["Default"]].get("Cause", "")
            for name, found in numeric.items():
                if "ge" in found and "le" in found:
                    text = f"{found['ge']:g}..{found['le']:g}"
                elif "gt" in found and "le" in found:
                    text = f"({found['gt']:g}, {found['le']:g}]"
                else:
                    continue
                if text not in cause:
                    problems.append(f"{states[state]['Default']} cause lacks {name} {text}")
    algorithms = {c["StringEquals"] for c in states["ValidateAlgorithm"]["Choices"]}
    if algorithms != set(literals(fields["algorithm"].annotation)):
        problems.append(f"ValidateAlgorithm branches {sorted(algorithms)} != model")

    # the arguments the Tasks pass are arguments the steps' models take
    for task, step in (
        ("CleanEvents", "clean"),
        ("BuildFeatures", "features"),
        ("BacktestSegments", "backtest"),
    ):
        passed = {
            k.removeprefix("--").removesuffix(".$") for k in states[task]["Parameters"]["Arguments"]
        }
        extra = passed - set(STEP_MODELS[step].argument_names())
        if extra:
            problems.append(f"{task} passes {sorted(extra)}, unknown to the {step} step")
    entry = states["ClusterUsers"]["Parameters"]["JobDriver"]["SparkSubmit"]
    passed = set(re.findall(r"'--(\w+)'", entry["EntryPointArguments.$"]))
    extra = passed - set(STEP_MODELS["cluster"].argument_names())
    if extra:
        problems.append(f"ClusterUsers passes {sorted(extra)}, unknown to the cluster step")
    return problems


def test_the_definition_agrees_with_the_models() -> None:
    assert drift(template()) == []


@pytest.mark.parametrize(
    ("mutate", "reported"),
    [
        (
            lambda s: s["ApplyDefaults"]["Parameters"]["defaults"].update(min_samples=10),
            "min_samples=10",
        ),
        (lambda s: s["ApplyDefaults"]["Parameters"]["defaults"].update(eps=1.0), "eps=1.0"),
        (
            lambda s: s["ApplyDefaults"]["Parameters"]["defaults"].pop("k_max"),
            "ApplyDefaults fields",
        ),
        (
            lambda s: s["ValidateKMeans"]["Choices"][0]["And"][2].update(NumericLessThanEquals=60),
            "k_max bounds",
        ),
        (
            lambda s: s["ValidateDBSCAN"]["Choices"][1]["And"][4].update(NumericGreaterThan=0.1),
            "eps bounds",
        ),
        (
            lambda s: s["ValidateAlgorithm"]["Choices"][1].update(StringEquals="hdbscan"),
            "'hdbscan' not in model",
        ),
        (
            lambda s: s["InvalidCommonParameters"].update(Cause="window_days 1..365"),
            "lacks window_days",
        ),
        (
            lambda s: s["CleanEvents"]["Parameters"]["Arguments"].update({"--windowdays": "9"}),
            "unknown to the clean step",
        ),
        (
            lambda s: s["ValidateCommon"]["Choices"][0]["And"][-1].update(
                NumericLessThanEquals=730
            ),
            "backtest_horizon_days bounds",
        ),
        (
            lambda s: s["BacktestSegments"]["Parameters"]["Arguments"].update(
                {"--horizon.$": "$.params.backtest_horizon_days"}
            ),
            "unknown to the backtest step",
        ),
    ],
)
def test_a_change_on_one_side_is_reported(mutate: Any, reported: str) -> None:
    """Guards the test above: each kind of drift is caught."""
    definition = copy.deepcopy(template())
    mutate(definition["States"])
    assert any(reported in p for p in drift(definition)), drift(definition)


def test_step_and_input_models_share_the_bounds_and_defaults() -> None:
    cluster = STEP_MODELS["cluster"].model_fields
    for name in ("k_max", "min_samples"):
        field = ExecutionInput.model_fields[name]
        assert bounds(field.annotation, field) == bounds(cluster[name].annotation, cluster[name])
        assert field.default == cluster[name].default
    for name in ("k", "eps"):
        field = ExecutionInput.model_fields[name]
        assert bounds(field.annotation) == bounds(cluster[name].annotation), name
    window = ExecutionInput.model_fields["window_days"]
    assert window.default == Settings.model_fields["feature_window_days"].default
    f = STEP_MODELS["features"].model_fields["window_days"]
    assert bounds(f.annotation, f) == bounds(window.annotation, window)
    # clean has no window (curated is the cleaned history); the input's rebuild is clean's
    assert "window_days" not in STEP_MODELS["clean"].model_fields
    rebuild = ExecutionInput.model_fields["rebuild"]
    assert rebuild.default is STEP_MODELS["clean"].model_fields["rebuild"].default is False
    # the input's backtest horizon is the step's, with 0 (off) added below it
    horizon = ExecutionInput.model_fields["backtest_horizon_days"]
    step = STEP_MODELS["backtest"].model_fields["horizon_days"]
    assert bounds(horizon.annotation, horizon) == {**bounds(step.annotation, step), "ge": 0}
    assert horizon.default == 0


def test_the_input_model_refuses_what_the_choice_states_refuse_and_more() -> None:
    assert validate_execution_input({}).algorithm == "kmeans"
    ok = validate_execution_input({"algorithm": "dbscan", "eps": 2, "k": 50})
    assert ok.eps == 2 and ok.k == 50
    for bad, named in [
        ({"window_days": "90"}, 'window_days: got "90"'),
        ({"k": True}, "k: got true"),
        ({"run_id": 7}, "run_id: got 7, expected a string"),
        ({"colour": "red", "Algorithm": "x"}, "unknown field(s) Algorithm, colour"),
    ]:
        with pytest.raises(InvalidInput) as err:
            validate_execution_input(bad)
        assert named in str(err.value)
    with pytest.raises(InvalidInput, match="must be a JSON object"):
        validate_execution_input(["k"])


def test_the_docs_table_is_the_models(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--params-table"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == markdown_table()
    doc = (ROOT / "docs" / "orchestration.md").read_text()
    block = re.search(r"<!-- params:start -->\n(.*?)\n<!-- params:end -->", doc, re.S)
    assert block, "docs/orchestration.md lacks the params block"
    assert block.group(1).strip() == printed, (
        "docs/orchestration.md table is stale: regenerate with `segmentation schema --params-table`"
    )
    assert "| `min_samples` | `24` |" in printed and '| `eps` | `"auto"` |' in printed


@pytest.mark.parametrize("step", list(STEP_MODELS))
def test_the_step_tables_in_the_pipeline_docs_are_the_models(
    step: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from segmentation.pipeline.params import STEP_MODELS

    assert main(["schema", "--params-table", step]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == markdown_table(STEP_MODELS[step])
    doc = (ROOT / "docs" / "pipeline.md").read_text()
    marker = f"step-params:{step}"
    block = re.search(rf"<!-- {marker}:start -->\n(.*?)\n<!-- {marker}:end -->", doc, re.S)
    assert block, f"docs/pipeline.md lacks the {marker} block"
    assert block.group(1).strip() == printed, (
        f"docs/pipeline.md {step} table is stale: `segmentation schema --params-table {step}`"
    )


def test_the_committed_json_schema_is_the_models(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--params"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json_schema()
    committed = json.loads((ROOT / "docs" / "params.schema.json").read_text())
    assert committed == printed, (
        "docs/params.schema.json is stale: `segmentation schema --params > docs/params.schema.json`"
    )
    assert printed["additionalProperties"] is False
    assert printed["properties"]["min_samples"]["maximum"] == 10_000
    assert set(printed["$defs"]) >= {f"{step}_step" for step in STEP_MODELS}
    assert "JOB_NAME" not in printed["$defs"]["cluster_step"]["properties"]
