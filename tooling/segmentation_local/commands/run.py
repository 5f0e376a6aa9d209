"""``segmentation run``: execute the pipeline's state machine definition locally.

Options only add fields to the execution input; anything left out takes the definition's default
(ApplyDefaults state), exactly as when the deployed state machine is started without them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run the segmentation pipeline locally by following its Step Functions definition",
    )
    p.add_argument("--algorithm", choices=["kmeans", "dbscan"], help="default: kmeans")
    p.add_argument("--k", help="kmeans clusters: a number in 2..50 or 'auto' (default)")
    p.add_argument("--k-max", type=int, help="largest k tried when k=auto (default 10)")
    p.add_argument("--eps", type=float, help="dbscan neighbourhood radius (default 1.0)")
    p.add_argument("--min-samples", type=int, help="dbscan core-point size (default 10)")
    p.add_argument("--window-days", type=int, help="feature window in days (default 90)")
    p.add_argument("--snapshot-date", help="YYYY-MM-DD features are computed at (default today)")
    p.add_argument("--run-id", help="execution name, run id and model version")
    p.add_argument(
        "--input",
        help="execution input as JSON (or @file.json); the options above override its fields",
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


def execution_input(args: argparse.Namespace) -> dict[str, Any]:
    """The execution input: --input, then each option given on the command line."""
    data: dict[str, Any] = {}
    if args.input:
        text = Path(args.input[1:]).read_text() if args.input.startswith("@") else args.input
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("--input must be a JSON object")
    if args.k is not None:
        data["k"] = args.k if args.k == "auto" else int(args.k)
    for field in ("algorithm", "k_max", "eps", "min_samples", "window_days", "snapshot_date"):
        value = getattr(args, field)
        if value is not None:
            data[field] = value
    if args.run_id:
        data["run_id"] = args.run_id
    return data


def run(args: argparse.Namespace) -> int:
    from segmentation_local.orchestration.local_runner import run_pipeline

    payload = execution_input(args)
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
