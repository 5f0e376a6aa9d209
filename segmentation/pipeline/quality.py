"""The clean step's data-quality report: what each rule let through, imputed, capped or refused.

Measuring is kept apart from the rules so the rules stay lazy and the counts cost a fixed number
of passes: one over the flagged input, one over the deduplicated events (both cached by the
step), one over the curated output. :func:`quality_report` only assembles the JSON document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyspark.sql import Column, DataFrame, Row
from pyspark.sql import functions as F

from segmentation.contract import MONEY_EVENTS
from segmentation.pipeline.clean_rules import COPIES, REASONS, TypeStats
from segmentation.pipeline.schemas import EVENT_COLUMNS

#: The rules in the order the report lists them (the order the step applies them).
RULES: tuple[str, ...] = (
    "validate",
    "dedup_exact",
    "dedup_event_id",
    "impute",
    "cap_outliers",
    "sessionise",
)


def _null_counts(columns: tuple[str, ...]) -> list[Column]:
    return [F.sum(F.col(c).isNull().cast("long")).alias(f"null_{c}") for c in columns]


def _rates(row: Row, total: int, columns: tuple[str, ...]) -> dict[str, float]:
    return {c: round((row[f"null_{c}"] or 0) / total, 6) if total else 0.0 for c in columns}


@dataclass(frozen=True)
class InputCounts:
    """The input as read: rows, null rate per event column, quarantined rows per reason."""

    rows: int
    null_rates: dict[str, float]
    quarantined: dict[str, int]

    @property
    def valid(self) -> int:
        return self.rows - sum(self.quarantined.values())


def measure_input(flagged: DataFrame) -> InputCounts:
    """One pass over the output of :func:`~.clean_rules.flag_invalid`."""
    row = flagged.agg(
        F.count(F.lit(1)).alias("n"),
        *[F.sum((F.col("reason") == r).cast("long")).alias(r) for r in REASONS],
        *_null_counts(EVENT_COLUMNS),
    ).first()
    n = int(row["n"])
    by_reason = {r: int(row[r] or 0) for r in REASONS if row[r]}
    return InputCounts(n, _rates(row, n, EVENT_COLUMNS), by_reason)


@dataclass(frozen=True)
class DedupCounts:
    """Rows left after the exact dedup and after the event_id dedup."""

    after_exact: int
    after_event_id: int


def measure_dedup(deduped: DataFrame) -> DedupCounts:
    """One pass over the output of :func:`~.clean_rules.dedup_event_id` (its ``_copies`` are the
    rows the exact dedup left, so that rule's count needs no pass of its own)."""
    row = deduped.agg(F.count(F.lit(1)).alias("n"), F.sum(COPIES).alias("copies")).first()
    return DedupCounts(after_exact=int(row["copies"] or 0), after_event_id=int(row["n"]))


@dataclass(frozen=True)
class OutputCounts:
    """The curated events: rows, users, null rates, and how many values the rules changed."""

    rows: int
    users: int
    null_rates: dict[str, float]
    imputed: dict[str, int]
    capped_by_type: dict[str, int]


def measure_output(curated: DataFrame) -> OutputCounts:
    """One pass over the curated events (the output of :func:`~.clean_rules.to_curated`)."""
    capped = F.col("amount_capped")
    money = sorted(MONEY_EVENTS)
    row = curated.agg(
        F.count(F.lit(1)).alias("n"),
        *[
            F.sum((capped & (F.col("event_type") == t)).cast("long")).alias(f"capped_{t}")
            for t in money
        ],
        F.sum(F.col("amount_imputed").cast("long")).alias("amount_imputed"),
        F.sum(F.col("watch_seconds_imputed").cast("long")).alias("watch_imputed"),
        F.sum(F.col("session_imputed").cast("long")).alias("session_imputed"),
        F.approx_count_distinct("user_anon_id", 0.01).alias("users"),
        *_null_counts(EVENT_COLUMNS),
    ).first()
    n = int(row["n"])
    return OutputCounts(
        rows=n,
        users=int(row["users"]),
        null_rates=_rates(row, n, EVENT_COLUMNS),
        imputed={
            "amount": int(row["amount_imputed"] or 0),
            "watch_seconds": int(row["watch_imputed"] or 0),
            "session_id": int(row["session_imputed"] or 0),
        },
        capped_by_type={t: int(row[f"capped_{t}"]) for t in money if row[f"capped_{t}"]},
    )


def quality_report(
    inputs: InputCounts, dedup: DedupCounts, stats: TypeStats, output: OutputCounts
) -> dict[str, Any]:
    """The report's measured part: rows in and out of every rule, and what each one did.

    The rules after the dedups change values, never the number of rows: their rows in and out
    are the deduplicated count.
    """
    kept = dedup.after_event_id
    rows = [
        (inputs.rows, inputs.valid),
        (inputs.valid, dedup.after_exact),
        (dedup.after_exact, kept),
        (kept, kept),
        (kept, kept),
        (kept, kept),
    ]
    return {
        "rules": [
            {"rule": rule, "rows_in": n_in, "rows_out": n_out}
            for rule, (n_in, n_out) in zip(RULES, rows, strict=True)
        ],
        "rows_in": inputs.rows,
        "null_rates_in": inputs.null_rates,
        "quarantined": inputs.quarantined,
        "duplicates": {
            "exact": inputs.valid - dedup.after_exact,
            "event_id": dedup.after_exact - kept,
        },
        "medians": stats.medians,
        "iqr_fences": stats.fences,
        "rows_out": output.rows,
        "users_out": output.users,
        "null_rates_out": output.null_rates,
        "imputed": output.imputed,
        "outliers_capped": {
            "total": sum(output.capped_by_type.values()),
            "by_event_type": output.capped_by_type,
        },
    }
