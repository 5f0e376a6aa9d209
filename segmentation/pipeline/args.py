"""The argument contract of the pipeline steps, shared by Glue/EMR entry points, the CLI and the
Step Functions dispatcher.

Glue passes job arguments as ``--name value`` pairs (and adds its own, e.g. ``--JOB_NAME``,
``--job-bookmark-option``); EMR Serverless passes ``entryPointArguments`` the same way; Step
Functions hands over a dict of strings. One spec per step turns any of these into typed, validated
values, and every refusal names the argument and what was expected.
"""

from __future__ import annotations

import importlib.util
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from segmentation.config import get_settings


class ArgumentError(ValueError):
    """A step argument is missing or malformed; the message says what was expected."""


@dataclass(frozen=True)
class Arg:
    name: str
    kind: str  # str | int | float | date | bool | choice | csv
    help: str
    default: Callable[[], Any] | Any = None
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None

    def default_value(self) -> Any:
        return self.default() if callable(self.default) else self.default

    def expected(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        bounds = ""
        if self.min is not None and self.max is not None:
            bounds = f" between {self.min:g} and {self.max:g}"
        elif self.min is not None:
            bounds = f" >= {self.min:g}"
        return {
            "int": f"an integer{bounds}",
            "float": f"a number{bounds}",
            "date": "a date YYYY-MM-DD",
            "bool": "true or false",
            "csv": "a comma-separated list of " + ", ".join(self.choices or ("names",)),
            "str": "text",
        }.get(self.kind, self.kind) + ""

    def convert(self, raw: Any) -> Any:
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            return self.default_value()
        if isinstance(raw, list | tuple):  # already resolved (resolve is idempotent)
            raw = ",".join(map(str, raw))
        elif isinstance(raw, date):
            raw = raw.isoformat()
        text = str(raw).strip()
        err = ArgumentError(f"--{self.name}: got {text!r}, expected {self.expected()}")
        if self.kind == "str":
            return text
        if self.kind == "choice":
            if text.lower() not in self.choices:
                raise err
            return text.lower()
        if self.kind == "csv":
            items = [t.strip().lower() for t in text.split(",") if t.strip()]
            if not items or (self.choices and any(i not in self.choices for i in items)):
                raise err
            return items
        if self.kind == "bool":
            if text.lower() in {"true", "1", "yes"}:
                return True
            if text.lower() in {"false", "0", "no"}:
                return False
            raise err
        if self.kind == "date":
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                raise err
            try:
                return date.fromisoformat(text)
            except ValueError:
                raise err from None
        try:
            value: float = int(text) if self.kind == "int" else float(text)
        except ValueError:
            raise err from None
        if self.kind == "float" and value != value:  # NaN
            raise err
        if (self.min is not None and value < self.min) or (
            self.max is not None and value > self.max
        ):
            raise err
        return value


def _today() -> date:
    return datetime.now(UTC).date()


def _run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


COMMON: tuple[Arg, ...] = (
    Arg(
        "lake_prefix", "str", "bucket prefix of the lake zones", lambda: get_settings().lake_prefix
    ),
    Arg("run_id", "str", "id of this pipeline run (quality report path, MLflow tag)", _run_id),
    Arg("snapshot_date", "date", "day the run describes (UTC), YYYY-MM-DD", _today),
)

STEPS: dict[str, tuple[Arg, ...]] = {
    "clean": (
        *COMMON,
        Arg(
            "input_zones",
            "csv",
            "zones whose events are cleaned together",
            ["raw", "hot"],
            ("raw", "hot"),
        ),
        Arg("iqr_k", "float", "IQR fence multiplier for money outliers", 1.5, min=0.0),
        Arg(
            "window_days",
            "int",
            "days of events kept (ending with snapshot_date); older/newer go to quarantine",
            lambda: get_settings().feature_window_days,
            min=1,
            max=3650,
        ),
        Arg("session_gap_minutes", "int", "inactivity gap that ends a session", 30, min=1),
    ),
    "features": (
        *COMMON,
        Arg(
            "window_days",
            "int",
            "days of history per snapshot",
            lambda: get_settings().feature_window_days,
            min=1,
            max=3650,
        ),
        Arg("session_gap_minutes", "int", "inactivity gap that ends a session", 30, min=1),
    ),
    "cluster": (
        *COMMON,
        Arg("algorithm", "choice", "clustering algorithm", "kmeans", ("kmeans", "dbscan")),
        Arg("k", "int", "K-Means clusters; empty = choose by elbow + silhouette", None, min=2),
        Arg("k_min", "int", "smallest k of the sweep", 2, min=2, max=50),
        Arg("k_max", "int", "largest k of the sweep", 10, min=2, max=50),
        Arg(
            "eps",
            "float",
            "DBSCAN radius (scaled units) > 0; empty = from k-distance curve",
            None,
            min=0,
        ),
        Arg("min_samples", "int", "DBSCAN core-point neighbours", 24, min=2),
        Arg("sample_size", "int", "rows for the k sweep and the DBSCAN fit", 20_000, min=100),
        Arg("silhouette_sample", "int", "rows silhouette is computed on", 10_000, min=100),
        Arg("seed", "int", "random seed of sampling and K-Means", 42),
        Arg(
            "mlflow_tracking_uri",
            "str",
            "MLflow tracking URI",
            lambda: get_settings().mlflow_tracking_uri,
        ),
        Arg(
            "mlflow_experiment",
            "str",
            "MLflow experiment name",
            lambda: get_settings().mlflow_experiment,
        ),
        Arg("register_model", "bool", "register the model in the MLflow registry", True),
    ),
}

#: Arguments the platforms add that the steps accept and ignore.
PLATFORM_ARGS = frozenset({"JOB_NAME", "JOB_ID", "JOB_RUN_ID", "job-bookmark-option", "TempDir"})


def resolve(step: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """Typed arguments of ``step`` from a dict (keys with or without the leading ``--``)."""
    if step not in STEPS:
        raise ArgumentError(f"unknown step {step!r}; expected one of {', '.join(STEPS)}")
    spec = {a.name: a for a in STEPS[step]}
    clean = {str(k).lstrip("-"): v for k, v in given.items()}
    unknown = sorted(k for k in clean if k not in spec and k not in PLATFORM_ARGS)
    if unknown:
        raise ArgumentError(
            f"{step}: unknown argument(s) {', '.join('--' + u for u in unknown)}; "
            f"expected some of {', '.join('--' + n for n in spec)}"
        )
    out = {name: arg.convert(clean.get(name)) for name, arg in spec.items()}
    if "JOB_NAME" in clean:
        out["JOB_NAME"] = str(clean["JOB_NAME"])
    if step == "cluster" and out["eps"] is not None and out["eps"] <= 0:
        raise ArgumentError(f"--eps: got {out['eps']:g}, expected a number > 0")
    if step == "cluster" and out["k_min"] > out["k_max"]:
        raise ArgumentError(f"--k_min ({out['k_min']}) must not exceed --k_max ({out['k_max']})")
    return out


def parse_argv(step: str, argv: Sequence[str]) -> dict[str, Any]:
    """Glue-style ``--name value`` / ``--name=value`` arguments of ``step``, typed.

    Under Glue, ``awsglue.utils.getResolvedOptions`` does the parsing (it knows Glue's own
    arguments); elsewhere an equivalent parser below does, so the same script runs everywhere.
    """
    names = [a.name for a in STEPS.get(step, ())]
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


def as_strings(args: Mapping[str, Any]) -> dict[str, str]:
    """Resolved arguments back to the ``--name: value`` strings Glue/EMR/Step Functions pass."""
    out = {}
    for name, value in args.items():
        if value is None:
            continue
        if isinstance(value, list):
            value = ",".join(value)
        elif isinstance(value, bool):
            value = str(value).lower()
        out[f"--{name}"] = str(value)
    return out
