"""The data path against LocalStack, the second endpoint (issue 17).

What runs where (every client from the one factory, ``SEG_AWS_SERVICE_ENDPOINTS`` splitting them):

- LocalStack: S3 (every lake zone, read and written by boto3, pyarrow and Spark's s3a), Secrets
  Manager (the HMAC key), SNS + SQS (the failure notification, delivered to a subscribed queue),
  CloudWatch (the Monitor state's metrics), Step Functions (the deployed definition, started there).
- moto: DynamoDB (segments, the clean step's ledger; LocalStack's DynamoDB fetches a jar at first
  use) and the Glue catalog (not in LocalStack's community edition).
- Locally: the Lambda handlers (ingest, batch ingest, validate, monitor, publish, segment API) and
  the Spark steps (clean, features, cluster), dispatched by the local interpreter running the
  definition read back from LocalStack's Step Functions. On LocalStack's own engine the Task
  states answer from its mocked service integrations (Lambda would need Docker, Glue and EMR
  Serverless are not in the community edition) with what those local tasks returned, and its
  SNS task runs for real. That engine has no emr-serverless ``.sync`` integration at all (4.14
  refuses it even mocked), so its happy path runs as far as ClusterUsers and fails there.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from pipeline_stack import ingest_landing, pipeline_settings

from segmentation.awsclients import client
from segmentation.config import Settings

pytestmark = [pytest.mark.slow, pytest.mark.spark, pytest.mark.moto]
PREFIX = "seg-ls"
MACHINE = "segmentation-pipeline"
USERS, DAYS, STREAM_DAYS = 240, 21, 2


@pytest.fixture
def split_env(
    localstack: Any, moto_env: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Settings]:
    """Every client on LocalStack except DynamoDB and Glue (moto); a fresh Spark session, so
    its s3a endpoint is LocalStack's; MLflow's artifacts on LocalStack's S3 too."""
    from segmentation_local.localstack import split_environment

    env = {**split_environment(localstack.url, moto_env), "MLFLOW_S3_ENDPOINT_URL": localstack.url}
    with pipeline_settings(
        monkeypatch,
        tmp_path,
        PREFIX,
        "localstack",
        env=env,
        artifacts=lambda settings: settings.zone_uri("artifacts", "mlflow"),
    ) as settings:
        yield settings


def _ingest(settings: Settings, dataset: Path, end: datetime) -> dict[str, Any]:
    """The history through the landing zone (batch ingest Lambda -> raw), the last days as a
    Kafka batch (ingest Lambda -> hot)."""
    from segmentation.ingest.kafka import build_event
    from segmentation_local.lambda_context import LocalContext
    from segmentation_local.lambdas import load_handler

    events = pq.read_table(dataset / "events.parquet")
    cut = end - timedelta(days=STREAM_DAYS)
    recent = pc.greater_equal(events["timestamp"], pa.scalar(cut, type=events["timestamp"].type))
    history = events.filter(pc.invert(recent))
    pq.write_table(history, dataset / "history.parquet")
    key = "incoming/history.parquet"
    report = ingest_landing(settings, dataset / "history.parquet", key, dataset / "catalog.parquet")

    def as_json(row: dict[str, Any]) -> bytes:
        row["timestamp"] = row["timestamp"].isoformat().replace("+00:00", "Z")
        return json.dumps(row, default=str).encode()

    rows = events.filter(recent).to_pylist()
    messages = [
        ("raw-events", 0, i, None, r["user_id"].encode(), as_json(r)) for i, r in enumerate(rows)
    ]
    stream = load_handler("ingest")(build_event(messages, "local"), LocalContext("ingest"))
    return {"batch": report, "stream": stream, "streamed": len(rows)}


def _record(dispatcher: Any, answers: dict[str, Any]) -> Any:
    """The dispatcher, keeping each Task state's raw result (its last attempt) by state name."""

    def dispatch(resource: str, parameters: Any, context: dict[str, Any]) -> Any:
        result = dispatcher(resource, parameters, context)
        answers[context["State"]["Name"]] = result
        return result

    return dispatch


def _run_on_localstack(sfn: Any, arn: str, name: str, payload: dict[str, Any]) -> dict[str, Any]:
    ex = sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        desc = sfn.describe_execution(executionArn=ex["executionArn"])
        if desc["status"] != "RUNNING":
            break
        time.sleep(0.2)
    events = sfn.get_execution_history(executionArn=ex["executionArn"], maxResults=1000)["events"]
    return {
        **desc,
        "path": [
            e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e
        ],
    }


def _all_objects(settings: Settings) -> dict[str, bytes]:
    from segmentation.config import ZONES

    s3 = client("s3", settings)
    out = {}
    for zone in ZONES:
        bucket = settings.bucket(zone)
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
                out[f"{bucket}/{obj['Key']}"] = body
    return out


def test_the_data_path_runs_against_localstack(
    split_env: Settings, localstack: Any, moto_env: str, tmp_path: Path
) -> None:
    from segmentation_local.bootstrap import provision
    from segmentation_local.orchestration.asl import local_values, render_definition
    from segmentation_local.orchestration.interpreter import StateMachine
    from segmentation_local.orchestration.local_runner import LocalDispatcher
    from segmentation_local.synthetic.params import GenerateParams
    from segmentation_local.synthetic.service import generate_to

    settings = split_env
    moto = {s: boto3.client(s, endpoint_url=moto_env) for s in ("s3", "secretsmanager", "sns")}

    # provision: buckets, topic and the HMAC key on LocalStack, the tables on moto
    resources = provision(settings)
    topic = client("sns", settings).list_topics()["Topics"][0]["TopicArn"]
    assert client("secretsmanager", settings).describe_secret(SecretId=settings.hmac_secret_name)
    assert client("dynamodb", settings).describe_table(TableName=settings.segments_table)
    assert moto["s3"].list_buckets()["Buckets"] == []  # nothing of S3 reached moto
    assert moto["secretsmanager"].list_secrets()["SecretList"] == []
    assert resources

    # ingest into the S3 zones on LocalStack, through both doors
    params = GenerateParams(users=USERS, days=DAYS, seed=11)
    generate_to(params, tmp_path / "data")
    ingest = _ingest(settings, tmp_path / "data", params.window_end)
    batch, stream = ingest["batch"], ingest["stream"]
    assert batch["rows_total"] == batch["rows_ok"] + batch["rows_rejected"] > 0
    assert stream["records_in"] == stream["valid"] + stream["quarantined"] == ingest["streamed"] > 0

    # the definition deployed to LocalStack's Step Functions, read back and run locally: the Spark
    # steps over s3a on LocalStack's S3, the Lambda handlers in-process
    values = {**local_values(settings), "notify_topic_arn": topic}
    sfn = client("stepfunctions", settings)
    machine_arn = sfn.create_state_machine(
        name=MACHINE,
        definition=json.dumps(render_definition(values)),
        roleArn="arn:aws:iam::000000000000:role/segmentation-pipeline",
    )["stateMachineArn"]
    deployed = json.loads(sfn.describe_state_machine(stateMachineArn=machine_arn)["definition"])
    payload = {"snapshot_date": params.end_date.isoformat(), "window_days": DAYS, "k": 4}
    answers: dict[str, Any] = {}
    dispatcher = LocalDispatcher.from_values(settings, values)
    local = StateMachine(
        deployed, _record(dispatcher, answers), name=MACHINE, retry_delay_scale=0
    ).execute(payload, "ls-run-1")
    assert local.status == "SUCCEEDED", (local.error, local.cause)
    version = local.output["model_version"]

    # what it left, and where
    from segmentation.serving.lake_reader import read_model_document

    document = read_model_document(settings, version)
    assert document.mlflow_run_id and len(document.segments) >= 2
    objects = _all_objects(settings)
    for zone in ("raw", "hot", "curated", "features", "segments", "artifacts"):
        assert any(k.startswith(f"{PREFIX}-{zone}/") for k in objects), f"nothing in {zone}"
    assert any("/mlflow/" in k for k in objects)  # MLflow's artifacts on LocalStack's S3
    users = [str(u) for u in pq.read_table(tmp_path / "data" / "users.parquet")["user_id"]]
    written = {k: body for k, body in objects.items() if not k.startswith(f"{PREFIX}-landing/")}
    for uid in users[:25]:  # landing holds the producers' own uploads; every zone after it none
        needle = uid.encode()
        assert not [k for k, body in written.items() if needle in body], "raw id in an object"
    metrics = client("cloudwatch", settings).list_metrics(Namespace="Segmentation")["Metrics"]
    assert {m["MetricName"] for m in metrics} >= {"CleanQuarantineRate", "SegmentedUsers"}
    assert moto["s3"].list_buckets()["Buckets"] == []

    # the segment API: the key from LocalStack's Secrets Manager, the segments from moto's DynamoDB
    from segmentation_local.api_gateway import LocalApi

    with LocalApi() as api:
        with urllib.request.urlopen(f"{api.url}/users/{quote(users[0])}/segment") as resp:
            body = json.loads(resp.read())
        assert resp.status == 200 and body["model_version"] == version
        assert users[0] not in json.dumps(body)

    # the same definition started on LocalStack's engine, its Tasks answering from the mocks with
    # what the local tasks returned: same path, same output
    from segmentation_local.localstack import mock_config

    tasks = [s for s in local.path if deployed["States"][s]["Type"] == "Task"]
    happy = {state: {"Return": answers[state]} for state in tasks}
    # the input check's function raising (an error no Retry of that state matches)
    failing = {"ValidateInput": {"Throw": {"Error": "ValueError", "Cause": "mocked failure"}}}
    config = mock_config(MACHINE, "HappyPath", happy)
    config["StateMachines"][MACHINE]["TestCases"]["CheckFails"] = {s: f"f-{s}" for s in failing}
    config["MockedResponses"].update({f"f-{s}": {"0": a} for s, a in failing.items()})
    localstack.sfn_mock_config.write_text(json.dumps(config, default=str))

    # LocalStack 4.14's engine has no emr-serverless .sync integration, not even mocked: it runs
    # the definition as the local run did up to ClusterUsers (the checks, ValidateInput and both
    # Glue jobs from the mocks) and fails the execution when it reaches that state
    remote = _run_on_localstack(sfn, f"{machine_arn}#HappyPath", "ls-run-1", payload)
    upto = local.path[: local.path.index("ClusterUsers")]
    assert remote["path"] == upto, remote["path"]
    assert remote["status"] == "FAILED", remote
    assert "emr-serverless:startJobRun.sync" in remote.get("cause", ""), remote

    # a failing task on LocalStack: caught, and the notification really published to its SNS
    # topic, delivered to a subscribed SQS queue
    sqs = client("sqs", settings)
    queue = sqs.create_queue(QueueName="alerts-copy")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    client("sns", settings).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    failed = _run_on_localstack(sfn, f"{machine_arn}#CheckFails", "ls-run-2", payload)
    assert failed["status"] == "FAILED" and failed["error"] == "PipelineFailed", failed
    assert failed["path"][-3:] == ["ValidateInput", "NotifyFailure", "PipelineFailed"]
    messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=5).get("Messages", [])
    assert messages, "the failure notification never reached the queue"
    message = json.loads(messages[0]["Body"])["Message"]
    assert "ls-run-2" in message and "ValueError" in message
    assert moto["sns"].list_topics()["Topics"] == []
