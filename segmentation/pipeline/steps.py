"""The pipeline steps as plain functions of Glue-style arguments.

Each takes a dict of arguments (``{"--lake_prefix": "...", "--k": "5"}`` or without the dashes,
values as strings or typed) and a SparkSession, and returns a small JSON-able result: output
paths, counts, model version, metrics. Glue jobs, the EMR step, the CLI and the local Step
Functions dispatcher all call these, so the argument models (:mod:`segmentation.pipeline.params`,
parsed by :mod:`segmentation.pipeline.args`) are the contract between them. The step bodies get
the resolved model, which answers ``params["name"]`` as well as ``params.name``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from segmentation.config import get_settings
from segmentation.lake import LakePaths
from segmentation.pipeline.args import resolve

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)


def _paths(args: Mapping[str, Any]) -> LakePaths:
    settings = get_settings().model_copy(update={"lake_prefix": args["lake_prefix"]})
    return LakePaths(settings, scheme="s3")


def run_clean(args: Mapping[str, Any], spark: SparkSession) -> dict[str, Any]:
    """raw + hot events -> curated events, quarantine and a quality report."""
    from segmentation.pipeline import clean

    resolved = resolve("clean", args)
    return clean.run(spark, resolved, _paths(resolved))


def run_features(args: Mapping[str, Any], spark: SparkSession) -> dict[str, Any]:
    """curated events -> one row of 12 features per user for the snapshot date."""
    from segmentation.pipeline import features

    resolved = resolve("features", args)
    return features.run(spark, resolved, _paths(resolved))


def run_cluster(args: Mapping[str, Any], spark: SparkSession) -> dict[str, Any]:
    """features -> segments, profiles and an MLflow run with a registered model."""
    from segmentation.pipeline import cluster_step

    resolved = resolve("cluster", args)
    return cluster_step.run(spark, resolved, _paths(resolved))


def run_assign(args: Mapping[str, Any], spark: SparkSession) -> dict[str, Any]:
    """hot/raw events the ledger has not cleaned + curated -> provisional assignments of the
    published version (between weekly runs)."""
    from segmentation.pipeline import assign

    resolved = resolve("assign", args)
    return assign.run(spark, resolved, _paths(resolved))


def run_backtest(args: Mapping[str, Any], spark: SparkSession) -> dict[str, Any]:
    """a model version's segments vs the RFM cells on the horizon after its snapshot (MLflow run
    + a JSON report beside its profiles); ``snapshot_date`` is the horizon's end."""
    from segmentation.pipeline import backtest_step

    resolved = resolve("backtest", args)
    return backtest_step.run(spark, resolved, _paths(resolved))


STEP_FUNCTIONS = {
    "clean": run_clean,
    "features": run_features,
    "cluster": run_cluster,
    "assign": run_assign,
    "backtest": run_backtest,
}


def run_step(step: str, args: Mapping[str, Any], spark: SparkSession) -> dict[str, Any]:
    if step not in STEP_FUNCTIONS:
        raise ValueError(f"unknown step {step!r}; expected one of {', '.join(STEP_FUNCTIONS)}")
    return STEP_FUNCTIONS[step](args, spark)
