"""The local stack as long-running background services: ``segmentation up`` / ``down``.

``up`` starts moto server, the Kafka broker and the MLflow server detached (their own process
groups, logs in the state dir), provisions the local AWS (Terraform envs/local by default), fills
the HMAC key, creates the topic, and writes ``stack.json`` (pids, ports) and ``stack.env`` (the
variables every command needs to use this stack). ``down`` stops exactly those processes.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

STACK_FILE = "stack.json"
ENV_FILE = "stack.env"
#: A pid is only signalled when its command line still names the service (pids get recycled).
MARKERS = {"moto": b"segmentation_local.motoserver", "broker": b"tansu", "mlflow": b"mlflow"}


def up(state_dir: Path, provision: str = "terraform", free_ports: bool = False) -> dict[str, Any]:
    from segmentation_local.ports import environment, pick_ports
    from segmentation_local.provisioning import provision_stack

    state_dir.mkdir(parents=True, exist_ok=True)
    if (state_dir / STACK_FILE).exists() and running(state_dir):
        raise RuntimeError(f"a stack is already up ({state_dir / STACK_FILE}); `make down` first")
    ports = pick_ports(free_ports)
    env = environment(ports)
    os.environ.update(env)
    from segmentation.config import get_settings
    from segmentation_local.broker import broker_service, create_topic
    from segmentation_local.mlflow_server import mlflow_service
    from segmentation_local.motoserver import moto_service

    get_settings.cache_clear()
    settings = get_settings()
    logs = state_dir / "logs"
    started: dict[str, int] = {}
    try:
        for name, service in (
            ("moto", moto_service(ports["moto"], logs)),
            ("broker", broker_service(ports["broker"], logs)),
        ):
            started[name] = service.start().process.pid  # type: ignore[union-attr]
            _write(state_dir, started, ports, env)
            print(f"{name} up (pid {started[name]})", flush=True)
        create_topic(settings.kafka_bootstrap, settings.kafka_topic)
        provision_stack(settings, provision, state_dir, print)
        mlflow = mlflow_service(settings, state_dir / "mlflow", ports["mlflow"]).start()
        started["mlflow"] = mlflow.process.pid  # type: ignore[union-attr]
        _write(state_dir, started, ports, env)
        print(f"mlflow up (pid {started['mlflow']})", flush=True)
    except BaseException:
        down(state_dir)
        raise
    return {"pids": started, "ports": ports, "env_file": str(state_dir / ENV_FILE)}


def _write(state_dir: Path, pids: dict[str, int], ports: dict[str, int], env: dict) -> None:
    (state_dir / STACK_FILE).write_text(json.dumps({"pids": pids, "ports": ports}, indent=2))
    exports = {k: v for k, v in env.items() if k.startswith(("SEG_", "AWS_", "MLFLOW_"))}
    (state_dir / ENV_FILE).write_text("".join(f"export {k}={v}\n" for k, v in exports.items()))


def _alive(name: str, pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return MARKERS.get(name, b"") in cmdline


def running(state_dir: Path) -> dict[str, int]:
    path = state_dir / STACK_FILE
    if not path.exists():
        return {}
    pids = json.loads(path.read_text()).get("pids", {})
    return {n: p for n, p in pids.items() if _alive(n, p)}


def down(state_dir: Path, timeout: float = 10.0) -> list[str]:
    """Stop the processes ``up`` recorded (their whole process groups); returns their names."""
    stopped = []
    for name, pid in running(state_dir).items():
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + timeout
        while _alive(name, pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(name, pid):
            os.killpg(pid, signal.SIGKILL)
        stopped.append(name)
    (state_dir / STACK_FILE).unlink(missing_ok=True)
    return stopped
