"""``segmentation schema``: print the event / CSV contract."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("schema", help="print the event contract (CSV columns, types, units)")
    p.add_argument("--json", action="store_true", help="print the JSON Schema of one event")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from segmentation.contract import Event, contract_as_text

    if args.json:
        print(json.dumps(Event.model_json_schema(), indent=2))
    else:
        print(contract_as_text())
    return 0
