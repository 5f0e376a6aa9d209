"""Defects: injected at the configured rates, counted exactly, verifiable in the data itself."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pandas as pd
import pytest

from segmentation_local.synthetic import DefectRates, GenerateParams, generate

PARAMS = GenerateParams(users=700, seed=3, catalog_size=500)


def within_binomial(count: int, n: int, rate: float, sigmas: float = 4.5) -> bool:
    sd = math.sqrt(n * rate * (1 - rate))
    return abs(count - n * rate) <= sigmas * sd + 1


@pytest.fixture(scope="module")
def pair() -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    dirty = generate(PARAMS)
    clean = generate(PARAMS.model_copy(update={"defects": DefectRates.none()}))
    return dirty.events.to_pandas(), clean.events.to_pandas(), dirty.summary["defects"]


@pytest.mark.parametrize(
    "rates",
    [DefectRates(), DefectRates(**dict.fromkeys(DefectRates.model_fields, 0.05))],
    ids=["defaults", "five-percent"],
)
def test_counts_match_configured_rates(rates: DefectRates) -> None:
    summary = generate(PARAMS.model_copy(update={"defects": rates})).summary["defects"]
    assert set(summary) == set(DefectRates.model_fields)
    for name, counted in summary.items():
        rate = getattr(rates, name)
        assert counted["total"] > 0, name
        assert within_binomial(counted["total"], counted["eligible"], rate), (name, counted, rate)


def test_rate_zero_injects_nothing() -> None:
    ds = generate(PARAMS.model_copy(update={"defects": DefectRates.none()}))
    assert all(v["total"] == 0 for v in ds.summary["defects"].values())
    ev = ds.events.to_pandas()
    assert ds.malformed.after_row.size == 0
    assert ev["event_id"].is_unique and ev["timestamp"].is_monotonic_increasing
    assert ev[["device", "country", "session_id"]].notna().all().all()
    assert ds.summary["counts"]["events"] == ds.summary["counts"]["events_clean"]


def test_duplicates_are_visible_in_the_data(pair: tuple) -> None:
    dirty, clean, counts = pair
    assert (
        len(dirty)
        == len(clean)
        + counts["exact_duplicates"]["total"]
        + (counts["conflicting_duplicates"]["total"])
    )
    exact = dirty.duplicated(keep="first").sum()
    assert exact == counts["exact_duplicates"]["total"]
    distinct = dirty.drop_duplicates()
    assert distinct["event_id"].duplicated().sum() == counts["conflicting_duplicates"]["total"]
    # A re-send comes after its original: first occurrences keep the clean arrival order.
    firsts = dirty.drop_duplicates("event_id", keep="first")["event_id"]
    assert firsts.tolist() == clean["event_id"].tolist()


def test_value_defects_are_visible_in_the_data(pair: tuple) -> None:
    dirty, clean, counts = pair
    originals = dirty.drop_duplicates("event_id", keep="first").set_index("event_id")
    base = clean.set_index("event_id").loc[originals.index]
    miss = counts["missing_categorical"]
    assert originals["device"].isna().sum() == miss["device"]
    assert originals["country"].isna().sum() == miss["country"]
    lost = originals["content_id"].isna() & base["content_id"].notna()
    assert lost.sum() == miss["content_id"]
    num = counts["missing_numeric"]
    assert (originals["amount"].isna() & base["amount"].notna()).sum() == num["amount"]
    lost_watch = originals["watch_seconds"].isna() & base["watch_seconds"].notna()
    assert lost_watch.sum() == num["watch_seconds"]
    ratio = originals["amount"] / base["amount"]
    assert ((ratio >= 19.9) & (ratio <= 1000.1)).sum() == counts["outlier_amounts"]["total"]
    assert base["amount"].max() < 20 and originals["amount"].max() > 20 * 3


def test_timestamp_defects_are_visible_in_the_data(pair: tuple) -> None:
    dirty, clean, counts = pair
    originals = dirty.drop_duplicates("event_id", keep="first").set_index("event_id")
    base = clean.set_index("event_id").loc[originals.index]
    shift = (base["timestamp"] - originals["timestamp"]).dt.total_seconds()
    start, end = PARAMS.window_start, PARAMS.window_end
    inside = (originals["timestamp"] >= start) & (originals["timestamp"] < end)
    late = (shift >= 60) & (shift <= 3 * 86400) & inside
    assert late.sum() == counts["late_events"]["total"]
    oow = counts["out_of_window"]
    ts = originals["timestamp"]
    assert (ts < datetime(2000, 1, 1, tzinfo=UTC)).sum() == oow["epoch_1970"]
    assert (ts > datetime(2036, 1, 1, tzinfo=UTC)).sum() == oow["future"]
    before = (ts >= datetime(2000, 1, 1, tzinfo=UTC)) & (ts < start)
    assert before.sum() == oow["before_window"]
    # Late events keep their arrival position: the file is not sorted by timestamp any more.
    assert not dirty["timestamp"].is_monotonic_increasing


def test_rates_are_validated() -> None:
    with pytest.raises(ValueError, match="exact_duplicates"):
        DefectRates(exact_duplicates=1.5)
    with pytest.raises(ValueError, match="extra"):
        DefectRates(typo_rate=0.1)
