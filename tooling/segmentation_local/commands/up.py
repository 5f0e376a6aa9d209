"""``segmentation up``: start the local stack in the background (``make up``)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("up", help="start moto, the Kafka broker and MLflow in the background")
    p.add_argument("--state-dir", type=Path, default=Path(".local/stack"))
    p.add_argument(
        "--provision",
        choices=["terraform", "python"],
        help="terraform apply envs/local, or the quick python bootstrap (SEG_DEMO_PROVISION)",
    )
    p.add_argument("--free-ports", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from segmentation.config import get_settings
    from segmentation_local.stack import up

    provision = args.provision or get_settings().demo_provision
    info = up(args.state_dir.resolve(), provision, args.free_ports)
    print(f"stack up: {info['ports']}")
    print(f"use it from a shell with:  . {info['env_file']}")
    print("then e.g. `segmentation run`, `segmentation serve`; `make down` stops it")
    return 0
