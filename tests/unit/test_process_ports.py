"""Free ports for concurrent runs: distinct when several are picked, and a service whose port was
taken before it bound retries on another one."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

from segmentation_local.process import Service, free_ports, port_open, start_on_free_port


def test_ports_picked_together_are_distinct() -> None:
    for _ in range(50):
        ports = free_ports(8)
        assert len(set(ports)) == 8


def _http_server(port: int, log_dir: Path) -> Service:
    return Service(
        name="http",
        argv=[sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
        ready=lambda: port_open(port),
        log_path=log_dir / "http.log",
        startup_timeout=20,
    )


def test_a_service_retries_on_a_new_port_when_its_port_was_taken(tmp_path: Path) -> None:
    taken = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    blocked = taken.getsockname()[1]
    tried: list[int] = []

    def make(port: int) -> Service:
        port = blocked if not tried else port  # the first pick is stolen before it binds
        tried.append(port)
        return _http_server(port, tmp_path)

    try:
        port, service = start_on_free_port(make)
        try:
            assert tried[0] == blocked and port != blocked and port_open(tried[-1])
            assert len(tried) == 2
        finally:
            service.stop()
    finally:
        taken.close()
