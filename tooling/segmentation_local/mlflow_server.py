"""The local MLflow tracking server: sqlite backend store, artifacts in the lake's artifacts bucket
on moto S3 (as on AWS, where they go to the artifacts bucket), proxied by the server.

Job execution is switched off (MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false): otherwise the server
spawns ~10 worker processes and ~2.7 GB for a feature the pipeline does not use.
"""

from __future__ import annotations

import sys
from pathlib import Path

from segmentation.config import Settings
from segmentation_local.process import Service, http_ok


def artifacts_destination(settings: Settings) -> str:
    return f"s3://{settings.bucket('artifacts')}/mlflow"


def mlflow_env(settings: Settings) -> dict[str, str]:
    """Environment the server AND every client need to reach artifacts on the local S3."""
    env = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "AWS_DEFAULT_REGION": settings.aws_region}
    if settings.service_endpoint("s3"):
        env["MLFLOW_S3_ENDPOINT_URL"] = settings.service_endpoint("s3")
    return env


def mlflow_service(settings: Settings, state_dir: Path, port: int | None = None) -> Service:
    """A :class:`Service` running ``mlflow server`` on ``port`` (default: settings.mlflow_port).

    The artifacts bucket must exist (Terraform creates it; tests create it).
    """
    port = port or settings.mlflow_port
    state_dir.mkdir(parents=True, exist_ok=True)
    mlflow_bin = Path(sys.executable).with_name("mlflow")
    argv = [
        str(mlflow_bin) if mlflow_bin.exists() else "mlflow",
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--backend-store-uri",
        f"sqlite:///{(state_dir / 'mlflow.db').resolve()}",
        "--artifacts-destination",
        artifacts_destination(settings),
        "--workers",
        "1",
    ]
    return Service(
        name="mlflow",
        argv=argv,
        ready=http_ok(f"http://127.0.0.1:{port}/health"),
        log_path=state_dir / "mlflow.log",
        env=mlflow_env(settings),
        startup_timeout=120.0,
    )
