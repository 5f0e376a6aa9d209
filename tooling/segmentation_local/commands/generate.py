"""``segmentation generate``: write the synthetic VoD data set (events, payments, users...)."""

from __future__ import annotations

import argparse
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI imports the generator only when the command runs
    from segmentation_local.synthetic.params import GenerateParams


def add_dataset_arguments(p: argparse.ArgumentParser, users: int, out: str | None) -> None:
    """Size, seed, window and defect-rate flags, shared with ``segmentation demo``."""
    from segmentation_local.synthetic.params import DEFAULT_END_DATE, DefectRates

    p.add_argument("--users", type=int, default=users, help=f"number of users (default {users})")
    p.add_argument("--days", type=int, default=90, help="window length in days (default 90)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument(
        "--end-date",
        type=date.fromisoformat,
        default=DEFAULT_END_DATE,
        help=f"last day of the window, UTC (default {DEFAULT_END_DATE})",
    )
    p.add_argument("--catalog-size", type=int, default=3000, help="catalog items (default 3000)")
    p.add_argument(
        "--out",
        required=out is None,
        default=out,
        help="output directory" + (f" (default {out})" if out else ""),
    )
    p.add_argument("--no-defects", action="store_true", help="set every defect rate to 0")
    for name, field in DefectRates.model_fields.items():
        p.add_argument(
            f"--{name.replace('_', '-')}",
            type=float,
            default=None,
            metavar="RATE",
            help=f"{field.description} (default {field.default})",
        )


def params_from_args(args: argparse.Namespace) -> GenerateParams:
    """Validated :class:`GenerateParams` from the parsed flags (pydantic names a bad value)."""
    from segmentation_local.synthetic.params import DefectRates, GenerateParams

    base = DefectRates.none() if args.no_defects else DefectRates()
    overrides = {
        name: getattr(args, name)
        for name in DefectRates.model_fields
        if getattr(args, name) is not None
    }
    return GenerateParams(
        users=args.users,
        days=args.days,
        seed=args.seed,
        end_date=args.end_date,
        catalog_size=args.catalog_size,
        defects=DefectRates(**(base.model_dump() | overrides)),
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="write the synthetic VoD data set (Parquet + CSV, labels, summary.json)",
        description="Generate users with latent personas, their sessions and events over a "
        "window, inject data-quality defects, and write everything to --out.",
    )
    add_dataset_arguments(p, users=50_000, out=None)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pydantic import ValidationError

    from segmentation_local.synthetic.service import generate_to

    try:
        params = params_from_args(args)
    except ValidationError as exc:
        raise ValueError(_explain(exc)) from None
    summary, seconds = generate_to(params, Path(args.out))
    from segmentation_local.synthetic.report import format_summary

    print(format_summary(summary, seconds))
    print(f"wrote {args.out}/ (summary.json lists the files)")
    return 0


def _explain(exc: Exception) -> str:
    errors = getattr(exc, "errors", lambda: [])()
    parts = [f"--{'-'.join(str(x) for x in e['loc'][-1:]).replace('_', '-')}: {e['msg']}"
             for e in errors]  # fmt: skip
    return "invalid generation parameters: " + "; ".join(parts or [str(exc)])
