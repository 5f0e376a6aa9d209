"""``segmentation step <step> --name value ...``: run one pipeline step locally.

Takes exactly the arguments the Glue job / EMR step takes (docs/pipeline.md), so a step can be
tried or re-run by hand with the same contract the orchestration uses.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from segmentation.pipeline.args import STEPS, help_lines

    lines = []
    for step in STEPS:
        lines.append(f"{step}:")
        lines += help_lines(step)  # from the step models: meaning, bounds, default
    p = sub.add_parser(
        "step",
        help=f"run one pipeline step ({', '.join(STEPS)}) on local Spark",
        description="Run one pipeline step with Glue-style arguments.\n\n" + "\n".join(lines),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("step", choices=sorted(STEPS), help="which step")
    p.add_argument("args", nargs=argparse.REMAINDER, help="--name value pairs")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from segmentation.pipeline.args import help_lines
    from segmentation.pipeline.entry import main

    if {"-h", "--help"} & set(args.args):  # `segmentation step cluster --help`: that step's
        print(f"usage: segmentation step {args.step} [--name value ...]\n")
        print("\n".join(help_lines(args.step)))
        return 0
    return main(args.step, args.args)
