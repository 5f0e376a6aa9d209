"""The clean step's rules, each a DataFrame -> DataFrame transform (:mod:`.clean` orders them).

Rules are lazy and pure: none runs a Spark action, caches or writes, so each can be tested on a
few rows and the step decides where a result is worth keeping. The two rules that need numbers
from the data (imputation medians, outlier fences) take them as arguments; :func:`fit_type_stats`
computes them once from the deduplicated events.

Frames between rules carry lineage columns besides the event's: ``_zone`` (the zone a row was read
from) and, after :func:`dedup_event_id`, ``_copies``; :func:`to_curated` drops them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from segmentation.contract import AMOUNT_MAX, DEVICES, EVENT_TYPES, MONEY_EVENTS, TIMESTAMP_MIN
from segmentation.lake import PARTITION_COLUMN
from segmentation.pipeline.schemas import CONTENT_COLUMNS, CURATED_COLUMNS

CONTENT_EVENTS: tuple[str, ...] = ("play", "pause", "stop", "complete", "purchase")
WATCH_EVENTS: tuple[str, ...] = ("pause", "stop", "complete")
CATEGORICAL_FILL: tuple[str, ...] = ("device", "country")
MAX_WATCH_SECONDS = 7 * 86400.0
FUTURE_SKEW_SECONDS = 86400
#: Lineage column of the zone a row was read from (raw, hot).
ZONE = "_zone"
#: After event_id dedup: how many exactly-deduplicated rows the kept row stands for.
COPIES = "_copies"

#: Quarantine reasons, checked in this order; a row gets the first one that applies.
REASONS: tuple[str, ...] = (
    "missing_user_anon_id",
    "missing_event_ts",
    "unknown_event_type",
    "timestamp_before_2000",
    "timestamp_after_ingest",
    "invalid_amount",
    "invalid_watch_seconds",
    "unknown_device",
    "before_window",
    "after_window",
)


def window_bounds(snapshot_date: date, window_days: int) -> tuple[int, int]:
    """Epoch seconds [start, end) of the window: ``window_days`` whole UTC days ending with
    ``snapshot_date`` (end = the midnight after it, the snapshot instant)."""
    end = int(datetime.combine(snapshot_date + timedelta(days=1), time(0), UTC).timestamp())
    return end - window_days * 86400, end


def _reason(window: tuple[int, int]) -> Column:
    ts = F.col("event_ts").cast("long")
    ingest = F.coalesce(F.col("ingest_ts"), F.current_timestamp()).cast("long")
    amount = F.col("amount")
    watch = F.col("watch_seconds")
    checks = [
        (F.col("user_anon_id").isNull() | (F.trim("user_anon_id") == ""), REASONS[0]),
        (F.col("event_ts").isNull(), REASONS[1]),
        (~F.coalesce(F.col("event_type").isin(*EVENT_TYPES), F.lit(False)), REASONS[2]),
        (ts < int(TIMESTAMP_MIN.timestamp()), REASONS[3]),
        (ts > ingest + FUTURE_SKEW_SECONDS, REASONS[4]),
        (amount.isNotNull() & (F.isnan(amount) | (amount < 0) | (amount > AMOUNT_MAX)), REASONS[5]),
        (
            watch.isNotNull() & (F.isnan(watch) | (watch < 0) | (watch > MAX_WATCH_SECONDS)),
            REASONS[6],
        ),
        (F.col("device").isNotNull() & ~F.col("device").isin(*DEVICES), REASONS[7]),
        (ts < window[0], REASONS[8]),
        (ts >= window[1], REASONS[9]),
    ]
    expr = F.lit(None).cast("string")
    for cond, reason in reversed(checks):
        expr = F.when(cond, F.lit(reason)).otherwise(expr)
    return expr


def flag_invalid(df: DataFrame, window: tuple[int, int]) -> DataFrame:
    """Add ``reason``: why the row cannot be a curated event (first of :data:`REASONS`), or null.

    Flagging rather than filtering lets one pass over the input both count the reasons and split
    it into the valid rows and the quarantine (:func:`valid_rows`, :func:`invalid_rows`).
    """
    return df.withColumn("reason", _reason(window))


def valid_rows(flagged: DataFrame) -> DataFrame:
    """The rows :func:`flag_invalid` found nothing wrong with, without the reason column."""
    return flagged.where(F.col("reason").isNull()).drop("reason")


def invalid_rows(flagged: DataFrame) -> DataFrame:
    """The rows for the quarantine, each with its reason."""
    return flagged.where(F.col("reason").isNotNull())


def _earliest_ingest() -> Column:
    """Sort key of the copies of one event: the earliest ingested wins, a missing time loses."""
    return F.coalesce(F.col("ingest_ts"), F.lit("9999-12-31").cast("timestamp")).alias("_k")


# Both dedups are hash aggregations rather than sorted windows: a duplicate keeps its
# earliest-ingested copy through a min over a struct led by the ingest time.


def dedup_exact(df: DataFrame) -> DataFrame:
    """Rows equal on every event column (ingest lineage aside) are one event delivered twice
    (e.g. through both Kafka and batch); keep the earliest ingested copy."""
    return (
        df.groupBy(*CONTENT_COLUMNS)
        .agg(F.min(F.struct(_earliest_ingest(), "ingest_ts", "source", ZONE)).alias("_r"))
        .select(*CONTENT_COLUMNS, "_r.ingest_ts", "_r.source", f"_r.{ZONE}")
    )


def dedup_event_id(df: DataFrame) -> DataFrame:
    """Rows sharing an event_id keep the earliest ingested one; adds ``_copies``.

    Rows without an event_id cannot collide on it; keeping them out of the grouping avoids one
    giant null group. ``_copies`` (rows per event_id before this rule) lets the quality report
    count event_id duplicates in the same pass that counts the rows kept.
    """
    lineage = ("ingest_ts", "source", ZONE)
    others = [c for c in df.columns if c not in {"event_id", *lineage}]
    with_id = (
        df.where(F.col("event_id").isNotNull())
        .groupBy("event_id")
        .agg(
            F.min(F.struct(_earliest_ingest(), *lineage, *others)).alias("_r"),
            F.count(F.lit(1)).alias(COPIES),
        )
        .select("event_id", COPIES, *[f"_r.{c}" for c in (*lineage, *others)])
    )
    without_id = df.where(F.col("event_id").isNull()).withColumn(COPIES, F.lit(1).cast("long"))
    return with_id.unionByName(without_id)


@dataclass(frozen=True)
class TypeStats:
    """Per event type: medians of amount / watch_seconds, and the amount IQR fences of money
    events (``q1``, ``q3``, ``lower``, ``upper``), as the quality report prints them."""

    medians: dict[str, dict[str, float]]
    fences: dict[str, dict[str, float]]


def fit_type_stats(df: DataFrame, iqr_k: float) -> TypeStats:
    """The numbers :func:`impute` and :func:`cap_outliers` need, in one aggregation (an action).

    Fences are ``[max(0, Q1 - k*IQR), Q3 + k*IQR]``: an amount is never capped below zero.
    """
    stats = (
        df.groupBy("event_type")
        .agg(
            F.percentile_approx("amount", [0.25, 0.5, 0.75], 10_000).alias("aq"),
            F.percentile_approx("watch_seconds", 0.5, 10_000).alias("wmed"),
        )
        .collect()
    )
    medians: dict[str, dict[str, float]] = {}
    fences: dict[str, dict[str, float]] = {}
    for row in stats:
        et = row["event_type"]
        aq = row["aq"]
        medians[et] = {
            "amount": float(aq[1]) if aq else 0.0,
            "watch_seconds": float(row["wmed"]) if row["wmed"] is not None else 0.0,
        }
        if et in MONEY_EVENTS and aq:
            q1, q3 = float(aq[0]), float(aq[2])
            iqr = q3 - q1
            fences[et] = {
                "q1": q1,
                "q3": q3,
                "lower": max(0.0, q1 - iqr_k * iqr),
                "upper": q3 + iqr_k * iqr,
            }
    return TypeStats(medians, fences)


def _by_type(mapping: dict[str, float], default: float) -> Column:
    """A CASE on event_type returning the per-type value."""
    expr = F.lit(default)
    for key, value in mapping.items():
        expr = F.when(F.col("event_type") == key, F.lit(float(value))).otherwise(expr)
    return expr


def _is_money() -> Column:
    return F.col("event_type").isin(*sorted(MONEY_EVENTS))


def impute(df: DataFrame, medians: dict[str, dict[str, float]]) -> DataFrame:
    """Fill the gaps; flags ``amount_imputed`` / ``watch_seconds_imputed``.

    Categorical gaps become ``"unknown"`` (device, country, and content_id of content events); a
    missing amount of a money event and a missing watch_seconds of a pause / stop / complete
    event take the median of their event type; where a number does not apply (amount of a
    non-money event, watch_seconds of other events) a gap becomes 0.
    """
    is_money = _is_money()
    is_watch = F.col("event_type").isin(*WATCH_EVENTS)
    amount_med = _by_type({k: v["amount"] for k, v in medians.items()}, 0.0)
    watch_med = _by_type({k: v["watch_seconds"] for k, v in medians.items()}, 0.0)
    out = df.withColumn("amount_imputed", is_money & F.col("amount").isNull()).withColumn(
        "amount",
        F.when(F.col("amount").isNotNull(), F.col("amount"))
        .when(is_money, amount_med)
        .otherwise(F.lit(0.0)),
    )
    out = out.withColumn("watch_seconds_imputed", is_watch & F.col("watch_seconds").isNull())
    out = out.withColumn(
        "watch_seconds",
        F.when(F.col("watch_seconds").isNotNull(), F.col("watch_seconds"))
        .when(is_watch, watch_med)
        .otherwise(F.lit(0.0)),
    )
    for c in CATEGORICAL_FILL:
        out = out.withColumn(c, F.coalesce(F.col(c), F.lit("unknown")))
    return out.withColumn(
        "content_id",
        F.when(
            F.col("content_id").isNull() & F.col("event_type").isin(*CONTENT_EVENTS),
            F.lit("unknown"),
        ).otherwise(F.col("content_id")),
    )


def cap_outliers(df: DataFrame, fences: dict[str, dict[str, float]]) -> DataFrame:
    """Per money event type, amounts outside the fences are set to the fence and flagged
    ``amount_capped``; other events' amounts are left alone."""
    is_money = _is_money()
    lower = _by_type({k: v["lower"] for k, v in fences.items()}, 0.0)
    upper = _by_type({k: v["upper"] for k, v in fences.items()}, float(AMOUNT_MAX))
    capped = is_money & ((F.col("amount") > upper) | (F.col("amount") < lower))
    return df.withColumn("amount_capped", capped).withColumn(
        "amount",
        F.when(F.col("amount") > upper, upper)
        .when(is_money & (F.col("amount") < lower), lower)
        .otherwise(F.col("amount")),
    )


def sessionise(df: DataFrame, gap_minutes: int) -> DataFrame:
    """Give events without a session_id one: per user, a new session starts after more than
    ``gap_minutes`` without an event; its id is ``gap-<epoch second of its first event>``.
    Flags ``session_imputed``, so every curated event belongs to a session and says whose."""
    epoch = F.col("event_ts").cast("long")
    lacking = df.where(F.col("session_id").isNull())
    w = Window.partitionBy("user_anon_id").orderBy(epoch)
    prev = F.lag(epoch).over(w)
    lacking = lacking.withColumn(
        "_new", F.when(prev.isNull() | (epoch - prev > gap_minutes * 60), 1).otherwise(0)
    ).withColumn("_grp", F.sum("_new").over(w.rowsBetween(Window.unboundedPreceding, 0)))
    start = F.min(epoch).over(Window.partitionBy("user_anon_id", "_grp"))
    lacking = (
        lacking.withColumn("session_id", F.concat(F.lit("gap-"), start.cast("string")))
        .withColumn("session_imputed", F.lit(True))
        .drop("_new", "_grp")
    )
    having = df.where(F.col("session_id").isNotNull()).withColumn("session_imputed", F.lit(False))
    return having.unionByName(lacking)


def to_curated(df: DataFrame) -> DataFrame:
    """The curated zone's columns (:data:`~segmentation.lake.CURATED_EVENT_SCHEMA`, lineage
    dropped) and the ``event_date`` partition (UTC day of the event)."""
    day = F.from_unixtime(F.col("event_ts").cast("long"), "yyyy-MM-dd")
    return df.withColumn(PARTITION_COLUMN, day).select(*CURATED_COLUMNS, PARTITION_COLUMN)
