"""Why this user: the features driving an assignment, and the sentences the API says them in."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from segmentation.pipeline.explain import driving_features, reasons_json, segment_centres
from segmentation.serving.reasons import sentence, sentences


def test_the_margin_over_the_next_nearest_centre_names_the_features() -> None:
    centres = np.array([[0.0, 0.0, 0.0], [3.0, 0.0, 0.0], [0.0, 0.0, 3.0]])
    x = np.array(
        [
            [2.9, 0.1, 0.0],  # segment 1, held there by feature 0
            [0.2, 5.0, 2.4],  # segment 2 by feature 2 (feature 1 is equally far from all)
            [0.1, 0.0, 0.5],  # segment 0: the next nearest is 2, kept away by feature 2
        ]
    )
    labels = np.array([1, 2, 0])
    picks = driving_features(x, labels, centres, [0, 1, 2])
    assert picks[0] == [0]
    assert picks[1] == [2]
    assert picks[2] == [2]
    # noise, or a single segment: the features the user stands out on most
    assert driving_features(x[:1], np.array([-1]), centres, [0, 1, 2]) == [[0, 1]]
    assert driving_features(x[1:2], np.array([0]), centres[:1], [0]) == [[1, 2, 0]]


def test_reasons_carry_the_users_own_values_in_original_units() -> None:
    frame = pd.DataFrame({"monetary": [10.0, 20.0, 600.0], "frequency": [1.0, 2.0, 3.0]})
    x = np.array([[-0.6, -1.0], [-0.5, 0.0], [1.1, 1.0]])
    labels = np.array([0, 0, 1])
    centres, ids = segment_centres(labels, x, None)
    assert ids == [0, 1]
    out = [
        json.loads(r)
        for r in reasons_json(frame, x, labels, ["monetary", "frequency"], centres, ids)
    ]
    rich = out[2]
    assert rich[0] == {"feature": "monetary", "value": 600.0, "mean": 210.0}
    assert {r["feature"] for r in rich} == {"monetary", "frequency"}


def test_sentences_say_the_value_and_the_average() -> None:
    stored = [
        {"feature": "monetary", "value": 412.0, "mean": 57.3},
        {"feature": "weekend_share", "value": 0.8, "mean": 0.29},
        {"feature": "recency_days", "value": 2.25, "mean": 31.0},
        {"feature": "frequency"},  # malformed: skipped
    ]
    assert sentences(stored) == [
        "Spent 412.00 EUR in the window (average 57.30 EUR).",
        "80 % of the activity on weekends (average 29 %).",
        "Last active 2.2 days before the snapshot (average 31).",
    ]
    assert sentences(None) == []
    assert sentence({"feature": "new_feature", "value": 3, "mean": 1}) == (
        "New_feature: 3.0 (average 1.0)."
    )
