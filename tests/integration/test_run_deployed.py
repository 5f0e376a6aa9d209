"""`segmentation run --deployed`: the definition is read back from the emulator's Step Functions
and its resources are mapped through the deployed Glue jobs and Lambda functions."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from segmentation.awsclients import client
from segmentation.config import Settings, get_settings
from segmentation_local.orchestration.asl import render_definition
from segmentation_local.orchestration.local_runner import deployed_dispatcher, run_pipeline

pytestmark = pytest.mark.moto
ROLE = "arn:aws:iam::123456789012:role/x"


def deploy(settings: Settings) -> dict[str, str]:
    """What terraform/envs/local creates for the pipeline, with deliberately different names."""
    role = client("iam", settings).create_role(
        RoleName="lambda-role",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    glue = client("glue", settings)
    for job, script in (("etl-a", "clean.py"), ("etl-b", "features.py"), ("eval-a", "backtest.py")):
        glue.create_job(
            Name=job,
            Role=ROLE,
            Command={"Name": "glueetl", "ScriptLocation": f"s3://artifacts/glue/{script}"},
        )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", "def handler(e, c):\n    return e\n")
    fn, check, monitor = (
        client("lambda", settings).create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": buf.getvalue()},
        )["FunctionArn"]
        for name in ("acme-publish", "acme-validate-input", "acme-monitor")
    )
    topic = client("sns", settings).create_topic(Name="acme-alerts")["TopicArn"]
    values = {
        "glue_clean_job_name": "etl-a",
        "glue_features_job_name": "etl-b",
        "glue_backtest_job_name": "eval-a",
        "emr_application_id": "app-1",
        "emr_job_role_arn": ROLE,
        "emr_cluster_entry_point": "s3://artifacts/emr/cluster.py",
        "emr_spark_submit_parameters": "",
        "publish_function_arn": fn,
        "validate_input_function_arn": check,
        "monitor_function_arn": monitor,
        "notify_topic_arn": topic,
        "lake_prefix": settings.lake_prefix,
        "mlflow_tracking_uri": "http://mlflow:5000",
    }
    definition = render_definition(values)
    client("stepfunctions", settings).create_state_machine(
        name="acme-pipeline", definition=json.dumps(definition), roleArn=ROLE
    )
    return values


def test_deployed_definition_and_resource_mapping(moto_env: str) -> None:
    settings = get_settings()
    values = deploy(settings)
    definition, dispatcher = deployed_dispatcher(settings, "acme-pipeline")
    assert definition == render_definition(values)
    assert dispatcher.glue_steps == {"etl-a": "clean", "etl-b": "features", "eval-a": "backtest"}
    assert dispatcher.functions == {
        values["publish_function_arn"]: "publish",
        values["validate_input_function_arn"]: "validate_input",
        values["monitor_function_arn"]: "monitor",
    }
    with pytest.raises(FileNotFoundError, match="no state machine named 'nope'"):
        deployed_dispatcher(settings, "nope")


def test_deployed_run_calls_the_mapped_steps_and_notifies_the_deployed_topic(
    moto_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from segmentation.pipeline import steps
    from segmentation_local.orchestration import local_runner

    settings = get_settings()
    values = deploy(settings)
    sqs = client("sqs", settings)
    queue = sqs.create_queue(QueueName="alerts-copy")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    client("sns", settings).subscribe(
        TopicArn=values["notify_topic_arn"], Protocol="sqs", Endpoint=queue_arn
    )
    calls: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(steps, "run_clean", lambda a, s: calls.append(("clean", a)))
    monkeypatch.setattr(steps, "run_features", lambda a, s: calls.append(("features", a)))
    monkeypatch.setattr(steps, "run_cluster", lambda a, s: calls.append(("cluster", a)))
    monkeypatch.setattr(local_runner.LocalDispatcher, "spark", lambda self: None)

    result = run_pipeline({"k": 4}, settings, execution_name="r1", deployed="acme-pipeline")
    assert [c[0] for c in calls] == ["clean", "features", "cluster"]
    assert calls[0][1]["lake_prefix"] == settings.lake_prefix
    assert calls[2][1]["k"] == "4" and calls[2][1]["mlflow_tracking_uri"] == "http://mlflow:5000"
    # the real monitor handler ran after the cluster step and failed (no model version in the
    # lake): caught, notified, failed, and publish never ran
    assert result.status == "FAILED" and result.error == "PipelineFailed"
    assert "FileNotFoundError" in result.cause
    assert result.path[-4:] == ["ClusterUsers", "MonitorRun", "NotifyFailure", "PipelineFailed"]
    messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", [])
    assert messages and "r1" in json.loads(messages[0]["Body"])["Message"]
