"""Keys across a feature-space change: a version-2 predecessor (raw scaler, no transforms) is
matched in its own space, kept names stay, and a contested name goes to the older key without
any number."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from segmentation.model_document import ModelDocument, Scaler, SegmentProfile
from segmentation.pipeline.feature_space import FeatureSpace
from segmentation.pipeline.segment_identity import identify_profiles


def _profile(sid: int, name: str, means: dict, z: dict, key: str | None = None) -> SegmentProfile:
    return SegmentProfile(
        segment_id=sid,
        name=name,
        why="",
        size=100,
        share=0.5,
        means=means,
        z_scores=z,
        distinguishing=[],
        actions=[],
        segment_key=key,
        since="v1" if key else None,
    )


def test_a_version_2_predecessor_is_matched_in_its_own_space() -> None:
    previous = ModelDocument(
        schema_version=2,
        model_version="v1",
        algorithm="kmeans",
        snapshot_date=date(2026, 9, 23),
        pipeline_run_id="r1",
        mlflow_run_id="m",
        registered_model=None,
        n_users=200,
        params={},
        metrics={},
        k_sweep=[],
        eps_sweep=[],
        features=[],
        segments=[
            _profile(
                0, "binge watcher", {"monetary": 10.0, "avg_session_minutes": 150.0}, {}, "S1"
            ),
            _profile(1, "mainstream", {"monetary": 10.0, "avg_session_minutes": 40.0}, {}, "S2"),
        ],
        scaler=Scaler(
            mean={"monetary": 10.0, "avg_session_minutes": 95.0},
            std={"monetary": 5.0, "avg_session_minutes": 55.0},
        ),
        next_key=3,
    )
    space = FeatureSpace.of_document(previous)
    assert space is not None and space.columns == ("monetary", "avg_session_minutes")
    # this run: the same two behaviours; both segments' rules now say "binge watcher"
    users = pd.DataFrame(
        {"monetary": [10.0] * 4, "avg_session_minutes": [148.0, 152.0, 41.0, 39.0]}
    )
    x = space.transform(users)
    centres = {0: x[:2].mean(axis=0), 1: x[2:].mean(axis=0)}
    new = [
        _profile(0, "binge watcher", {}, {"avg_session_minutes": 1.0}),
        _profile(1, "binge watcher", {}, {"avg_session_minutes": 0.6, "monetary": -0.4}),
    ]
    profiles, retired, next_key = identify_profiles(new, previous, "v2", centres)
    by_id = {p.segment_id: p for p in profiles}
    assert (by_id[0].segment_key, by_id[1].segment_key) == ("S1", "S2")
    assert retired == [] and next_key == 3
    # S2 kept its name: its profile did not really change (distance within rename_distance)
    assert by_id[0].name == "binge watcher" and by_id[1].name == "mainstream"
    assert np.isclose(np.linalg.norm(centres[1] - np.array([0.0, -1.0])), 0.0, atol=0.01)


def test_a_contested_name_goes_to_the_older_key_and_the_newer_takes_its_next_candidate() -> None:
    new = [
        _profile(0, "binge watcher", {}, {"avg_session_minutes": 1.2, "evening_share": 0.8}),
        _profile(1, "binge watcher", {}, {"avg_session_minutes": 0.9, "completion_rate": 0.3}),
    ]
    profiles, _, _ = identify_profiles(new, None, "v1")
    by_key = {p.segment_key: p.name for p in profiles}
    assert by_key == {"S1": "binge watcher", "S2": "binge watcher (finishes titles)"}
