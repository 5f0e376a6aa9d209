"""MLflow tracking of a clustering run: parameters, metrics, the k sweep, artifacts, tags, and the
registered model.

:class:`Tracker` is the thin layer over MLflow; :func:`log_fit`, :func:`log_model` and
:func:`log_document` record a :class:`~segmentation.pipeline.fit.FitResult` and its model document,
so the fit stays free of MLflow and the step only composes.

Only aggregates are logged: parameters of the algorithm, scores, per-segment sizes and means.
No user id (not even the pseudonymous user_anon_id) ever goes to MLflow.
"""

from __future__ import annotations

import json
import logging
import math
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segmentation import __version__
from segmentation.model_document import ModelDocument
from segmentation.pipeline.model import pyfunc_wrapper

if TYPE_CHECKING:
    from segmentation.pipeline.fit import FitResult

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

    @property
    def run_id(self) -> str:
        if self.run is None:
            raise RuntimeError("no MLflow run started")
        return str(self.run.info.run_id)

    @contextmanager
    def started(self, run_name: str, tags: dict[str, str]) -> Iterator[str]:
        """A run that ends FINISHED when the block completes and FAILED when it raises, so a
        step that fails after logging (e.g. writing its outputs) leaves no run marked done."""
        run_id = self.start(run_name, tags)
        try:
            yield run_id
        except BaseException:
            self.end("FAILED")
            raise
        self.end()

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


def log_fit(tracker: Tracker, result: FitResult, params: dict[str, Any]) -> None:
    """Parameters, sweeps, scores, segment shares and the model's parts of one fit."""
    tracker.params(params)
    if result.k_sweep:
        tracker.sweep("k_sweep", result.k_sweep, step_key="k")
    if result.eps_sweep:
        tracker.sweep("eps_sweep", result.eps_sweep)
    tracker.metrics({k: v for k, v in result.scores.items() if v is not None})
    tracker.metrics({f"segment_{p.segment_id}_share": p.share for p in result.profiles})
    tracker.json_artifact("scaler.json", result.model.scaler_json(), "model_parts")
    if result.centers is not None:
        tracker.json_artifact("centers.json", result.centers.tolist(), "model_parts")
    if result.k_distance is not None:
        tracker.json_artifact("k_distance.json", result.k_distance)


def log_model(
    tracker: Tracker,
    result: FitResult,
    params: dict[str, Any],
    registered: str | None,
    unregistered_version: str,
) -> str:
    """Log (and register, when ``registered`` names the model) the fitted model; return the
    model version the segments are published under: ``<registered>-v<n>`` from the registry,
    else ``unregistered_version``. The run is tagged with it so MLflow links back to the lake."""
    scalars = {k: v for k, v in params.items() if isinstance(v, int | float | str)}
    model = replace(result.model, params=scalars)
    version = tracker.model(pyfunc_wrapper(model), registered, result.example)
    model_version = f"{registered}-v{version}" if registered and version else unregistered_version
    tracker.client.set_tag(tracker.run_id, "model_version", model_version)
    return model_version


def log_document(tracker: Tracker, document: ModelDocument) -> None:
    """The model document as the run's ``profiles.json``, the same bytes' content as the lake's."""
    tracker.json_artifact("profiles.json", document.model_dump(mode="json"))
