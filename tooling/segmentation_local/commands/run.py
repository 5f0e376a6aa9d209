"""``segmentation run``: execute the pipeline's state machine definition locally.

Options only add fields to the execution input; anything left out takes the definition's default
(ApplyDefaults state), exactly as when the deployed state machine is started without them. The
options, their help and the check before starting all come from the execution-input model.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    from segmentation.pipeline.params import ExecutionInput

    p = sub.add_parser(
        "run",
        help="run the segmentation pipeline locally by following its Step Functions definition",
        description="Options add fields to the execution input; their meaning, allowed values "
        "and defaults come from the execution-input model (segmentation.pipeline.params), "
        "which the definition's ApplyDefaults and Choice states are tested against.",
    )
    for name in ExecutionInput.model_fields:
        option_for(p, name)
    p.add_argument(
        "--input",
        help="execution input as JSON (or @file.json); the options above override its fields",
    )
    p.add_argument(
        "--skip-validation",
        action="store_true",
        help="start the execution without checking the input first (to see the state "
        "machine's own refusal)",
    )
    p.add_argument(
        "--retry-delay-scale",
        type=float,
        default=0.0,
        help="multiplier on the definition's retry intervals (default 0: retry at once)",
    )
    p.add_argument("--report", type=Path, help="write the execution report (JSON) here")
    p.add_argument(
        "--deployed",
        nargs="?",
        const="segmentation-pipeline",
        metavar="NAME_OR_ARN",
        help="execute the definition Terraform deployed to the emulator (default name "
        "segmentation-pipeline) instead of rendering the template",
    )
    p.set_defaults(func=run)


def option_for(parser: argparse.ArgumentParser, name: str) -> None:
    """``--k-max`` etc. for execution-input field ``name``: type, choices and help from the
    model, so the help cannot say one default while the state machine applies another."""
    from segmentation.pipeline.params import ExecutionInput, default_text, expected, literals

    info = ExecutionInput.model_fields[name]
    allowed = literals(info.annotation)
    kwargs: dict[str, Any] = {"type": _converter(name, info.annotation, allowed)}
    if allowed and not _numbers(info.annotation):
        kwargs = {"choices": list(allowed)}
    parser.add_argument(
        "--" + name.replace("_", "-"),
        dest=name,
        help=f"{info.description}: {expected(ExecutionInput, name)} "
        f"(default {default_text(ExecutionInput, name)})".replace("%", "%%"),
        **kwargs,
    )


def _numbers(annotation: Any) -> list[type]:
    from segmentation.pipeline.params import base_type, union_members

    return [b for m in union_members(annotation) if (b := base_type(m)) in (int, float)]


def _converter(name: str, annotation: Any, allowed: tuple[Any, ...]) -> Any:
    """A command-line string as the JSON value the execution input holds ('auto' or 5)."""
    numbers = _numbers(annotation)

    def convert(text: str) -> Any:
        if text in allowed or not numbers:
            return text
        return numbers[0](text)

    convert.__name__ = numbers[0].__name__ if numbers else "str"  # argparse names it in errors
    return convert


def execution_input(args: argparse.Namespace) -> dict[str, Any]:
    """The execution input: --input, then each option given on the command line."""
    from segmentation.pipeline.params import ExecutionInput

    data: dict[str, Any] = {}
    if args.input:
        text = Path(args.input[1:]).read_text() if args.input.startswith("@") else args.input
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("--input must be a JSON object")
    for field in ExecutionInput.model_fields:
        value = getattr(args, field)
        if value is not None:
            data[field] = value
    return data


def run(args: argparse.Namespace) -> int:
    from segmentation_local.orchestration.local_runner import run_pipeline

    payload = execution_input(args)
    if not args.skip_validation:  # refused here, not after the definition has started
        from segmentation.pipeline.params import InvalidInput, validate_execution_input

        try:
            validate_execution_input(payload)
        except InvalidInput as exc:
            print(f"error: InvalidInput: {exc}", file=sys.stderr)
            return 2
    result = run_pipeline(
        payload,
        execution_name=args.run_id,
        retry_delay_scale=args.retry_delay_scale,
        deployed=args.deployed,
    )
    report = result.to_dict()
    if args.report:
        args.report.write_text(json.dumps(report, indent=2, default=str))
    print(json.dumps({k: report[k] for k in ("name", "status", "error", "cause", "duration_s")}))
    if result.status == "SUCCEEDED":
        print(json.dumps(result.output, indent=2, default=str))
        return 0
    return 1
