"""``segmentation config``: show every setting, its environment variable and current value."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="list every setting (SEG_* variables) and its value")
    p.add_argument("--markdown", action="store_true", help="print the README table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from segmentation.config import Settings

    settings = Settings()
    if args.markdown:
        print("| variable | default | meaning |\n|---|---|---|")
    for name, field in Settings.model_fields.items():
        env = f"SEG_{name.upper()}"
        if args.markdown:
            print(f"| `{env}` | `{field.default}` | {field.description} |")
        else:
            print(f"{env}={getattr(settings, name)}")
    return 0
