"""Start, wait for and stop the local stack's background services.

Every embedded service (moto, broker, MLflow) is a child process with a log file and a readiness
probe; one implementation keeps start-up, time-outs and clean shutdown the same for all of them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports that are free now. All are held open until every one is
    chosen: picked one at a time, the kernel may hand the same port out twice."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(s)
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def free_port() -> int:
    """A currently free loopback port, for tests that must not collide with a running stack."""
    return free_ports(1)[0]


def start_on_free_port(make: Callable[[int], Service], attempts: int = 3) -> tuple[int, Service]:
    """Start the service ``make(port)`` builds on a free port, trying a new port when it exits
    while starting: between choosing a port and the service binding it, another process (a
    concurrent test run, an outgoing connection) may take it."""
    for attempt in range(attempts):
        port = free_port()
        service = make(port)
        try:
            return port, service.start()
        except RuntimeError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def http_ok(url: str) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return 200 <= resp.status < 500
        except OSError:
            return False

    return probe


@dataclass
class Service:
    """A background process plus how to know it is ready."""

    name: str
    argv: Sequence[str]
    ready: Callable[[], bool]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    startup_timeout: float = 60.0
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> Service:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            list(self.argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.env},
            start_new_session=True,  # its own process group, so stop() reaps its children too
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with code {self.process.returncode} while starting; "
                    f"see {self.log_path}"
                )
            if self.ready() and self._still_running():
                return self
            time.sleep(0.2)
        self.stop()
        raise TimeoutError(
            f"{self.name} not ready after {self.startup_timeout:.0f}s; see {self.log_path}"
        )

    def _still_running(self, settle: float = 0.3) -> bool:
        """Ready, and still alive a moment later: a probe can be answered by another process
        on the same port while ours is failing to bind it."""
        time.sleep(settle)
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(
                f"{self.name} exited with code {self.process.returncode} while starting "
                f"(its port answered, so another process holds it); see {self.log_path}"
            )
        return True

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=timeout)

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
