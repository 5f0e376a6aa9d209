"""The demo report says what the run's clean step did: new rows, objects, time, curated's size."""

from __future__ import annotations

from segmentation_local.demo import DemoResult, clean_line, render_report

FIRST = {
    "run_id": "local-1",
    "seconds": 31.24,
    "noop": False,
    "rebuild": False,
    "rows_in": 4_998_123,
    "new_rows": 4_950_001,
    "objects_new": 120,
    "objects_before": 0,
    "objects_cleaned": 90,
    "version": 1,
    "curated_rows": 4_950_001,
    "curated_days": 91,
}


def test_the_report_shows_the_runs_new_rows_and_clean_time() -> None:
    states = [
        {"name": "CleanEvents", "type": "Task", "status": "succeeded", "duration_s": 31.24},
    ]
    text = render_report(DemoResult(execution={"states": states}, clean=FIRST))
    assert (
        "clean: 4,998,123 new rows from 120 new objects (0 already cleaned), 31.2 s; "
        "curated holds 4,950,001 rows in 91 days (version 1)"
    ) in text


def test_a_weekly_run_counts_the_objects_it_left_alone() -> None:
    week = {**FIRST, "rows_in": 390_000, "objects_new": 30, "objects_before": 90, "version": 3}
    assert "390,000 new rows from 30 new objects (90 already cleaned)" in clean_line(week)
    rebuild = {**week, "rebuild": True, "objects_new": 120}
    assert clean_line(rebuild).startswith("clean (full rebuild): 390,000 rows from 120 objects")


def test_a_run_with_nothing_new_says_so() -> None:
    noop = {"seconds": 2.0, "noop": True, "version": 3, "curated_rows": 10, "curated_days": 2}
    assert clean_line(noop) == (
        "clean: nothing new (no-op), 2.0 s; curated holds 10 rows in 2 days (version 3)"
    )
    assert "clean:" not in render_report(DemoResult())  # no execution, no line
