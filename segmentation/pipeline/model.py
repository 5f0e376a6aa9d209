"""The segmentation model as one self-contained object: scaler + assignment rule + names.

Spark's KMeansModel needs a Spark session to load, and DBSCAN has no predict at all; serving and
audits need neither. This small numpy model reproduces the assignment of the pipeline run (nearest
K-Means centre, or nearest DBSCAN core point within eps) from the raw features (the run's
:class:`~segmentation.pipeline.feature_space.FeatureSpace`: its features, shrinkage and
transforms, then the scaler), and is what is logged and registered in MLflow (as a pyfunc).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segmentation.pipeline.clustering import NOISE, DbscanModel
from segmentation.pipeline.feature_space import FeatureSpace


@dataclass
class SegmentModel:
    algorithm: str
    columns: list[str]
    mean: np.ndarray
    std: np.ndarray
    names: dict[int, str]
    centers: np.ndarray | None = None  # kmeans, in scaled units
    dbscan: DbscanModel | None = None
    params: dict[str, Any] = field(default_factory=dict)
    #: The run's feature space; None: plain standard scaling of ``columns`` (no transforms).
    space: FeatureSpace | None = None

    def scale(self, features: pd.DataFrame) -> np.ndarray:
        if self.space is not None:
            return self.space.transform(features)
        missing = [c for c in self.columns if c not in features.columns]
        if missing:
            raise ValueError(
                f"features lack column(s) {', '.join(missing)}; expected {', '.join(self.columns)}"
            )
        x = features[self.columns].to_numpy(dtype=float)
        return (x - self.mean) / np.where(self.std > 0, self.std, 1.0)

    def assign_scaled(self, x: np.ndarray) -> np.ndarray:
        if self.algorithm == "kmeans":
            assert self.centers is not None
            d = ((x[:, None, :] - self.centers[None, :, :]) ** 2).sum(axis=2)
            return d.argmin(axis=1).astype(np.int64)
        assert self.dbscan is not None
        return self.dbscan.assign(x)

    def predict(self, features: pd.DataFrame) -> pd.DataFrame:
        labels = self.assign_scaled(self.scale(features))
        return pd.DataFrame(
            {
                "segment_id": labels,
                "segment_name": [self.names.get(int(s), "unassigned (noise)") for s in labels],
            }
        )

    def scaler_json(self) -> dict[str, Any]:
        if self.space is not None:
            return self.space.describe()
        return {
            "kind": "standard (z = (x - mean) / std; std 0 -> 1)",
            "columns": self.columns,
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
        }


def pyfunc_wrapper(model: SegmentModel) -> Any:
    """An mlflow.pyfunc.PythonModel around ``model`` (mlflow imported lazily: EMR-only dep)."""
    import mlflow.pyfunc

    class SegmentPyfunc(mlflow.pyfunc.PythonModel):
        def __init__(self, inner: SegmentModel) -> None:
            self.inner = inner

        def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> Any:
            return self.inner.predict(model_input)

    return SegmentPyfunc(model)


__all__ = ["NOISE", "SegmentModel", "pyfunc_wrapper"]
