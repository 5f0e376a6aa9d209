"""The reference definitions of the 12 features, checked on events whose answers are worked out
by hand (the Spark feature job is compared against this module, so it must be exactly right)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from segmentation_local.synthetic.reference_features import (
    COUNT_COLUMNS,
    FEATURE_COLUMNS,
    compute_features,
)

SNAPSHOT = datetime(2026, 10, 1, tzinfo=UTC)
CATALOG = pd.DataFrame({"content_id": ["c1", "c2", "c3"], "genre": ["drama", "comedy", "drama"]})


def _events(rows: list[tuple]) -> pd.DataFrame:
    df = pd.DataFrame(
        rows,
        columns=["user_id", "timestamp", "event_type", "amount", "session_id", "content_id"],
    )
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    return df


EVENTS = _events(
    [
        # user A, session s1 on Saturday morning
        ("A", "2026-09-26T07:00:00Z", "search", None, "s1", None),
        ("A", "2026-09-26T07:01:00Z", "play", None, "s1", "c1"),
        ("A", "2026-09-26T07:31:00Z", "complete", None, "s1", "c1"),
        ("A", "2026-09-26T07:32:00Z", "banner_impression", None, "s1", None),
        ("A", "2026-09-26T07:32:10Z", "banner_click", None, "s1", None),
        ("A", "2026-09-26T07:40:00Z", "purchase", 4.99, "s1", "c2"),
        # user A, session s2 on Monday evening
        ("A", "2026-09-28T20:00:00Z", "play", None, "s2", "c2"),
        ("A", "2026-09-28T20:10:00Z", "stop", None, "s2", "c2"),
        ("A", "2026-09-28T20:11:00Z", "subscription", 7.99, "s2", None),
        # outside the window: before its start, and at its (exclusive) end
        ("A", "2026-06-01T20:00:00Z", "purchase", 100.0, "s0", "c3"),
        ("A", "2026-10-01T00:00:00Z", "play", None, "s9", "c3"),
        # user B: one search at the very first second of the window (Friday, midnight)
        ("B", "2026-07-03T00:00:00Z", "search", None, "s3", None),
        # user C: a purchase without amount, a play of unknown content, stop without complete
        ("C", "2026-09-30T23:00:00Z", "purchase", None, "s4", "c9"),
        ("C", "2026-09-30T23:00:30Z", "play", None, "s4", "c9"),
        ("C", "2026-09-30T23:05:30Z", "stop", None, "s4", "c9"),
        ("C", "2026-09-30T23:06:00Z", "banner_impression", None, "s4", None),
    ]
)


def test_features_match_hand_computed_values() -> None:
    f = compute_features(EVENTS, CATALOG, SNAPSHOT, 90)
    assert list(f.columns) == [*FEATURE_COLUMNS, *COUNT_COLUMNS]
    assert f.loc["A", "n_events"] == 9 and f.loc["B", "n_events"] == 1
    assert f.index.tolist() == ["A", "B", "C"]
    assert (f.dtypes == np.float64).all() and not f.isna().any().any()
    a, b, c = f.loc["A"], f.loc["B"], f.loc["C"]
    expected_a = {
        "recency_days": 2 + (3 * 60 + 49) / 1440,  # 2026-09-28T20:11 -> 2026-10-01T00:00
        "frequency": 2,
        "monetary": 4.99 + 7.99,  # the 100.0 purchase is before the window
        "avg_session_minutes": (40 + 11) / 2,
        "completion_rate": 0.5,
        "unique_genres": 2,  # c1 drama, c2 comedy (the purchase of c2 is not a play)
        "searches_per_session": 0.5,
        "banner_ctr": 1.0,
        "morning_share": 6 / 9,
        "evening_share": 3 / 9,
        "weekend_share": 6 / 9,
        "active_days": 2,
    }
    expected_b = dict.fromkeys(FEATURE_COLUMNS, 0.0) | {
        "recency_days": 90.0,  # its only event is at the window's first instant
        "frequency": 1,
        "searches_per_session": 1.0,
        "active_days": 1,
    }
    expected_c = dict.fromkeys(FEATURE_COLUMNS, 0.0) | {
        "recency_days": 54 / 1440,
        "frequency": 1,
        "avg_session_minutes": 6.0,
        "evening_share": 1.0,
        "active_days": 1,
    }
    for got, expected in ((a, expected_a), (b, expected_b), (c, expected_c)):
        for col, value in expected.items():
            assert got[col] == pytest.approx(value, abs=1e-12), (got.name, col)


def test_window_bounds_are_half_open() -> None:
    f = compute_features(EVENTS, CATALOG, SNAPSHOT, 1)
    assert f.index.tolist() == ["C"]  # only events of 2026-09-30 are inside a 1-day window
    later = compute_features(EVENTS, CATALOG, datetime(2026, 10, 2, tzinfo=UTC), 91)
    assert later.loc["A", "frequency"] == 3  # now the play at 2026-10-01T00:00 counts


def test_event_order_and_extra_columns_do_not_matter() -> None:
    shuffled = EVENTS.sample(frac=1.0, random_state=1).assign(device="tv")
    pd.testing.assert_frame_equal(
        compute_features(shuffled, CATALOG, SNAPSHOT, 90),
        compute_features(EVENTS, CATALOG, SNAPSHOT, 90),
    )


def test_bad_inputs_are_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="session_id"):
        compute_features(EVENTS.assign(session_id=None), CATALOG, SNAPSHOT, 90)
    with pytest.raises(ValueError, match="aware UTC"):
        compute_features(EVENTS, CATALOG, datetime(2026, 10, 1), 90)
