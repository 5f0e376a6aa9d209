"""A command's terminal shows its own steps: library logging, warnings and the local Spark
JVM's log4j lines go to the log file (the demo names it in its report)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent(
    """
    import logging, os, sys, warnings
    from pathlib import Path
    from segmentation_local.quiet import library_output_to

    logging.basicConfig(level=logging.INFO)  # what the CLI does: a console handler on root
    noisy = logging.getLogger("noisy.lib")
    noisy.addHandler(logging.StreamHandler(sys.stderr))  # a library with its own handler
    noisy.propagate = False
    log = Path(sys.argv[1])
    with library_output_to(log):
        from segmentation.config import Settings
        from segmentation.spark import get_spark

        spark = get_spark("quiet-test", Settings(spark_shuffle_partitions=1))
        jvm = spark.sparkContext._jvm
        jvm.org.apache.logging.log4j.LogManager.getLogger("seg.test").warn("jvm-warn-line")
        logging.getLogger("py4j.clientserver").info("py4j-info-line")
        noisy.warning("library-warning-line")
        warnings.warn("python-warning-line", UserWarning, stacklevel=1)
        print("own-output-line", file=sys.stderr)
        from mlflow.utils.logging_utils import eprint

        eprint("mlflow-eprint-line")  # how MLflow's registry reports a new model version
        assert os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] == "true"
        spark.stop()
    logging.getLogger("after").warning("restored-console-line")
    eprint("mlflow-restored-line")
    """
)


@pytest.mark.spark
def test_library_noise_goes_to_the_log_file_not_the_terminal(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "run.log"
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(log)],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "SEG_SPARK_LOG_FILE": ""},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    terminal = proc.stdout + proc.stderr
    for line in ("own-output-line", "restored-console-line", "mlflow-restored-line"):
        assert line in terminal
    noise = ("jvm-warn-line", "py4j-info-line", "library-warning-line", "python-warning-line")
    for line in (*noise, "mlflow-eprint-line"):
        assert line not in terminal, f"{line} reached the terminal:\n{terminal[-3000:]}"
    assert not re.search(r"^\S+ \S+ WARN ", terminal, re.M), terminal[-3000:]
    python_log = log.read_text()
    for line in ("py4j-info-line", "library-warning-line", "python-warning-line"):
        assert line in python_log
    assert "mlflow-eprint-line" in python_log
    assert "jvm-warn-line" in (log.parent / "run.spark.log").read_text()
