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


def test_the_report_says_what_the_second_run_kept_and_what_the_monitor_saw() -> None:
    from test_model_document import document, profile

    from segmentation.model_document import Comparison, RetiredSegment

    prev = document(
        model_version="segmentation-kmeans-v1",
        segments=[
            profile(segment_key="S1", since="segmentation-kmeans-v1"),
            profile(segment_id=1, name="mainstream", size=60, segment_key="S2", since="v1"),
        ],
    )
    model = document(
        model_version="segmentation-kmeans-v2",
        previous_model_version="segmentation-kmeans-v1",
        segments=[
            profile(size=44, segment_key="S1", since="segmentation-kmeans-v1", previous_size=40),
            profile(segment_id=1, name="deal seeker", size=56, segment_key="S3", since="v2"),
        ],
        retired_segments=[
            RetiredSegment(segment_key="S2", name="mainstream", since="v1", last_size=60)
        ],
        comparison=Comparison(
            previous_model_version="segmentation-kmeans-v1",
            common_users=98,
            ari=0.91234,
            transitions={"S1": {"S1": 1.0}},
            largest_share_shift=0.04,
            feature_psi={"monetary": 0.031, "frequency": 0.012},
        ),
    )
    output = {
        "steps": {"monitor": {"crossed": [], "flip": True, "figures": {"ari_vs_previous": 0.91}}}
    }
    text = render_report(
        DemoResult(execution={"states": [], "output": output}, model=model, previous_model=prev)
    )
    assert (
        "run over run: segmentation-kmeans-v1 (snapshot 2026-09-30) -> segmentation-kmeans-v2"
        in text
    )
    assert "keys held: 1 of 2; new: 1; retired: 1" in text
    assert "S1 binge watcher: 40 -> 44 users" in text
    assert "S3 deal seeker: new, 56 users" in text and "S2 mainstream: retired (60 users)" in text
    assert "98 users in both: adjusted Rand index 0.912" in text
    assert "largest share shift 4.0%; largest PSI 0.031 (monetary)" in text
    assert "monitor: no threshold crossed; pointer flipped" in text


def test_the_report_says_which_features_the_model_left_out_and_what_the_fit_did() -> None:
    from test_model_document import document

    from segmentation.model_document import FeatureSpaceDoc

    model = document(
        feature_space=FeatureSpaceDoc(
            features=["monetary", "frequency"],
            log1p=["monetary"],
            left_out={"banner_ctr": "zero for 99.1 % of users (>= 95 %)"},
        ),
        fit_notes=["cluster 3 (6 users) under the floor of 50: merged into segment 1"],
    )
    text = render_report(DemoResult(execution={"states": []}, model=model))
    assert "features: 2 in the model (log1p: monetary)" in text
    assert "  left out: banner_ctr: zero for 99.1 % of users (>= 95 %)" in text
    assert "fit: cluster 3 (6 users) under the floor of 50: merged into segment 1" in text
