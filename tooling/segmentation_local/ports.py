"""The local stack's ports and the environment that points every client at them.

Shared by ``segmentation demo`` and ``segmentation up`` (:mod:`segmentation_local.stack`), so the
two start the same services the same way."""

from __future__ import annotations

import os
import sys

from segmentation_local import process


def pick_ports(free_ports: bool = False) -> dict[str, int]:
    """The configured ports (refused when busy), or free ones when ``free_ports``."""
    from segmentation.config import Settings

    s = Settings()
    ports = {
        "moto": s.moto_port,
        "mlflow": s.mlflow_port,
        "broker": s.broker_port,
        "api": s.api_port,
    }
    if free_ports:
        return dict(zip(ports, process.free_ports(len(ports)), strict=True))
    busy = [f"{name} ({port})" for name, port in ports.items() if process.port_open(port)]
    if busy:
        raise RuntimeError(
            f"port(s) in use: {', '.join(busy)}; stop what runs there (`make down`?) or use "
            "--free-ports"
        )
    return ports


def environment(ports: dict[str, int]) -> dict[str, str]:
    endpoint = f"http://127.0.0.1:{ports['moto']}"
    return {
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        "AWS_DEFAULT_REGION": "us-east-1",
        "SEG_AWS_ENDPOINT_URL": endpoint,
        "SEG_MOTO_PORT": str(ports["moto"]),
        "SEG_MLFLOW_PORT": str(ports["mlflow"]),
        "SEG_MLFLOW_TRACKING_URI": f"http://127.0.0.1:{ports['mlflow']}",
        "SEG_BROKER_PORT": str(ports["broker"]),
        "SEG_KAFKA_BOOTSTRAP": f"127.0.0.1:{ports['broker']}",
        "SEG_API_PORT": str(ports["api"]),
        "MLFLOW_S3_ENDPOINT_URL": endpoint,
        "POWERTOOLS_METRICS_DISABLED": "true",  # EMF lines feed CloudWatch; locally only noise
        "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
        "PYSPARK_PYTHON": os.environ.get("PYSPARK_PYTHON", sys.executable),
    }
