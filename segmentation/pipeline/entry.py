"""What a Glue job or EMR step script does: parse Glue-style arguments, get the platform's (or a
local) Spark session, run one step, print its result as JSON.

The scripts in glue_jobs/ and emr_steps/ call :func:`main` and nothing else, so they run unchanged
under Glue 5.0, EMR Serverless 7.x, local ``spark-submit`` and plain ``python``.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from segmentation.pipeline.args import ArgumentError, parse_argv
from segmentation.pipeline.params import StepParams
from segmentation.pipeline.steps import run_step

log = logging.getLogger(__name__)


def main(step: str, argv: Sequence[str] | None = None) -> int:
    """Exit status 2 for bad arguments (refused before a Spark session is started)."""
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,  # stdout carries only the JSON result
    )
    try:
        args = parse_argv(step, settings_from_argv(list(sys.argv[1:] if argv is None else argv)))
    except ArgumentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from segmentation.spark import get_spark

    spark = get_spark(f"segmentation-{step}")
    job = _glue_job(spark, args)
    result: dict[str, Any] = run_step(step, args, spark)
    if job is not None:
        job.commit()
    print(json.dumps(result, default=str, sort_keys=True))
    return 0


def settings_from_argv(argv: list[str]) -> list[str]:
    """Move ``--SEG_NAME value`` arguments into the environment; return the rest.

    Glue jobs have no environment variables of their own, so Terraform passes the Spark steps'
    settings (``segmentation.config.Settings``, the ``spark_env`` map EMR gets as driver and
    executor environment) to Glue as job arguments of the same names. Setting them here, before
    the settings are first read, gives every step the same configuration on both platforms.
    """
    rest: list[str] = []
    i = 0
    while i < len(argv):
        name, sep, value = argv[i].partition("=")
        if name.startswith("--SEG_"):
            if not sep:
                if i + 1 >= len(argv) or argv[i + 1].startswith("--"):
                    raise ArgumentError(f"{name}: expected a value (a setting, e.g. {name}=...)")
                value, i = argv[i + 1], i + 1
            os.environ[name[2:]] = value
        else:
            rest.append(argv[i])
        i += 1
    if len(rest) != len(argv):
        from segmentation.config import get_settings

        get_settings.cache_clear()
    return rest


def _glue_job(spark: Any, args: StepParams) -> Any:
    """Under Glue, the Job object (bookmarks, run state); elsewhere None."""
    if importlib.util.find_spec("awsglue") is None:
        return None
    from awsglue.context import GlueContext  # type: ignore[import-not-found]
    from awsglue.job import Job  # type: ignore[import-not-found]

    job = Job(GlueContext(spark.sparkContext))
    job.init(args.JOB_NAME or "segmentation", {k: str(v) for k, v in args.items()})
    return job
