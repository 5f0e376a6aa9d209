"""MLflow tracking of a clustering run: parameters, metrics, the k sweep, artifacts, tags, and the
registered model.

Only aggregates are logged: parameters of the algorithm, scores, per-segment sizes and means.
No user id (not even the pseudonymous user_anon_id) ever goes to MLflow.
"""

from __future__ import annotations

import json
import logging
import math
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from segmentation import __version__

log = logging.getLogger(__name__)


def code_version() -> str:
    """Package version, plus the git commit when the code runs from a checkout."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"{__version__}+g{sha}" if sha else __version__


def _finite(metrics: dict[str, Any]) -> dict[str, float]:
    return {
        k: float(v)
        for k, v in metrics.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    }


class Tracker:
    """One MLflow run; a thin layer so the step reads as a list of what is recorded."""

    def __init__(self, tracking_uri: str, experiment: str) -> None:
        import mlflow

        self.mlflow = mlflow
        self.client = mlflow.MlflowClient(tracking_uri=tracking_uri)
        mlflow.set_tracking_uri(tracking_uri)
        mlflow.set_registry_uri(tracking_uri)
        exp = self.client.get_experiment_by_name(experiment)
        self.experiment_id = (
            exp.experiment_id if exp is not None else self.client.create_experiment(experiment)
        )
        self.run: Any = None
        self._tmp = tempfile.TemporaryDirectory(prefix="seg-mlflow-")

    def start(self, run_name: str, tags: dict[str, str]) -> str:
        self.run = self.mlflow.start_run(
            experiment_id=self.experiment_id, run_name=run_name, tags=tags
        )
        return str(self.run.info.run_id)

    def params(self, params: dict[str, Any]) -> None:
        self.mlflow.log_params({k: ("" if v is None else str(v)) for k, v in params.items()})

    def metrics(self, metrics: dict[str, Any], step: int | None = None) -> None:
        finite = _finite(metrics)
        if finite:
            self.mlflow.log_metrics(finite, step=step)

    def sweep(self, name: str, rows: list[dict[str, Any]], step_key: str | None = None) -> None:
        """A parameter sweep: each numeric column as the metric history ``<name>_<column>``
        (step = the row's ``step_key`` value, else its index), and the table as ``<name>.json``."""
        for i, row in enumerate(rows):
            step = int(row[step_key]) if step_key else i
            self.metrics({f"{name}_{k}": v for k, v in row.items() if k != step_key}, step=step)
        self.json_artifact(f"{name}.json", rows)

    def json_artifact(self, name: str, payload: Any, folder: str | None = None) -> None:
        path = Path(self._tmp.name) / name
        path.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str))
        self.mlflow.log_artifact(str(path), artifact_path=folder)

    def model(self, python_model: Any, registered_name: str | None, example: Any) -> str | None:
        """Log the pyfunc model; register it when a name is given; return the registry version."""
        from mlflow.models import infer_signature

        signature = infer_signature(example, python_model.predict(None, example))
        info = self.mlflow.pyfunc.log_model(
            name="model",
            python_model=python_model,
            signature=signature,
            pip_requirements=["scikit-learn", "numpy", "pandas", f"segmentation=={__version__}"],
            registered_model_name=registered_name,
        )
        version = getattr(info, "registered_model_version", None)
        return str(version) if version is not None else None

    def end(self, status: str = "FINISHED") -> None:
        if self.run is not None:
            self.mlflow.end_run(status=status)
            self.run = None
        self._tmp.cleanup()
