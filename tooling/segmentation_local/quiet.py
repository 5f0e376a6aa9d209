"""Keep a command's own output readable: library noise goes to a log file the report names.

A local run mixes three chatty sources into the terminal: Python logging of the libraries
(py4j's connection notices, MLflow's and botocore's messages, each with its own handler), Python
warnings (MLflow's model-signature and pickle warnings) and the JVM's log4j lines (Spark's
``WARN``). :func:`library_output_to` sends all three to one file for as long as it is active;
the command keeps printing its own steps and report to the terminal.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

#: Read by mlflow: do not attach a console handler of its own (at import), and do not write each
#: run's "View run / View experiment" URLs to stdout (at a run's end; the report names the run).
MLFLOW_ENV = {"MLFLOW_CONFIGURE_LOGGING": "false", "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true"}


@contextlib.contextmanager
def _mlflow_messages_to(stream: TextIO) -> Iterator[None]:
    """MLflow prints its registry messages ("Registered model ... already exists", "Created
    version ...") with ``eprint``, straight to stderr through a module-level stream, not through
    logging; pointing that stream at the log file keeps them, out of the terminal."""
    try:
        from mlflow.utils import logging_utils
    except ImportError:  # the tooling without the pipeline extra
        yield
        return
    saved = logging_utils.MLFLOW_LOGGING_STREAM
    logging_utils.MLFLOW_LOGGING_STREAM = stream
    try:
        yield
    finally:
        logging_utils.MLFLOW_LOGGING_STREAM = saved


def _console_handlers(logger: logging.Logger) -> list[logging.Handler]:
    return [
        h
        for h in logger.handlers
        if isinstance(h, logging.StreamHandler)
        and not isinstance(h, logging.FileHandler)
        and getattr(h, "stream", None) in (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__)
    ]


@contextlib.contextmanager
def library_output_to(log_file: Path, level: int = logging.INFO) -> Iterator[Path]:
    """Route Python logging, warnings and (through ``SEG_SPARK_LOG_FILE``) the local Spark JVM's
    log to ``log_file`` (the JVM's to ``<log_file>.spark``); everything is restored on exit."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    spark_log = log_file.with_name(log_file.stem + ".spark.log")
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    saved_root = (root.level, list(root.handlers))
    detached: list[tuple[logging.Logger, logging.Handler, bool]] = []
    loggers = [logging.getLogger(n) for n in list(logging.root.manager.loggerDict)]
    for logger in loggers:
        for h in _console_handlers(logger):
            detached.append((logger, h, logger.propagate))
            logger.removeHandler(h)
            logger.propagate = True
    for h in _console_handlers(root):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(level)
    saved_env = {k: os.environ.get(k) for k in (*MLFLOW_ENV, "SEG_SPARK_LOG_FILE")}
    os.environ.update({**MLFLOW_ENV, "SEG_SPARK_LOG_FILE": str(spark_log)})
    logging.captureWarnings(True)
    try:
        with _mlflow_messages_to(handler.stream):
            yield log_file
    finally:
        logging.captureWarnings(False)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        root.removeHandler(handler)
        handler.close()
        root.setLevel(saved_root[0])
        for h in saved_root[1]:
            if h not in root.handlers:
                root.addHandler(h)
        for logger, h, propagate in detached:
            logger.addHandler(h)
            logger.propagate = propagate
