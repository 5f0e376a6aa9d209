"""The one argument parser of the pipeline steps, generated from the step models in
:mod:`segmentation.pipeline.params`.

Glue passes job arguments as ``--name value`` pairs (and adds its own, e.g. ``--JOB_NAME``,
``--job-bookmark-option``); EMR Serverless passes ``entryPointArguments`` the same way; Step
Functions hands over a dict of strings. :func:`parse_argv` / :func:`resolve` turn any of these
into the step's model, and every refusal names the argument and what was expected (the words
come from the model's annotations, so they cannot drift from the bounds that are enforced).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError

from segmentation.pipeline.params import STEP_MODELS, StepParams, expected


class ArgumentError(ValueError):
    """A step argument is missing or malformed; the message says what was expected."""


#: The ``--name`` arguments of each step, in the models' order.
STEPS: dict[str, tuple[str, ...]] = {s: m.argument_names() for s, m in STEP_MODELS.items()}

#: Arguments the platforms add that the steps accept and ignore (JOB_NAME is kept for Glue).
PLATFORM_ARGS = frozenset({"JOB_NAME", "JOB_ID", "JOB_RUN_ID", "job-bookmark-option", "TempDir"})


def resolve(step: str, given: Mapping[str, Any] | BaseModel) -> StepParams:
    """The typed arguments (the step's model) from a dict (keys with or without the leading
    ``--``, values as strings or typed) or an already resolved model (resolve is idempotent)."""
    if step not in STEP_MODELS:
        raise ArgumentError(f"unknown step {step!r}; expected one of {', '.join(STEP_MODELS)}")
    model = STEP_MODELS[step]
    if isinstance(given, BaseModel):
        given = {**given.model_dump(), "JOB_NAME": getattr(given, "JOB_NAME", None)}
    clean = {str(k).lstrip("-"): v for k, v in given.items()}
    names = model.argument_names()
    unknown = sorted(k for k in clean if k not in names and k not in PLATFORM_ARGS)
    if unknown:
        raise ArgumentError(
            f"{step}: unknown argument(s) {', '.join('--' + u for u in unknown)}; "
            f"expected some of {', '.join('--' + n for n in names)}"
        )
    values = {k: v for k, v in clean.items() if k in model.model_fields and not _empty(v)}
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        if not error["loc"]:  # a rule across fields (k_min <= k_max): its own message
            raise ArgumentError(str(error.get("ctx", {}).get("error", error["msg"]))) from None
        name = str(error["loc"][0])
        raise ArgumentError(
            f"--{name}: got {_text(values[name])!r}, expected {expected(model, name)}"
        ) from None


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(map(str, value))
    return str(value).strip()


def parse_argv(step: str, argv: Sequence[str]) -> StepParams:
    """Glue-style ``--name value`` / ``--name=value`` arguments of ``step``, typed.

    Under Glue, ``awsglue.utils.getResolvedOptions`` does the splitting (it knows Glue's own
    arguments, which are many and not ours to refuse); elsewhere :func:`split_argv` does, so
    the same script runs under Glue, EMR Serverless, spark-submit and plain python.
    """
    names = list(STEP_MODELS[step].argument_names()) if step in STEP_MODELS else []
    if importlib.util.find_spec("awsglue") is not None:
        from awsglue.utils import getResolvedOptions  # type: ignore[import-not-found]

        present = [
            n for n in names if f"--{n}" in argv or any(a.startswith(f"--{n}=") for a in argv)
        ]
        if "--JOB_NAME" in argv:
            present.append("JOB_NAME")
        return resolve(step, getResolvedOptions(list(argv), present))
    return resolve(step, split_argv(argv))


def split_argv(argv: Sequence[str]) -> dict[str, str]:
    """``['--a', '1', '--b=2', '--flag']`` -> ``{'a': '1', 'b': '2', 'flag': 'true'}``."""
    out: dict[str, str] = {}
    items = list(argv)
    i = 0
    while i < len(items):
        item = items[i]
        if not item.startswith("--"):
            raise ArgumentError(f"unexpected {item!r}; expected --name value pairs")
        name = item[2:]
        if "=" in name:
            name, value = name.split("=", 1)
            i += 1
        elif i + 1 < len(items) and not items[i + 1].startswith("--"):
            value = items[i + 1]
            i += 2
        else:
            value = "true"
            i += 1
        out[name] = value
    return out


def as_strings(args: Mapping[str, Any] | StepParams) -> dict[str, str]:
    """Resolved arguments back to the ``--name: value`` strings Glue/EMR/Step Functions pass."""
    out = {}
    for name, value in args.items():
        if value is None:
            continue
        if isinstance(value, list):
            value = ",".join(value)
        elif isinstance(value, bool):
            value = str(value).lower()
        elif isinstance(value, date):
            value = value.isoformat()
        out[f"--{name}"] = str(value)
    return out


def help_lines(step: str) -> list[str]:
    """``--name  meaning (allowed; default ...)`` per argument: the ``segmentation step`` help."""
    from segmentation.pipeline.params import default_text

    model = STEP_MODELS[step]
    return [
        f"  --{n:<20} {model.model_fields[n].description} "
        f"({expected(model, n)}; default {default_text(model, n)})"
        for n in model.argument_names()
    ]
