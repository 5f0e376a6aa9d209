"""``terraform apply`` of terraform/envs/local against the project's moto server, checked with
boto3, re-planned (no changes) and destroyed.

One test on purpose: apply, checks, plan and destroy share one emulator and one state, and must
run in this order on one worker. ~3 minutes (the S3 lifecycle rules alone take ~55 s: the
provider waits for them to settle, as it does on AWS).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from segmentation.config import ZONES, Settings
from segmentation_local import moto_patches
from segmentation_local import terraform as tf

pytestmark = [
    pytest.mark.slow,
    pytest.mark.terraform,
    pytest.mark.moto,
    pytest.mark.skipif(tf.terraform_binary() is None, reason="terraform is not installed"),
    pytest.mark.skipif(
        not moto_patches.version_matches(),
        reason=f"envs/local needs the moto patches, pinned to moto {moto_patches.MOTO_VERSION}",
    ),
]

ENV_DIR = tf.TERRAFORM_DIR / "envs" / "local"

# What each stage may reach (terraform/modules/lake stage_access): reads + writes.
STAGE_ZONES = {
    "ingest": {"landing", "raw", "hot", "quarantine"},
    "etl": {"raw", "hot", "artifacts", "curated", "features", "quarantine"},
    "ml": {"features", "artifacts", "segments"},
    "assign": {"raw", "hot", "curated", "features", "artifacts", "segments"},
    "serving": {"segments"},
    "monitor": {"curated", "segments"},
    "analyst": {"curated", "features", "segments"},
    "evaluation": {"curated", "features", "segments", "artifacts"},
}
STAGE_WRITES = {
    "ingest": {"raw", "hot", "quarantine"},
    "etl": {"curated", "features", "quarantine"},
    "ml": {"segments"},
    "assign": {"segments"},
    "serving": set(),
    "monitor": set(),
    "analyst": set(),
    "evaluation": {"segments"},
}


@pytest.fixture(scope="module")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto server of its own (the launcher applies the patches), not the shared one."""
    from segmentation_local.motoserver import moto_service
    from segmentation_local.process import start_on_free_port

    logs = tmp_path_factory.mktemp("moto-tf")
    port, service = start_on_free_port(lambda p: moto_service(p, logs))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        service.stop()


def aws(service: str, endpoint: str):  # type: ignore[no-untyped-def]
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def check_buckets(endpoint: str, settings: Settings, outputs: dict) -> None:
    s3 = aws("s3", endpoint)
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert {settings.bucket(z) for z in ZONES} <= names, "one bucket per zone, Settings naming"
    assert outputs["buckets"] == {z: settings.bucket(z) for z in ZONES}
    for zone in ZONES:
        bucket = settings.bucket(zone)
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
            "Rules"
        ][0]
        # S3-managed keys locally: Spark's S3A refuses SSE-KMS over moto's plain HTTP (the
        # module's default, aws:kms, is what envs/aws deploys; its module test checks that)
        assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
        pab = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(pab.values()), f"{bucket}: public access not fully blocked"
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    hot_rules = s3.get_bucket_lifecycle_configuration(Bucket=settings.bucket("hot"))["Rules"]
    assert {r["ID"]: r.get("Expiration", {}).get("Days") for r in hot_rules}["expire-hot"] == 14
    landing = s3.get_bucket_notification_configuration(Bucket=settings.bucket("landing"))
    triggers = landing["LambdaFunctionConfigurations"]
    assert {t["LambdaFunctionArn"].rsplit(":", 1)[-1] for t in triggers} == {
        outputs["functions"]["batch_ingest"]
    }


def check_tables(endpoint: str, settings: Settings, outputs: dict) -> None:
    ddb = aws("dynamodb", endpoint)
    lake_key = aws("kms", endpoint).describe_key(KeyId="alias/segmentation-lake")["KeyMetadata"]
    keys = {
        settings.segments_table: {"pk": "HASH", "sk": "RANGE"},
        # the clean step's run ledger, as segmentation.ledger.ensure_table creates it
        settings.ledger_table: {"pk": "HASH"},
    }
    for name, key_schema in keys.items():
        table = ddb.describe_table(TableName=name)["Table"]
        assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == key_schema, name
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST", name
        backups = ddb.describe_continuous_backups(TableName=name)
        pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        assert pitr["PointInTimeRecoveryStatus"] == "ENABLED", name
        sse = table["SSEDescription"]
        assert (sse["Status"], sse["SSEType"]) == ("ENABLED", "KMS"), name
        assert sse["KMSMasterKeyArn"] == lake_key["Arn"], f"{name}: not the lake's key"
        assert not table.get("DeletionProtectionEnabled"), f"{name}: protect_data is off locally"
    ttl = ddb.describe_time_to_live(TableName=settings.segments_table)["TimeToLiveDescription"]
    assert (ttl["AttributeName"], ttl["TimeToLiveStatus"]) == ("expires_at", "ENABLED")
    assert outputs["ledger_table"] == settings.ledger_table
    # the Glue jobs clean and features (the etl role) use the ledger's items; no other stage does
    ledger_arn = ddb.describe_table(TableName=settings.ledger_table)["Table"]["TableArn"]
    iam = aws("iam", endpoint)
    for stage, role in outputs["stage_role_arns"].items():
        policy = iam.get_role_policy(RoleName=role.rsplit("/", 1)[-1], PolicyName="lake-access")
        statements = {st["Sid"]: st for st in policy["PolicyDocument"]["Statement"]}
        if stage == "etl":
            assert statements["RunLedger"]["Resource"] == [ledger_arn]
            assert "glue:BatchUpdatePartition" in statements["KeepPartitions"]["Action"]
        else:
            assert "RunLedger" not in statements and "KeepPartitions" not in statements, stage


def check_functions(endpoint: str, settings: Settings, outputs: dict) -> None:
    lam = aws("lambda", endpoint)
    roles = outputs["stage_role_arns"]
    expected_role = {
        "ingest": roles["ingest"],
        "batch_ingest": roles["ingest"],
        "publish": roles["serving"],
        "segment_api": roles["serving"],
        "monitor": roles["monitor"],
    }
    for key, name in outputs["functions"].items():
        config = lam.get_function_configuration(FunctionName=name)
        env = config["Environment"]["Variables"]
        assert env["SEG_LAKE_PREFIX"] == settings.lake_prefix, name
        assert env["SEG_HMAC_SECRET_NAME"] == settings.hmac_secret_name, name
        assert env["SEG_SEGMENTS_TABLE"] == settings.segments_table, name
        assert env["SEG_LEDGER_TABLE"] == settings.ledger_table, name
        assert env["SEG_ENVIRONMENT"] == "local" and env["SEG_AWS_ENDPOINT_URL"] == endpoint
        assert config["Role"] == expected_role[key], f"{name} runs as the wrong stage role"
        assert config["Handler"] == "handler.handler" and config["Runtime"] == "python3.11"
        assert config["TracingConfig"]["Mode"] == "Active"
    # the Monitor task: the function environment plus its topic, dimension and thresholds, the
    # very values Settings reads (segmentation.monitoring), as Settings' defaults
    monitor = lam.get_function_configuration(FunctionName=outputs["functions"]["monitor"])
    env = monitor["Environment"]["Variables"]
    assert env["SEG_ALERT_TOPIC_ARN"] == outputs["alerts_topic_arn"]
    assert env["SEG_PIPELINE_NAME"] == settings.pipeline_name
    assert env["POWERTOOLS_SERVICE_NAME"] == "monitor"
    for field in (
        "monitor_psi_max",
        "monitor_share_shift_max",
        "monitor_quarantine_rate_max",
        "monitor_users_drop_max",
    ):
        assert float(env[f"SEG_{field.upper()}"]) == getattr(settings, field), field
    iam = aws("iam", endpoint)
    policy = iam.get_role_policy(
        RoleName=roles["monitor"].rsplit("/", 1)[-1], PolicyName="monitor-metrics-and-alerts"
    )["PolicyDocument"]
    statements = {st["Sid"]: st for st in policy["Statement"]}
    assert statements["PutMonitorMetrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "Segmentation"}
    }
    assert statements["PublishAlerts"]["Resource"] == [outputs["alerts_topic_arn"]]
    ingest_suffix = ":function:" + outputs["functions"]["ingest"]
    [mapping] = [
        m
        for m in lam.list_event_source_mappings()["EventSourceMappings"]
        if m["FunctionArn"].endswith(ingest_suffix)
    ]
    assert mapping["UUID"] == outputs["event_source_mapping_uuid"]
    assert mapping["Topics"] == [settings.kafka_topic] and ":kafka:" in mapping["EventSourceArn"]
    assert "OnFailure" in mapping["DestinationConfig"]
    secrets = aws("secretsmanager", endpoint)
    assert secrets.describe_secret(SecretId=settings.hmac_secret_name)["Name"]
    with pytest.raises(ClientError):  # the secret exists, its value was never written by TF
        secrets.get_secret_value(SecretId=settings.hmac_secret_name)


def check_bootstrap_plans_the_same(endpoint: str, settings: Settings, outputs: dict) -> None:
    """The quick python bootstrap creates the data path Terraform declares, no less (the
    console's page bucket is no part of it: `segmentation serve` serves the page locally)."""
    from segmentation_local.bootstrap import planned

    plan = planned(settings)
    buckets = {b["Name"] for b in aws("s3", endpoint).list_buckets()["Buckets"]}
    buckets.discard(outputs["console"]["bucket"])
    assert buckets == set(plan.buckets), "envs/local and bootstrap.planned disagree on buckets"
    tables = set(aws("dynamodb", endpoint).list_tables()["TableNames"])
    assert tables == set(plan.tables), "envs/local and bootstrap.planned disagree on tables"
    secrets = {s["Name"] for s in aws("secretsmanager", endpoint).list_secrets()["SecretList"]}
    assert secrets == set(plan.secrets), "envs/local and bootstrap.planned disagree on secrets"
    topics = aws("sns", endpoint).list_topics()["Topics"]
    assert len(topics) == len(plan.topics), "envs/local and bootstrap.planned disagree on topics"


def check_state_machine(endpoint: str, outputs: dict) -> None:
    from segmentation_local.orchestration.asl import render_definition

    sfn = aws("stepfunctions", endpoint)
    deployed = sfn.describe_state_machine(stateMachineArn=outputs["state_machine_arn"])
    definition = json.loads(deployed["definition"])
    values = outputs["pipeline_template_values"]
    assert definition == render_definition(values), "Terraform and the local renderer disagree"
    glue = aws("glue", endpoint)
    for job, stage in (
        (values["glue_clean_job_name"], "etl"),
        (values["glue_features_job_name"], "etl"),
        (values["glue_backtest_job_name"], "evaluation"),  # reads the ledger, writes segments
    ):
        deployed_job = glue.get_job(JobName=job)["Job"]
        assert deployed_job["Role"] == outputs["stage_role_arns"][stage]
        assert deployed_job["DefaultArguments"]["--ledger_table"] == outputs["ledger_table"]
    emr = aws("emr-serverless", endpoint)
    app = emr.get_application(applicationId=values["emr_application_id"])["application"]
    assert app["releaseLabel"].startswith("emr-7.")
    assert values["emr_job_role_arn"] == outputs["stage_role_arns"]["ml"]
    lam = aws("lambda", endpoint)
    assert lam.get_function(FunctionName=values["publish_function_arn"])["Configuration"]
    monitor = lam.get_function(FunctionName=values["monitor_function_arn"])["Configuration"]
    assert monitor["FunctionName"] == outputs["functions"]["monitor"]
    assert definition["States"]["ClusterUsers"]["Next"] == "MonitorRun"
    assert definition["States"]["MonitorRun"]["Next"] == "PublishSegments"
    assert values["notify_topic_arn"] == outputs["alerts_topic_arn"]


def check_lake_formation(endpoint: str, settings: Settings, outputs: dict) -> None:
    lf = aws("lakeformation", endpoint)
    registered = {r["ResourceArn"] for r in lf.list_resources()["ResourceInfoList"]}
    assert registered == {f"arn:aws:s3:::{settings.bucket(z)}" for z in ZONES}
    database_zone = {db: zone for zone, db in outputs["databases"].items()}
    # AWS (and moto) want a resource along with a principal filter, so list all and group.
    everything = lf.list_permissions()["PrincipalResourcePermissions"]
    for stage, role in outputs["stage_role_arns"].items():
        grants = [g for g in everything if g["Principal"]["DataLakePrincipalIdentifier"] == role]
        table_zones = {
            database_zone[g["Resource"]["Table"]["DatabaseName"]]
            for g in grants
            if "Table" in g["Resource"]
        }
        assert table_zones == STAGE_ZONES[stage], f"{stage} reaches {table_zones}"
        insert_zones = {
            database_zone[g["Resource"]["Table"]["DatabaseName"]]
            for g in grants
            if "Table" in g["Resource"] and "INSERT" in g["Permissions"]
        }
        assert insert_zones == STAGE_WRITES[stage], f"{stage} writes {insert_zones}"
        locations = {
            g["Resource"]["DataLocation"]["ResourceArn"]
            for g in grants
            if "DataLocation" in g["Resource"]
        }
        assert locations == {f"arn:aws:s3:::{settings.bucket(z)}" for z in STAGE_WRITES[stage]}


def check_api_and_alarms(endpoint: str, settings: Settings, outputs: dict) -> None:
    apigw = aws("apigateway", endpoint)
    resources = apigw.get_resources(restApiId=outputs["api_id"], embed=["methods"])["items"]
    methods = {
        r["path"]: r["resourceMethods"]["GET"]
        for r in resources
        if "GET" in r.get("resourceMethods", {})
    }
    assert set(methods) == {"/users/{user_id}/segment", "/segments", "/health"}
    for path in methods:
        method = apigw.get_method(
            restApiId=outputs["api_id"],
            resourceId=next(r["id"] for r in resources if r["path"] == path),
            httpMethod="GET",
        )
        assert method["apiKeyRequired"], f"GET {path} must require the API key"
    plans = apigw.get_usage_plans(keyId=outputs["api_key_id"])["items"]
    assert plans and plans[0]["throttle"]["rateLimit"] > 0
    alarms = aws("cloudwatch", endpoint).describe_alarms(AlarmNamePrefix="segmentation-")[
        "MetricAlarms"
    ]
    assert len(alarms) == 11
    assert all(a["AlarmActions"] == [outputs["alerts_topic_arn"]] for a in alarms)
    # the Monitor's alarms watch the metrics segmentation.monitoring sends, with its thresholds
    from segmentation.monitoring import METRICS, NAMESPACE

    by_metric = {a["MetricName"]: a for a in alarms if a.get("Namespace") == NAMESPACE}
    expected = {
        METRICS["feature_psi_max"]: ("GreaterThanThreshold", settings.monitor_psi_max),
        METRICS["segment_share_shift_max"]: (
            "GreaterThanThreshold",
            settings.monitor_share_shift_max,
        ),
        METRICS["run_quarantine_rate"]: (
            "GreaterThanThreshold",
            settings.monitor_quarantine_rate_max,
        ),
        METRICS["segmented_users_change"]: ("LessThanThreshold", -settings.monitor_users_drop_max),
    }
    for metric, (comparison, threshold) in expected.items():
        alarm = by_metric[metric]
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == (comparison, threshold)
        assert alarm["Dimensions"] == [{"Name": "pipeline", "Value": settings.pipeline_name}]
        assert alarm["TreatMissingData"] == "notBreaching"


def check_console(endpoint: str, settings: Settings, outputs: dict) -> None:
    """The console's pool and client (found by name, as `segmentation analyst add` finds
    them), its bucket with the page, config.json and the schema, and the authorizer on its
    routes."""
    from segmentation_local.cognito import find_pool

    console = outputs["console"]
    pool = find_pool(settings)
    assert pool is not None and pool.user_pool_id == console["user_pool_id"]
    assert pool.client_id == console["client_id"]
    client = aws("cognito-idp", endpoint).describe_user_pool_client(
        UserPoolId=pool.user_pool_id, ClientId=pool.client_id
    )["UserPoolClient"]
    assert set(client["ExplicitAuthFlows"]) == {
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    keys = {
        o["Key"] for o in aws("s3", endpoint).list_objects_v2(Bucket=console["bucket"])["Contents"]
    }
    assert {"index.html", "js/main.js", "config.json", "params.schema.json"} <= keys
    config = json.loads(
        aws("s3", endpoint).get_object(Bucket=console["bucket"], Key="config.json")["Body"].read()
    )
    assert config["cognito"]["client_id"] == pool.client_id
    apigw = aws("apigateway", endpoint)
    authorizers = apigw.get_authorizers(restApiId=outputs["api_id"])["items"]
    assert [(a["type"], a["providerARNs"]) for a in authorizers] == [
        ("COGNITO_USER_POOLS", [console["user_pool_arn"]])
    ]
    resources = apigw.get_resources(restApiId=outputs["api_id"], embed=["methods"])["items"]
    runs = next(r for r in resources if r["path"] == "/runs")
    method = apigw.get_method(restApiId=outputs["api_id"], resourceId=runs["id"], httpMethod="ANY")
    assert method["authorizationType"] == "COGNITO_USER_POOLS"
    assert method["authorizerId"] == authorizers[0]["id"]


def test_local_environment_applies_replans_clean_and_destroys(
    moto_endpoint: str, tmp_path: Path
) -> None:
    # the local env's defaults are Settings' defaults; the one apply of envs/local
    settings = Settings(_env_file=None, aws_endpoint_url=moto_endpoint)
    state = tmp_path / "local.tfstate"
    build = tmp_path / "build"  # a private build dir: the test never races `make package`
    outputs = tf.apply_local(settings, state, build_dir=build, timeout=400)
    try:
        check_buckets(moto_endpoint, settings, outputs)
        check_tables(moto_endpoint, settings, outputs)
        check_bootstrap_plans_the_same(moto_endpoint, settings, outputs)
        check_functions(moto_endpoint, settings, outputs)
        check_state_machine(moto_endpoint, outputs)
        check_lake_formation(moto_endpoint, settings, outputs)
        check_api_and_alarms(moto_endpoint, settings, outputs)
        check_console(moto_endpoint, settings, outputs)

        plan = tf.plan_local(settings, state, build_dir=build)
        assert plan.returncode == 0, f"re-plan is not empty:\n{plan.stdout[-6000:]}{plan.stderr}"
    finally:
        # The plan just refreshed everything; destroy without a second refresh.
        destroy = tf.destroy_local(settings, state, build_dir=build, refresh=False, timeout=400)
    assert destroy.returncode == 0, destroy.stdout[-6000:] + destroy.stderr
    remaining = {b["Name"] for b in aws("s3", moto_endpoint).list_buckets()["Buckets"]}
    assert not remaining & {settings.bucket(z) for z in ZONES}
    assert aws("stepfunctions", moto_endpoint).list_state_machines()["stateMachines"] == []
