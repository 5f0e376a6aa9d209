"""The ``segmentation`` command.

Subcommands live one per module in :mod:`segmentation_local.commands`; each exposes
``register(subparsers)``. Discovery keeps this file untouched as commands are added, and heavy
imports (Spark, MLflow) stay inside each command's run function so ``segmentation --help`` is fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

from segmentation import __version__
from segmentation_local import commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="segmentation",
        description="Turn raw VoD user events into stable, interpretable customer segments.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # py4j narrates every gateway connection at INFO (and once more at interpreter exit, after
    # a command's report): nothing a user acts on
    logging.getLogger("py4j").setLevel(logging.WARNING)
    try:
        result = args.func(args)
    except KeyboardInterrupt:
        return 130
    except (ValueError, FileNotFoundError) as exc:
        # Bad input is the user's to fix: say what was wrong without a traceback.
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
