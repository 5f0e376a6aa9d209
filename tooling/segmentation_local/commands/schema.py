"""``segmentation schema``: print the event / CSV contract, or the pipeline parameters' schema."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    from segmentation.pipeline.params import STEP_MODELS

    p = sub.add_parser("schema", help="print the event contract (CSV columns, types, units)")
    p.add_argument("--json", action="store_true", help="print the JSON Schema of one event")
    p.add_argument(
        "--params",
        action="store_true",
        help="print the JSON Schema of the pipeline parameters (docs/params.schema.json)",
    )
    p.add_argument(
        "--params-table",
        nargs="?",
        const="execution",
        choices=["execution", *STEP_MODELS],
        help="print the execution-input table of docs/orchestration.md, or a step's argument "
        "table of docs/pipeline.md",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from segmentation.contract import Event, contract_as_text

    if args.params or args.params_table:
        from segmentation.pipeline.params import STEP_MODELS, json_schema, markdown_table

        if args.params:
            print(json.dumps(json_schema(), indent=2))
        elif args.params_table == "execution":
            print(markdown_table())
        else:
            print(markdown_table(STEP_MODELS[args.params_table]))
    elif args.json:
        print(json.dumps(Event.model_json_schema(), indent=2))
    else:
        print(contract_as_text())
    return 0
