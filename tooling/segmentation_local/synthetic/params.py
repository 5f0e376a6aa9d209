"""What a synthetic data set is made from: its size, window, seed and defect rates; and what
its continuation (the next batch) is made from.

One pydantic model per concern so the CLI, the demo and the tests describe a data set the same way,
and a bad value (a rate above 1, zero users) is refused with the field's name before any work.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict, Field

from segmentation_local.synthetic.shift import Shift

#: Default last day of the window: fixed, so a data set never depends on the day it was generated.
DEFAULT_END_DATE = date(2026, 9, 30)


class DefectRates(BaseModel):
    """Probability of each injected defect; every rate is a per-row Bernoulli probability.

    The denominators differ by defect and are documented in docs/data.md: most rates apply to the
    clean events, ``missing_numeric`` to events that carry a number, ``outlier_amounts`` to money
    events and ``malformed_csv`` to the data rows of the CSV.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    exact_duplicates: float = Field(
        0.01, ge=0.0, le=0.5, description="Events re-sent unchanged (same event_id, same content)."
    )
    conflicting_duplicates: float = Field(
        0.005,
        ge=0.0,
        le=0.5,
        description="Events re-sent with the same event_id but a different timestamp and values.",
    )
    missing_categorical: float = Field(
        0.02, ge=0.0, le=0.5, description="Events losing one of device / country / content_id."
    )
    missing_numeric: float = Field(
        0.02,
        ge=0.0,
        le=0.5,
        description="Events with a number (money amount, watch_seconds) that lose it.",
    )
    outlier_amounts: float = Field(
        0.005, ge=0.0, le=0.5, description="Money events whose amount is multiplied by 20..1000."
    )
    late_events: float = Field(
        0.01,
        ge=0.0,
        le=0.5,
        description="Late events: timestamp 1 minute..3 days earlier than their arrival.",
    )
    out_of_window: float = Field(
        0.003,
        ge=0.0,
        le=0.5,
        description="Events with a timestamp before the window, far in the future, or in 1970.",
    )
    malformed_csv: float = Field(
        0.002,
        ge=0.0,
        le=0.5,
        description="Extra unreadable CSV rows (field count, timestamp, amount, event_type).",
    )

    @classmethod
    def none(cls) -> DefectRates:
        """A clean data set: the ground truth the features and the personas are checked on."""
        return cls(**dict.fromkeys(cls.model_fields, 0.0))


class GenerateParams(BaseModel):
    """Size, window and seed of one synthetic data set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    users: int = Field(50_000, ge=1, le=5_000_000, description="Number of users.")
    days: int = Field(90, ge=7, le=3650, description="Length of the event window in days.")
    seed: int = Field(42, ge=0, description="Random seed; the same seed gives the same files.")
    end_date: date = Field(
        DEFAULT_END_DATE,
        description="Last day (UTC) of the window; events end before its midnight.",
    )
    catalog_size: int = Field(3000, ge=50, le=1_000_000, description="Number of catalog items.")
    defects: DefectRates = Field(default_factory=DefectRates)

    @property
    def window_end(self) -> datetime:
        """Exclusive end of the window: midnight UTC after ``end_date`` (the snapshot instant)."""
        return datetime.combine(self.end_date + timedelta(days=1), time(0), tzinfo=UTC)

    @property
    def window_start(self) -> datetime:
        """Inclusive start of the window, ``days`` whole days before its end."""
        return self.window_end - timedelta(days=self.days)


class CrossBatchRates(BaseModel):
    """Defects that reach across batches: what an incremental lake must recognise weeks later.

    All default to 0, so a plain continuation is a batch of its own period only. The late
    events are drawn from this batch's clean events; the duplicates from the parent's events
    (each distinct ``event_id`` of the parent once), see docs/data.md.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    late_into_parent: float = Field(
        0.0,
        ge=0.0,
        le=0.5,
        description="Events of this batch that arrive late, dated inside the parent's window.",
    )
    parent_duplicates: float = Field(
        0.0,
        ge=0.0,
        le=0.5,
        description="Parent events re-sent unchanged in this batch (same event_id and values).",
    )
    parent_conflicting_duplicates: float = Field(
        0.0,
        ge=0.0,
        le=0.5,
        description="Parent events re-sent in this batch, timestamp +1 s..1 h, other values.",
    )


class ContinueParams(BaseModel):
    """The next batch of an existing data set: same seed, users, personas and catalog.

    ``defects=None`` keeps the parent's in-batch defect rates; the shift applies from this batch
    on and accumulates along the lineage.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    days: int = Field(7, ge=1, le=3650, description="Days of the batch, from the parent's end.")
    new_users: int = Field(0, ge=0, le=5_000_000, description="Users who join during the batch.")
    shift: Shift = Field(default_factory=Shift)
    defects: DefectRates | None = None
    cross_batch: CrossBatchRates = Field(default_factory=CrossBatchRates)
