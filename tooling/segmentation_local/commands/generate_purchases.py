"""``segmentation generate-purchases``: a purchase-only CSV, shaped like a retailer's export.

user_id, timestamp (a date: UTC midnight), event_type (purchase), amount, event_id; no
viewing events at all (:mod:`segmentation_local.synthetic.purchases`). Ends on 1998-12-31 by
default, the late-1990s export issue 14 was found on: the contract's lower bound
(``SEG_TIMESTAMP_MIN``, 1990-01-01) accepts it as it is.
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate-purchases", help="write a purchase-only CSV (user_id, date, purchase, amount)"
    )
    p.add_argument("--users", type=int, default=23_000, help="customers (default 23,000)")
    p.add_argument("--days", type=int, default=540, help="days the export covers (default 540)")
    p.add_argument("--end", default="1998-12-31", help="day after the last purchase (YYYY-MM-DD)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", required=True, help="CSV file to write")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from segmentation_local.synthetic.purchases import purchase_events

    if args.users < 1 or args.days < 2:
        print("error: --users must be >= 1 and --days >= 2")
        return 2
    end = date.fromisoformat(args.end)
    events = purchase_events(
        args.users, args.days, args.seed, datetime(end.year, end.month, end.day, tzinfo=UTC)
    )
    out = events[["user_id", "timestamp", "event_type", "amount", "event_id"]].copy()
    out["timestamp"] = out["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    out.to_csv(args.out, index=False)
    first, last = events["timestamp"].min().date(), events["timestamp"].max().date()
    print(
        f"wrote {args.out}: {len(out):,} purchases of {args.users:,} customers, {first} .. {last}"
    )
    return 0
