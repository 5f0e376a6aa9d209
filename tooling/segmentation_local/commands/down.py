"""``segmentation down``: stop what ``segmentation up`` started (``make down``)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("down", help="stop the background stack started by `segmentation up`")
    p.add_argument("--state-dir", type=Path, default=Path(".local/stack"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from segmentation_local.stack import down

    stopped = down(args.state_dir.resolve())
    print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
    return 0
