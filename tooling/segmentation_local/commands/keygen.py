"""``segmentation keygen``: create (or rotate) the HMAC key in Secrets Manager; never print it.

``--campaigns`` does the same for the campaigns' arm key (a key of its own)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "keygen",
        help="create the HMAC key that anonymises user ids, in Secrets Manager (never printed)",
    )
    p.add_argument(
        "--rotate",
        action="store_true",
        help="replace an existing key (every pseudonym changes: re-run the pipeline after)",
    )
    p.add_argument(
        "--campaigns",
        action="store_true",
        help="the campaigns' arm key instead (rotating it re-draws every campaign's arms)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from segmentation.anonymise import store_key
    from segmentation.campaign.arms import store_arm_key
    from segmentation.config import get_settings

    settings = get_settings()
    if args.campaigns:
        action = store_arm_key(settings, rotate=args.rotate)
        name = settings.campaign_secret_name
    else:
        action = store_key(settings, rotate=args.rotate)
        name = settings.hmac_secret_name
    if action == "exists":
        print(f"secret {name!r} already exists; kept it (use --rotate to replace it)")
    else:
        print(f"secret {name!r} {action} (32 random bytes, hex; the key is not shown)")
    return 0
