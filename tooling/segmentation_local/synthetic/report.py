"""The human-readable summary that ``segmentation generate`` and ``segmentation demo`` print."""

from __future__ import annotations

from typing import Any


def format_summary(summary: dict[str, Any], seconds: float | None = None) -> str:
    """A concise multi-line report of a data set's summary.json content."""
    c = summary["counts"]
    w = summary["window"]
    lines = [
        f"users {c['users']:,}  sessions {c['sessions']:,}  events {c['events']:,} "
        f"(clean {c['events_clean']:,}; CSV rows {c['events_csv_rows']:,})  "
        f"transactions {c['transactions']:,}  catalog {c['catalog']:,}",
        f"window {w['start']} .. {w['end_exclusive']} ({w['days']} days, end exclusive)",
        "event types: " + ", ".join(f"{k} {v:,}" for k, v in summary["event_types"].items()),
        "personas: "
        + ", ".join(
            f"{k} {v['share']:.1%} ({v['events'] / max(v['users'], 1):.0f} ev/user)"
            for k, v in summary["personas"].items()
        ),
        "defects injected: "
        + ", ".join(f"{k} {v['total']:,}" for k, v in summary["defects"].items()),
    ]
    if "parent" in summary:
        p = summary["parent"]
        lines.insert(
            1,
            f"continues {p['path']} (dataset {p['dataset_id']}, window {p['window']['start']} .. "
            f"{p['window']['end_exclusive']}): {c['new_users']:,} new users, "
            f"{c['active_users']:,} active users; this data set {summary['dataset_id']}",
        )
    if seconds is not None:
        rate = c["events"] / seconds if seconds > 0 else float("inf")
        lines.append(f"generated and written in {seconds:.1f} s ({rate:,.0f} events/s)")
    return "\n".join(lines)
