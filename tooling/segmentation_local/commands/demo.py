"""``segmentation demo``: the whole system on this machine, end to end (see ``demo.py``).

Replaces the interim demo that only generated a data set (``segmentation generate`` still does).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

#: Users of each --scale; both cover 90 days. "paper" is the published prototype's size.
SCALES = {"small": 2000, "paper": 50_000}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="run the local end-to-end demo: services, terraform, data, ingest, pipeline, API",
    )
    p.add_argument(
        "--scale",
        choices=sorted(SCALES),
        default="paper",
        help="data set size: paper (50,000 users, ~5M events, the paper's scale; the default, "
        "~7 min here) or small (2,000 users, ~200k events); --users overrides",
    )
    p.add_argument("--users", type=int, help="synthetic users (default: from --scale)")
    p.add_argument("--days", type=int, default=90, help="days of events (default 90)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument(
        "--stream-days", type=int, default=7, help="last days sent through Kafka (default 7)"
    )
    p.add_argument(
        "--snapshots",
        type=int,
        choices=[1, 2],
        default=2,
        help="2 (default): run the pipeline on the history, then stream the last days and run "
        "it again (keys held, run over run, monitor); 1: a single run over everything",
    )
    p.add_argument("--algorithm", choices=["kmeans", "dbscan"])
    p.add_argument("--k", help="a number or 'auto'")
    p.add_argument(
        "--provision",
        choices=["terraform", "python"],
        help="terraform apply envs/local, or the quick python bootstrap "
        "(default: SEG_DEMO_PROVISION)",
    )
    p.add_argument("--free-ports", action="store_true", help="pick free ports for everything")
    p.add_argument("--state-dir", type=Path, default=Path(".local/demo"))
    p.add_argument("--serve", action="store_true", help="keep the API and services up after")
    p.add_argument("--json", type=Path, help="also write the result as JSON here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from segmentation.config import get_settings
    from segmentation_local.demo import DemoConfig, run_demo

    execution_input: dict[str, object] = {}
    if args.algorithm:
        execution_input["algorithm"] = args.algorithm
    if args.k:
        execution_input["k"] = args.k if args.k == "auto" else int(args.k)
    result = run_demo(
        DemoConfig(
            users=args.users or SCALES[args.scale],
            days=args.days,
            seed=args.seed,
            stream_days=args.stream_days,
            execution_input=execution_input,
            state_dir=args.state_dir.resolve(),
            provision=args.provision or get_settings().demo_provision,
            free_ports=args.free_ports,
            keep_serving=args.serve,
            snapshots=args.snapshots,
        )
    )
    if args.json:
        data = {
            k: v
            for k, v in result.__dict__.items()
            if k not in {"user_ids", "rerun", "model", "previous_model"}
        }
        data["lookups"] = [{k: v for k, v in x.items() if k != "_asked"} for x in result.lookups]
        args.json.write_text(json.dumps(data, indent=2, default=str))
    return 0
