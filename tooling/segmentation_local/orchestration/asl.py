"""The pipeline's ASL template: where it lives, its variables, and rendering it like Terraform.

Terraform deploys ``step_functions/segmentation_pipeline.asl.json`` through ``templatefile()``;
the local run renders the very same file here with local values, so both follow one definition.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from segmentation.config import Settings

ROOT = Path(__file__).resolve().parents[3]
PIPELINE_ASL = ROOT / "step_functions" / "segmentation_pipeline.asl.json"

#: The template's variables, exactly the names Terraform passes to templatefile().
TEMPLATE_VARIABLES: tuple[str, ...] = (
    "glue_clean_job_name",
    "glue_features_job_name",
    "glue_backtest_job_name",
    "emr_application_id",
    "emr_job_role_arn",
    "emr_cluster_entry_point",
    "emr_spark_submit_parameters",
    "publish_function_arn",
    "validate_input_function_arn",
    "monitor_function_arn",
    "notify_topic_arn",
    "lake_prefix",
    "mlflow_tracking_uri",
)

_INTERPOLATION = re.compile(r"(\$\$\{)|\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}|(\$\{)|(%\{)")

#: The account id moto uses, so local ARNs look like the ones Terraform creates against moto.
LOCAL_ACCOUNT = "123456789012"


def render_template(text: str, values: dict[str, str]) -> str:
    """Terraform ``templatefile`` semantics for plain ``${name}`` references: ``$${`` escapes,
    a missing variable or an expression/directive we do not emulate is an error, not a guess."""
    missing: set[str] = set()

    def sub(m: re.Match[str]) -> str:
        if m.group(1):
            return "${"
        if m.group(2):
            if m.group(2) not in values:
                missing.add(m.group(2))
                return ""
            return str(values[m.group(2)])
        raise ValueError(
            f"template uses an expression or directive ({m.group(0)!r}) that only plain "
            "variable references are allowed for"
        )

    out = _INTERPOLATION.sub(sub, text)
    if missing:
        raise ValueError(f"template variables without a value: {', '.join(sorted(missing))}")
    return out


def render_definition(values: dict[str, str], path: Path = PIPELINE_ASL) -> dict[str, Any]:
    """The deployed definition as a dict, rendered from the template with ``values``."""
    unknown = set(values) - set(TEMPLATE_VARIABLES)
    if unknown:
        raise ValueError(f"unknown template variables: {', '.join(sorted(unknown))}")
    rendered = render_template(path.read_text(), values)
    try:
        return json.loads(rendered)
    except json.JSONDecodeError as exc:
        raise ValueError(f"rendered {path.name} is not JSON ({exc}); check the values") from exc


def local_values(settings: Settings) -> dict[str, str]:
    """Template values for the local run. Names mirror envs/local; the local dispatcher maps them
    back to local code, so they only need to be consistent with each other."""
    region = settings.aws_region
    return {
        "glue_clean_job_name": f"{settings.lake_prefix}-clean",
        "glue_features_job_name": f"{settings.lake_prefix}-features",
        "glue_backtest_job_name": f"{settings.lake_prefix}-backtest",
        "emr_application_id": "local-spark",
        "emr_job_role_arn": f"arn:aws:iam::{LOCAL_ACCOUNT}:role/{settings.lake_prefix}-ml",
        "emr_cluster_entry_point": str(ROOT / "emr_steps" / "cluster.py"),
        "emr_spark_submit_parameters": "--conf spark.sql.shuffle.partitions=8",
        "publish_function_arn": (
            f"arn:aws:lambda:{region}:{LOCAL_ACCOUNT}:function:{settings.lake_prefix}-publish"
        ),
        "validate_input_function_arn": (
            f"arn:aws:lambda:{region}:{LOCAL_ACCOUNT}:function:{settings.lake_prefix}-validate-input"
        ),
        "monitor_function_arn": (
            f"arn:aws:lambda:{region}:{LOCAL_ACCOUNT}:function:{settings.lake_prefix}-monitor"
        ),
        "notify_topic_arn": f"arn:aws:sns:{region}:{LOCAL_ACCOUNT}:{settings.lake_prefix}-alerts",
        "lake_prefix": settings.lake_prefix,
        "mlflow_tracking_uri": settings.mlflow_tracking_uri,
    }
