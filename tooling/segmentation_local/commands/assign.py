"""``segmentation assign``: the daily between-run assignment, on the local stack.

The same job the deployed schedule starts (``glue_jobs/assign.py``, EventBridge Scheduler):
the raw/hot events the ledger has not cleaned yet, cleaned by the clean step's rules (nothing
committed), the features of their users over the window, assigned with the published model
version -> provisional assignments the API serves until the next weekly run. The options are
the step's arguments (``segmentation step assign --help`` lists the same), from its model.
"""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    from segmentation.pipeline.params import AssignParams, default_text, expected

    p = sub.add_parser(
        "assign",
        help="assign users active since the published model provisionally (between weekly runs)",
        description=(__doc__ or "").split("\n\n", 1)[1],
    )
    for name in AssignParams.argument_names():
        info = AssignParams.model_fields[name]
        p.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            help=f"{info.description}: {expected(AssignParams, name)} "
            f"(default {default_text(AssignParams, name)})".replace("%", "%%"),
        )
    p.add_argument("--json", action="store_true", help="print the step's result as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from segmentation.pipeline.args import ArgumentError, resolve
    from segmentation.pipeline.assign import describe
    from segmentation.pipeline.params import AssignParams
    from segmentation.pipeline.steps import run_step
    from segmentation.spark import get_spark

    given = {n: getattr(args, n) for n in AssignParams.argument_names() if getattr(args, n)}
    try:
        resolved = resolve("assign", given)  # refused before a Spark session is started
    except ArgumentError as exc:  # in the spelling of this command's options
        message = str(exc)
        for name in AssignParams.argument_names():
            message = message.replace(f"--{name}:", f"--{name.replace('_', '-')}:")
        raise ValueError(message) from None
    result = run_step("assign", resolved, get_spark("segmentation-assign"))
    print(json.dumps(result, indent=2, default=str) if args.json else describe(result))
    return 0
