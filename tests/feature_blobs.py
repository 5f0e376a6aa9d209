"""Well-separated synthetic feature vectors (four behaviours) for the clustering tests, shared by
the pure-fit unit tests and the cluster step's integration tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation.pipeline.features import FEATURE_COLUMNS

COLS = list(FEATURE_COLUMNS)

# Four behaviours, by which features stand out (in original units).
BASE = dict(
    recency_days=10,
    frequency=8,
    monetary=10,
    avg_session_minutes=40,
    completion_rate=0.5,
    unique_genres=4,
    searches_per_session=1,
    banner_ctr=0.05,
    morning_share=0.2,
    evening_share=0.4,
    weekend_share=0.3,
    active_days=8,
)
SHIFTS = [
    dict(monetary=60, frequency=20, recency_days=2),  # loyal high-value
    dict(recency_days=60, frequency=2, active_days=2),  # lapsed
    dict(avg_session_minutes=150, completion_rate=0.9),  # binge
    dict(searches_per_session=6, banner_ctr=0.3, completion_rate=0.2),  # browser
]


def blobs(per: int = 100, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    rows, truth = [], []
    for i, shift in enumerate(SHIFTS):
        centre = {**BASE, **shift}
        for _ in range(per):
            rows.append({c: max(0.0, centre[c] * (1 + 0.05 * rng.standard_normal())) for c in COLS})
            truth.append(i)
    df = pd.DataFrame(rows)
    df.insert(0, "user_anon_id", [f"{i:064x}" for i in range(len(df))])
    return df, np.array(truth)
