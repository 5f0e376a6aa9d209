"""``segmentation demo`` (INTERIM): generate a small synthetic data set and print its summary.

Interim until the full local pipeline exists; a later issue replaces this command with the
end-to-end demo (ingest, clean, features, clustering, segment API). Keep it simple.
"""

from __future__ import annotations

import argparse

DEFAULT_OUT = ".local/demo/data"


def register(sub: argparse._SubParsersAction) -> None:
    from segmentation.commands.generate import add_dataset_arguments

    p = sub.add_parser(
        "demo",
        help="(interim) generate a small synthetic data set and print its summary",
        description="Interim demo: generates a small synthetic data set (default 2,000 users, "
        f"90 days) into {DEFAULT_OUT} and prints its summary. It will be replaced by the "
        "end-to-end pipeline demo.",
    )
    add_dataset_arguments(p, users=2000, out=DEFAULT_OUT)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from segmentation.commands.generate import run as generate_run

    print("segmentation demo (interim): synthetic data set only; the pipeline comes later")
    return generate_run(args)
