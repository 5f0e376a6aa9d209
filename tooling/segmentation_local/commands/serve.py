"""``segmentation serve``: the segment API Lambda on localhost behind a local API Gateway."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the segment API locally (same Lambda handler)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, help="default: SEG_API_PORT (8080)")
    p.add_argument("--openapi", action="store_true", help="print the OpenAPI spec and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.openapi:
        from segmentation.serving.api import openapi_json

        print(openapi_json())
        return 0
    from segmentation.config import get_settings
    from segmentation_local.api_gateway import serve_forever

    serve_forever(args.host, args.port or get_settings().api_port)
    return 0
