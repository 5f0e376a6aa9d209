"""The backtest step's parts that need no lake: which version it takes, the horizon's reduction
in Spark (on a plain local session), its parameters and its JSON."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from segmentation.pipeline.args import ArgumentError, resolve
from segmentation.pipeline.backtest import outcomes
from segmentation.pipeline.backtest_step import Candidate, choose_version, horizon_activity, plain
from segmentation.pipeline.clean_rules import window_bounds

ROOT = "s3://p-segments/profiles"


def _c(version: str, snapshot: str, written: int = 0) -> Candidate:
    return Candidate(version, date.fromisoformat(snapshot), written)


def test_the_newest_version_old_enough_is_taken() -> None:
    found = [
        _c("v1", "2026-09-02", 10),
        _c("v2", "2026-09-30", 20),
        _c("v3", "2026-09-30", 30),  # the same snapshot re-run later: the newer one
        _c("v4", "2026-10-28", 40),  # too young for the horizon
    ]
    assert choose_version(found, date(2026, 9, 30), ROOT).model_version == "v3"
    assert choose_version(found, date(2026, 10, 27), ROOT).model_version == "v3"
    assert choose_version(found, date(2026, 9, 29), ROOT).model_version == "v1"
    assert choose_version(found, date(2026, 10, 28), ROOT).model_version == "v4"


def test_no_version_old_enough_says_what_there_is() -> None:
    found = [_c("v2", "2026-09-30"), _c("v4", "2026-10-28")]
    with pytest.raises(FileNotFoundError) as err:
        choose_version(found, date(2026, 8, 31), ROOT)
    message = str(err.value)
    assert "no model version of snapshot 2026-08-31 or earlier in s3://p-segments" in message
    assert "2026-09-30, 2026-10-28" in message
    with pytest.raises(FileNotFoundError, match="there is none"):
        choose_version([], date(2026, 8, 31), ROOT)


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_horizon_activity_gives_the_outcomes_the_events_give(spark) -> None:
    """One row per user and event type, only (T, T + H]: the outcomes computed from it equal
    those of the raw events of the horizon, and events outside it do not count."""
    rows = [
        ("a", "play", None, "2026-10-01 00:00:00"),  # first instant of the horizon
        ("a", "purchase", 7.5, "2026-10-03 12:00:00"),
        ("a", "purchase", 2.5, "2026-10-04 12:00:00"),
        ("b", "search", None, "2026-10-28 23:59:59"),  # last instant
        ("b", "purchase", 50.0, "2026-10-29 00:00:00"),  # the day after: outside
        ("c", "purchase", 9.0, "2026-09-30 23:59:59"),  # the snapshot day: outside
        ("d", "subscription", None, "2026-10-10 08:00:00"),  # bought, amount unknown
    ]
    rows = [(u, t, a, _ts(ts)) for u, t, a, ts in rows]
    events = spark.createDataFrame(
        rows, "user_anon_id string, event_type string, amount double, event_ts timestamp"
    )
    frame = pd.DataFrame(rows, columns=["user_anon_id", "event_type", "amount", "event_ts"])
    start, end = window_bounds(date(2026, 10, 28), 28)
    activity = horizon_activity(events, start, end).toPandas()
    assert sorted(activity.columns) == ["amount", "event_type", "events", "user_anon_id"]
    assert len(activity) == 4  # (a, play), (a, purchase), (b, search), (d, subscription)
    bought = activity[(activity.user_anon_id == "a") & (activity.event_type == "purchase")]
    assert bought.iloc[0]["events"] == 2 and bought.iloc[0]["amount"] == 10.0

    users = pd.Index(["a", "b", "c", "d", "e"])
    inside = frame[(frame.event_ts >= _ts("2026-10-01")) & (frame.event_ts < _ts("2026-10-29"))]
    expected = outcomes(users, inside)
    got = outcomes(users, activity)
    pd.testing.assert_frame_equal(got, expected)
    assert got.loc["a", "spend"] == 10.0 and got.loc["b", "bought_again"] == 0.0
    assert got.loc["c", "churned"] == 1.0 and got.loc["d", "bought_again"] == 1.0
    assert got.loc["d", "spend"] == 0.0


def test_the_step_parameters() -> None:
    args = resolve("backtest", {"--snapshot_date": "2026-10-28", "--horizon_days": "28"})
    assert args.horizon_days == 28 and args.model_version is None and args.mlflow is True
    assert args.snapshot_date == date(2026, 10, 28) and args.splits == 5
    assert resolve("backtest", {"model_version": "", "mlflow": "false"}).mlflow is False
    for bad, named in [
        ({"horizon_days": "0"}, "--horizon_days: got '0', expected an integer >= 1 and <= 365"),
        ({"horizon_days": "366"}, "expected an integer >= 1 and <= 365"),
        ({"splits": "0"}, "--splits"),
        ({"horizon": "28"}, "unknown argument(s) --horizon"),
    ]:
        with pytest.raises(ArgumentError) as err:
            resolve("backtest", bad)
        assert named in str(err.value)


def test_the_report_is_plain_json() -> None:
    payload = {"a": np.int64(3), "b": [np.float64(0.5), math.nan], "c": {"d": math.inf}}
    assert plain(payload) == {"a": 3, "b": [0.5, None], "c": {"d": None}}
    assert type(plain(payload)["a"]) is int
