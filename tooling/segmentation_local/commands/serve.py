"""``segmentation serve``: the segment API Lambda on localhost behind a local API Gateway, and
the web console beside it (its page, sign-in against the local Cognito, uploads, runs)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve", help="serve the segment API and the web console locally (same Lambda handler)"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, help="API port (default: SEG_API_PORT, 8080)")
    p.add_argument(
        "--console-port", type=int, help="web console port (default: SEG_CONSOLE_PORT, 8081)"
    )
    p.add_argument(
        "--no-console", action="store_true", help="serve the segment API only, as before"
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        default=Path(".local/console"),
        help="where the console's local runs are recorded (default .local/console)",
    )
    p.add_argument("--openapi", action="store_true", help="print the OpenAPI spec and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.openapi:
        from segmentation.serving.api import openapi_json

        print(openapi_json())
        return 0
    from segmentation.config import get_settings

    settings = get_settings()
    port = args.port or settings.api_port
    if args.no_console or not settings.endpoint_url:
        from segmentation_local.api_gateway import serve_forever

        serve_forever(args.host, port)
        return 0
    from segmentation_local.console import LocalConsole

    console = LocalConsole(
        args.state_dir.resolve(),
        settings,
        host=args.host,
        api_port=port,
        console_port=args.console_port or settings.console_port,
    )
    with console:
        print(
            f"segment API on {console.api.url}\nweb console on {console.url} "
            "(sign in as an analyst: `segmentation analyst add EMAIL`; Ctrl-C stops)",
            file=sys.stderr,
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            console.serve_forever()
    return 0
