"""``segmentation release VERSION``: make a held model version current.

With ``drift_gate: hold`` a run whose figures crossed a threshold loads its version but leaves
the previous one serving; after a person has looked at the Monitor's alert, this flips the
pointer (the same conditional write publish makes), on AWS or on the local stack alike.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("release", help="make a held model version current (after the drift gate)")
    p.add_argument("model_version", help="the version to serve, e.g. segmentation-kmeans-v7")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from segmentation.serving.publish import release

    try:
        result = release(args.model_version)
    except ValueError as exc:
        print(f"error: {exc}")
        return 2
    was = result.previous_version or "nothing"
    print(
        f"released {result.model_version}: now serving {result.users:,} users in "
        f"{result.segments} segments (was {was})"
    )
    return 0
