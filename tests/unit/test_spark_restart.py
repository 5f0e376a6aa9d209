"""A local step retried after the Spark JVM died gets a new session, not the dead one (the state
machine's retry used to fail at once with "Connection refused")."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    from segmentation.config import Settings
    from segmentation.spark import get_spark, session_alive

    settings = Settings(spark_shuffle_partitions=1)
    first = get_spark("restart-test", settings)
    assert first.range(5).count() == 5 and session_alive(first)
    first.sparkContext._gateway.proc.kill()  # the JVM dies under the session
    first.sparkContext._gateway.proc.wait()
    assert not session_alive(first)
    second = get_spark("restart-test", settings)
    assert second is not first and session_alive(second)
    print("rows", second.range(7).count())
    second.stop()
    """
)


@pytest.mark.spark
def test_a_dead_local_session_is_replaced() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "SEG_SPARK_LOG_FILE": ""},
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert "rows 7" in proc.stdout


def test_scratch_of_a_killed_session_is_removed_by_the_next(tmp_path) -> None:
    """A driver killed with SIGKILL cannot delete its spark-*/blockmgr-* directories; the next
    session deletes those of dead processes and leaves the live ones alone."""
    from segmentation.spark import scratch_dir

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = tmp_path / f"{gone.pid}-abc"
    (dead / "blockmgr-1").mkdir(parents=True)
    live = tmp_path / f"{os.getppid()}-def"
    live.mkdir()
    mine = scratch_dir(tmp_path)
    assert not dead.exists() and live.exists() and mine.exists()
    assert mine.name.startswith(f"{os.getpid()}-")
