"""The Monitor task on moto: a run whose features drifted sends its figures to CloudWatch, one SNS
alert reaches a subscribed queue, and with ``drift_gate: hold`` the API keeps serving the
previous version until ``segmentation release``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from serving_data import make_stack, write_version

from segmentation.awsclients import client
from segmentation.config import Settings
from segmentation.lake import LakePaths
from segmentation.model_document import Comparison, ModelDocument
from segmentation.monitoring import NAMESPACE, run_monitor
from segmentation.serving.publish import publish, release
from segmentation.serving.store import SegmentStore

pytestmark = pytest.mark.moto


@pytest.fixture
def stack(moto_env: str) -> tuple[Settings, Any]:
    """The lake and the segments table, an alert topic with a queue subscribed to it."""
    sns, sqs = client("sns", Settings()), client("sqs", Settings())
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    settings = Settings(
        alert_topic_arn=topic, pipeline_name="test-pipeline", segments_pointer_cache_seconds=0
    )
    make_stack(settings)
    return settings, queue


def _drifted(settings: Settings, version: str, previous: str, psi: dict[str, float]) -> None:
    """The cluster step's comparison of ``version`` with ``previous``, as it writes it."""
    s3 = client("s3", settings)
    bucket, key = settings.bucket("segments"), f"profiles/model_version={version}/profiles.json"
    doc = ModelDocument.from_json(s3.get_object(Bucket=bucket, Key=key)["Body"].read(), key)
    comparison = Comparison(
        previous_model_version=previous,
        common_users=60,
        ari=0.62,
        transitions={},
        largest_share_shift=0.05,
        feature_psi=psi,
    )
    doc = doc.model_copy(update={"comparison": comparison, "previous_model_version": previous})
    s3.put_object(Bucket=bucket, Key=key, Body=doc.to_json().encode())


def _quality(settings: Settings, run_id: str, rows: int, quarantined: int) -> None:
    uri = LakePaths(settings).quality_report(run_id)
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    report = {"rows_in": rows, "quarantined": {"invalid_amount": quarantined}, "duplicates": {}}
    client("s3", settings).put_object(Bucket=bucket, Key=key, Body=json.dumps(report).encode())


def test_drift_is_measured_alerted_and_held_until_released(stack) -> None:
    settings, queue = stack
    write_version(settings, "m-v1", 60, run_id="r1")
    publish("m-v1", settings)
    write_version(settings, "m-v2", 60, run_id="r2", previous=("m-v1", {}))
    _drifted(settings, "m-v2", "m-v1", {"monetary": 0.41, "recency_days": 0.02})
    _quality(settings, "r2", rows=1000, quarantined=10)

    result = run_monitor({"run_id": "r2", "drift_gate": "hold"}, settings)
    assert result["model_version"] == "m-v2" and result["flip"] is False
    assert result["crossed"] == ["feature drift: PSI of monetary is 0.410 (> 0.25)"]
    assert result["figures"]["run_quarantine_rate"] == pytest.approx(0.01)

    # the figures are in CloudWatch, under the names the alarms watch
    cw = client("cloudwatch", settings)
    now = datetime.now(UTC)
    stats = cw.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName="FeaturePsiMax",
        Dimensions=[{"Name": "pipeline", "Value": "test-pipeline"}],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=["Maximum"],
    )["Datapoints"]
    assert max(p["Maximum"] for p in stats) == pytest.approx(0.41)
    per_feature = cw.list_metrics(Namespace=NAMESPACE, MetricName="FeaturePsi")["Metrics"]
    assert {d["Value"] for m in per_feature for d in m["Dimensions"] if d["Name"] == "feature"} == {
        "monetary",
        "recency_days",
    }

    # one alert, naming the figure and what happened to the version
    messages = client("sqs", settings).receive_message(QueueUrl=queue, WaitTimeSeconds=1)[
        "Messages"
    ]
    assert len(messages) == 1
    alert = json.loads(json.loads(messages[0]["Body"])["Message"])
    assert alert["crossed"] == result["crossed"] and "segmentation release m-v2" in alert["action"]

    # hold: the version is loaded, the previous one keeps serving until it is released
    held = publish("m-v2", settings, flip=result["flip"])
    assert held.flipped is False
    store = SegmentStore(settings)
    assert store.current(refresh=True)["model_version"] == "m-v1"
    release("m-v2", settings)
    assert store.current(refresh=True)["model_version"] == "m-v2"
    with pytest.raises(ValueError, match="already current"):
        release("m-v2", settings)


def test_within_bounds_nothing_is_alerted_and_the_version_flips(stack) -> None:
    settings, queue = stack
    write_version(settings, "m-v1", 30, run_id="r1")  # a first version: nothing to compare
    result = run_monitor({"run_id": "r1", "drift_gate": "hold"}, settings)
    assert result["crossed"] == [] and result["flip"] is True and not result["notified"]
    assert result["figures"]["feature_psi_max"] is None  # no previous version, no drift figure
    assert "Messages" not in client("sqs", settings).receive_message(QueueUrl=queue)
    with pytest.raises(ValueError, match="drift_gate must be 'alert' or 'hold'"):
        run_monitor({"run_id": "r1", "drift_gate": "stop"}, settings)
