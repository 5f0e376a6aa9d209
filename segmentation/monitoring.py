"""The Monitor state: a run's data quality, feature drift and segment shift, as metrics and
(when a threshold is crossed) one alert; and the drift gate that decides whether publish flips.

The machinery's health (failed executions, Lambda errors, API 5xx, offset lag) has its alarms in
terraform/modules/monitoring; this is about the data the segments are made of. Figures come from
what the steps already wrote: the clean step's quality report (quarantine, duplicates, null
rates) and the model document's comparison with the previous version (PSI per feature, the
largest segment share shift, ARI). Every figure goes to CloudWatch (namespace ``Segmentation``,
dimension ``pipeline``), where Terraform's alarms watch them; but moto stores metrics without
evaluating alarms, so the state also publishes one SNS message naming the crossed figures itself.

Drift gate (execution input ``drift_gate``): ``alert`` publishes the new version and notifies;
``hold`` loads it but leaves the pointer on the previous version until ``segmentation release``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Literal

from segmentation.config import Settings
from segmentation.model_document import ModelDocument

log = logging.getLogger(__name__)

NAMESPACE = "Segmentation"
DriftGate = Literal["alert", "hold"]

#: Metric names (distinct from the ingest path's RecordsIn / RecordsQuarantined).
METRICS: dict[str, str] = {
    "feature_psi_max": "FeaturePsiMax",
    "segment_share_shift_max": "SegmentShareShiftMax",
    "ari_vs_previous": "SegmentAriVsPrevious",
    "run_quarantine_rate": "CleanQuarantineRate",
    "run_duplicate_share": "CleanDuplicateShare",
    "run_null_rate_max": "CleanNullRateMax",
    "run_new_rows": "CleanNewRows",
    "segmented_users": "SegmentedUsers",
    "segmented_users_change": "SegmentedUsersChange",
}
#: Per feature, with a ``feature`` dimension beside ``pipeline``.
FEATURE_METRIC = "FeaturePsi"


@dataclass(frozen=True)
class Thresholds:
    psi_max: float
    share_shift_max: float
    quarantine_rate_max: float
    users_drop_max: float

    @classmethod
    def of(cls, settings: Settings) -> Thresholds:
        return cls(
            settings.monitor_psi_max,
            settings.monitor_share_shift_max,
            settings.monitor_quarantine_rate_max,
            settings.monitor_users_drop_max,
        )


@dataclass
class Figures:
    values: dict[str, float | None]
    feature_psi: dict[str, float] = field(default_factory=dict)


def figures(
    document: ModelDocument,
    quality: dict[str, Any] | None,
    previous: ModelDocument | None = None,
) -> Figures:
    """The run's figures; a figure with nothing to compare with (first run, no new rows) is
    None and is not sent."""
    comparison = document.comparison
    psi = dict(comparison.feature_psi) if comparison else {}
    values: dict[str, float | None] = {
        "feature_psi_max": max(psi.values()) if psi else None,
        "segment_share_shift_max": comparison.largest_share_shift if comparison else None,
        "ari_vs_previous": comparison.ari if comparison else None,
        "segmented_users": float(document.n_users),
        "segmented_users_change": (
            document.n_users / previous.n_users - 1.0 if previous and previous.n_users else None
        ),
        "run_quarantine_rate": None,
        "run_duplicate_share": None,
        "run_null_rate_max": None,
        "run_new_rows": None,
    }
    if quality:
        rows = int(quality.get("rows_in") or 0)
        values["run_new_rows"] = float(rows)
        if rows:
            quarantined = sum(int(v) for v in (quality.get("quarantined") or {}).values())
            dup = quality.get("duplicates") or {}
            values["run_quarantine_rate"] = quarantined / rows
            values["run_duplicate_share"] = (
                int(dup.get("exact", 0)) + int(dup.get("event_id", 0))
            ) / rows
            nulls = quality.get("null_rates_in") or {}
            required = ("user_anon_id", "event_ts", "event_type")
            values["run_null_rate_max"] = max(
                (float(nulls.get(c, 0.0)) for c in required), default=0.0
            )
    return Figures(values, psi)


def crossed(fig: Figures, limits: Thresholds) -> list[str]:
    """What a person must look at, in words; empty when every figure is within bounds."""
    out = []
    v = fig.values
    for feature, value in sorted(fig.feature_psi.items()):
        if value > limits.psi_max:
            out.append(f"feature drift: PSI of {feature} is {value:.3f} (> {limits.psi_max})")
    shift = v["segment_share_shift_max"]
    if shift is not None and shift > limits.share_shift_max:
        out.append(
            f"segment shift: a segment's share moved by {shift:.3f} (> {limits.share_shift_max})"
        )
    rate = v["run_quarantine_rate"]
    if rate is not None and rate > limits.quarantine_rate_max:
        out.append(
            f"data quality: {rate:.1%} of the run's new rows were quarantined "
            f"(> {limits.quarantine_rate_max:.0%})"
        )
    change = v["segmented_users_change"]
    if change is not None and change < -limits.users_drop_max:
        out.append(
            f"volume: segmented users fell by {-change:.0%} since the previous version "
            f"(> {limits.users_drop_max:.0%})"
        )
    return out


def metric_data(fig: Figures, pipeline: str) -> list[dict[str, Any]]:
    """PutMetricData entries of every figure that has a value."""
    dims = [{"Name": "pipeline", "Value": pipeline}]
    data = [
        {"MetricName": METRICS[name], "Dimensions": dims, "Value": float(value), "Unit": "None"}
        for name, value in fig.values.items()
        if value is not None
    ]
    data += [
        {
            "MetricName": FEATURE_METRIC,
            "Dimensions": [*dims, {"Name": "feature", "Value": feature}],
            "Value": float(value),
            "Unit": "None",
        }
        for feature, value in sorted(fig.feature_psi.items())
    ]
    return data


@dataclass(frozen=True)
class MonitorResult:
    model_version: str
    figures: dict[str, float | None]
    feature_psi: dict[str, float]
    crossed: list[str]
    drift_gate: DriftGate
    flip: bool
    notified: bool

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def monitor(
    document: ModelDocument,
    quality: dict[str, Any] | None,
    previous: ModelDocument | None,
    drift_gate: DriftGate,
    settings: Settings,
    cloudwatch: Any,
    sns: Any,
) -> MonitorResult:
    """Measure, send the metrics, alert on a crossed threshold, and decide the flip."""
    fig = figures(document, quality, previous)
    issues = crossed(fig, Thresholds.of(settings))
    data = metric_data(fig, settings.pipeline_name)
    for i in range(0, len(data), 20):  # PutMetricData takes at most 20 entries per call
        cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data[i : i + 20])
    hold = drift_gate == "hold" and bool(issues)
    notified = False
    if issues and settings.alert_topic_arn:
        action = (
            "held: the previous version keeps serving until `segmentation release "
            f"{document.model_version}`"
            if hold
            else "published (drift_gate alert)"
        )
        sns.publish(
            TopicArn=settings.alert_topic_arn,
            Subject=f"segmentation: {len(issues)} threshold(s) crossed by {document.model_version}"[
                :100
            ],
            Message=json.dumps(
                {
                    "model_version": document.model_version,
                    "pipeline_run_id": document.pipeline_run_id,
                    "crossed": issues,
                    "action": action,
                    "figures": fig.values,
                    "feature_psi": fig.feature_psi,
                },
                indent=2,
            ),
        )
        notified = True
    elif issues:
        log.warning("thresholds crossed but no alert topic is configured: %s", issues)
    return MonitorResult(
        document.model_version, fig.values, fig.feature_psi, issues, drift_gate, not hold, notified
    )


def run_monitor(event: dict[str, Any], settings: Settings | None = None) -> dict[str, Any]:
    """The monitor Lambda's body. Event ``{"run_id", "drift_gate"?, "lake_prefix"?}``."""
    from segmentation.awsclients import cached_client
    from segmentation.config import get_settings
    from segmentation.ingest.lakewrite import split_s3_uri
    from segmentation.lake import LakePaths
    from segmentation.serving.lake_reader import find_model_version, read_model_document

    if not isinstance(event, dict) or not event.get("run_id"):
        raise ValueError("monitor event must be a JSON object with a run_id")
    gate = event.get("drift_gate", "alert")
    if gate not in ("alert", "hold"):
        raise ValueError(f"monitor event: drift_gate must be 'alert' or 'hold', got {gate!r}")
    settings = settings or get_settings()
    prefix = event.get("lake_prefix")
    if prefix and prefix != settings.lake_prefix:
        settings = settings.model_copy(update={"lake_prefix": str(prefix)})
    run_id = str(event["run_id"])
    version = find_model_version(settings, run_id)
    document = read_model_document(settings, version)
    previous = None
    if document.previous_model_version:
        try:
            previous = read_model_document(settings, document.previous_model_version)
        except FileNotFoundError:
            log.warning("previous version %s has no document", document.previous_model_version)
    s3 = cached_client("s3", settings)
    bucket, key = split_s3_uri(LakePaths(settings).quality_report(run_id))
    try:
        quality = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except s3.exceptions.NoSuchKey:
        quality = None  # a clean with nothing new writes no report: no new rows to judge
    result = monitor(
        document,
        quality,
        previous,
        gate,
        settings,
        cached_client("cloudwatch", settings),
        cached_client("sns", settings),
    )
    return {**result.to_dict(), "run_id": run_id}
