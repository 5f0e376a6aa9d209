"""Each moto patch restores the AWS behaviour it names, on a real moto server (the project's
launcher applies the patches). Pinned: on another moto version the patches are not applied and
these tests are skipped."""

from __future__ import annotations

import io
import json
import zipfile

import boto3
import pytest
from botocore.exceptions import ClientError

from segmentation_local import moto_patches

pytestmark = pytest.mark.moto

needs_pinned_moto = pytest.mark.skipif(
    not moto_patches.version_matches(),
    reason=f"patches are pinned to moto {moto_patches.MOTO_VERSION}",
)

VALID_ASL = {
    "StartAt": "A",
    "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Succeed"}},
}
ROLE_TRUST = json.dumps(
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
)


def client(name: str, endpoint: str):  # type: ignore[no-untyped-def]
    return boto3.client(name, endpoint_url=endpoint, region_name="us-east-1")


# --- pure parts -------------------------------------------------------------------------------
def test_asl_diagnostics_accepts_valid_and_names_problems() -> None:
    assert moto_patches._asl_diagnostics(json.dumps(VALID_ASL)) == []
    [bad_json] = moto_patches._asl_diagnostics("{not json")
    assert bad_json["code"] == "INVALID_JSON_DESCRIPTION"
    broken = {"StartAt": "Nope", "States": {"A": {"Type": "Pass", "Next": "Missing"}}}
    diagnostics = moto_patches._asl_diagnostics(json.dumps(broken))
    assert [d["code"] for d in diagnostics] == ["MISSING_TRANSITION_TARGET"] * 2
    messages = " ".join(d["message"] for d in diagnostics)
    assert "Nope" in messages and "Missing" in messages
    nested = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "End": True,
                "Branches": [{"StartAt": "X", "States": {"X": {"Type": "Pass", "Next": "Y"}}}],
            }
        },
    }
    [problem] = moto_patches._asl_diagnostics(json.dumps(nested))
    assert problem["location"] == "/States/P/Branches/0/States/X"


def test_apply_refuses_other_moto_versions(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import moto

    monkeypatch.setattr(moto, "__version__", "0.0.1")
    monkeypatch.setattr(moto_patches, "_applied", [])
    assert moto_patches.apply() == []
    assert "not " + moto_patches.MOTO_VERSION in capsys.readouterr().err


def test_every_patch_says_what_it_restores() -> None:
    names = [p.name for p in moto_patches.PATCHES]
    assert len(names) == len(set(names))
    assert all(len(p.restores) > 40 for p in moto_patches.PATCHES)


def test_the_deploy_docs_list_every_patch_and_no_other() -> None:
    import re
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "deploy.md").read_text()
    section = docs.split("### moto patches", 1)[1].split("\n### ", 1)[0]
    listed = re.findall(r"^\| `([a-z0-9-]+)` \|", section, flags=re.MULTILINE)
    assert sorted(listed) == sorted(p.name for p in moto_patches.PATCHES)


# --- against the server -----------------------------------------------------------------------
@needs_pinned_moto
def test_sfn_validate_definition_and_versions(moto_env: str) -> None:
    sfn = client("stepfunctions", moto_env)
    ok = sfn.validate_state_machine_definition(definition=json.dumps(VALID_ASL), type="STANDARD")
    assert ok["result"] == "OK" and ok["diagnostics"] == []
    bad = sfn.validate_state_machine_definition(definition='{"StartAt": "X", "States": {}}')
    assert bad["result"] == "FAIL" and bad["diagnostics"][0]["severity"] == "ERROR"

    role = "arn:aws:iam::123456789012:role/sfn"
    plain = sfn.create_state_machine(name="plain", definition=json.dumps(VALID_ASL), roleArn=role)
    assert (
        sfn.list_state_machine_versions(stateMachineArn=plain["stateMachineArn"])[
            "stateMachineVersions"
        ]
        == []
    )
    published = sfn.create_state_machine(
        name="published", definition=json.dumps(VALID_ASL), roleArn=role, publish=True
    )
    versions = sfn.list_state_machine_versions(stateMachineArn=published["stateMachineArn"])
    assert [v["stateMachineVersionArn"] for v in versions["stateMachineVersions"]] == [
        published["stateMachineVersionArn"]
    ]


@needs_pinned_moto
def test_emr_serverless_application_lifecycle(moto_env: str) -> None:
    emr = client("emr-serverless", moto_env)
    app = emr.create_application(name="cluster", releaseLabel="emr-7.9.0", type="spark")
    got = emr.get_application(applicationId=app["applicationId"])["application"]
    assert got["state"] == "CREATED" and got["architecture"] == "X86_64"
    emr.delete_application(applicationId=app["applicationId"])  # allowed in CREATED
    arm = emr.create_application(
        name="arm", releaseLabel="emr-7.9.0", type="SPARK", architecture="ARM64"
    )
    assert (
        emr.get_application(applicationId=arm["applicationId"])["application"]["architecture"]
        == "ARM64"
    )
    with pytest.raises(ClientError, match="Unsupported engine"):
        emr.create_application(name="x", releaseLabel="emr-7.9.0", type="presto")


def _function(moto_env: str, **extra: object) -> str:
    iam = client("iam", moto_env)
    role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=ROLE_TRUST)["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("handler.py", "def handler(event, context):\n    return event\n")
    lam = client("lambda", moto_env)
    return lam.create_function(
        FunctionName="fn",
        Runtime="python3.11",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": buf.getvalue()},
        **extra,
    )["FunctionArn"]


@needs_pinned_moto
def test_lambda_keeps_its_dead_letter_config(moto_env: str) -> None:
    sqs = client("sqs", moto_env)
    q1 = sqs.create_queue(QueueName="dlq1")["QueueUrl"]
    q2 = sqs.create_queue(QueueName="dlq2")["QueueUrl"]
    arn1, arn2 = (
        sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for q in (q1, q2)
    )
    _function(moto_env, DeadLetterConfig={"TargetArn": arn1})
    lam = client("lambda", moto_env)
    assert lam.get_function_configuration(FunctionName="fn")["DeadLetterConfig"] == {
        "TargetArn": arn1
    }
    lam.update_function_configuration(FunctionName="fn", DeadLetterConfig={"TargetArn": arn2})
    assert lam.get_function(FunctionName="fn")["Configuration"]["DeadLetterConfig"] == {
        "TargetArn": arn2
    }


def _serverless_cluster(moto_env: str) -> str:
    kafka = client("kafka", moto_env)
    return kafka.create_cluster_v2(
        ClusterName="events",
        Serverless={
            "VpcConfigs": [{"SubnetIds": ["subnet-1", "subnet-2"], "SecurityGroupIds": ["sg-1"]}],
            "ClientAuthentication": {"Sasl": {"Iam": {"Enabled": True}}},
        },
    )["ClusterArn"]


@needs_pinned_moto
def test_msk_cluster_becomes_active_with_iam_brokers(moto_env: str) -> None:
    kafka = client("kafka", moto_env)
    arn = _serverless_cluster(moto_env)
    assert arn.split(":")[-1].startswith("cluster/events/")
    assert kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]["State"] == "ACTIVE"
    brokers = kafka.get_bootstrap_brokers(ClusterArn=arn)
    assert brokers["BootstrapBrokerStringSaslIam"].endswith(":9098")
    assert "BootstrapBrokerString" not in brokers
    kafka.delete_cluster(ClusterArn=arn)
    with pytest.raises(ClientError) as err:
        kafka.describe_cluster_v2(ClusterArn=arn)
    assert err.value.response["Error"]["Code"] == "NotFoundException"


@needs_pinned_moto
def test_lambda_accepts_an_msk_event_source(moto_env: str) -> None:
    cluster = _serverless_cluster(moto_env)
    _function(moto_env)
    lam = client("lambda", moto_env)
    mapping = lam.create_event_source_mapping(
        EventSourceArn=cluster,
        FunctionName="fn",
        Topics=["raw-events"],
        StartingPosition="TRIM_HORIZON",
        BatchSize=500,
        MaximumBatchingWindowInSeconds=10,
        AmazonManagedKafkaEventSourceConfig={"ConsumerGroupId": "ingest"},
    )
    got = lam.get_event_source_mapping(UUID=mapping["UUID"])
    assert got["EventSourceArn"] == cluster and got["Topics"] == ["raw-events"]
    assert got["BatchSize"] == 500 and got["StartingPosition"] == "TRIM_HORIZON"
    assert got["AmazonManagedKafkaEventSourceConfig"] == {"ConsumerGroupId": "ingest"}
    for bad in (
        {"Topics": ["a", "b"], "StartingPosition": "LATEST"},
        {"Topics": ["a"]},
        {"Topics": ["a"], "StartingPosition": "LATEST", "EventSourceArn": cluster + "-gone"},
    ):
        with pytest.raises(ClientError):
            lam.create_event_source_mapping(
                **{"EventSourceArn": cluster, "FunctionName": "fn", **bad}
            )
    lam.delete_event_source_mapping(UUID=mapping["UUID"])


@needs_pinned_moto
def test_lakeformation_revoke_of_nothing_is_refused(moto_env: str) -> None:
    lf = client("lakeformation", moto_env)
    glue = client("glue", moto_env)
    glue.create_database(DatabaseInput={"Name": "zone_db"})
    grant = {
        "Principal": {"DataLakePrincipalIdentifier": "arn:aws:iam::123456789012:role/etl"},
        "Resource": {"Database": {"Name": "zone_db"}},
        "Permissions": ["DESCRIBE", "ALTER"],
    }
    lf.grant_permissions(**grant)
    lf.revoke_permissions(**{**grant, "Permissions": ["ALTER"]})
    lf.revoke_permissions(**{**grant, "Permissions": ["DESCRIBE"]})
    with pytest.raises(ClientError) as err:
        lf.revoke_permissions(**grant)
    assert err.value.response["Error"]["Code"] == "InvalidInputException"
    assert "No permissions revoked" in err.value.response["Error"]["Message"]


@needs_pinned_moto
def test_lakeformation_repeated_grants_merge_and_revoke(moto_env: str) -> None:
    lf = client("lakeformation", moto_env)
    glue = client("glue", moto_env)
    glue.create_database(DatabaseInput={"Name": "regrant_db"})
    # Several principals: unpatched, each revoke finds its merged grant only by the chance of a
    # probe landing on the stale hash slot, so all of them passing is vanishingly unlikely.
    for n in range(6):
        principal = {"DataLakePrincipalIdentifier": f"arn:aws:iam::123456789012:role/stage{n}"}
        resource = {"Database": {"Name": "regrant_db"}}
        lf.grant_permissions(Principal=principal, Resource=resource, Permissions=["DESCRIBE"])
        lf.grant_permissions(
            Principal=principal, Resource=resource, Permissions=["ALTER", "CREATE_TABLE"]
        )
        lf.grant_permissions(Principal=principal, Resource=resource, Permissions=["DESCRIBE"])
        held = lf.list_permissions(Principal=principal, Resource=resource)
        perms = held["PrincipalResourcePermissions"]
        assert len(perms) == 1
        assert sorted(perms[0]["Permissions"]) == ["ALTER", "CREATE_TABLE", "DESCRIBE"]
        lf.revoke_permissions(Principal=principal, Resource=resource, Permissions=["ALTER"])
        lf.revoke_permissions(
            Principal=principal, Resource=resource, Permissions=["CREATE_TABLE", "DESCRIBE"]
        )
        left = lf.list_permissions(Principal=principal, Resource=resource)
        assert left["PrincipalResourcePermissions"] == []


@needs_pinned_moto
def test_group_referencing_rule_keeps_its_description(moto_env: str) -> None:
    ec2 = client("ec2", moto_env)
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    a = ec2.create_security_group(GroupName="a", Description="a", VpcId=vpc)["GroupId"]
    b = ec2.create_security_group(GroupName="b", Description="b", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=a,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 9098,
                "ToPort": 9098,
                "UserIdGroupPairs": [{"GroupId": b, "Description": "from b"}],
            }
        ],
    )
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [a]}])
    ingress = [r for r in rules["SecurityGroupRules"] if not r["IsEgress"]]
    assert [r.get("Description") for r in ingress] == ["from b"]


def test_every_version_of_a_versioned_bucket_is_deleted_markers_included(moto_env: str) -> None:
    s3 = client("s3", moto_env)
    s3.create_bucket(Bucket="versioned-markers")
    s3.put_bucket_versioning(
        Bucket="versioned-markers", VersioningConfiguration={"Status": "Enabled"}
    )
    s3.put_object(Bucket="versioned-markers", Key="config.json", Body=b"{}")
    s3.delete_object(Bucket="versioned-markers", Key="config.json")  # leaves a delete marker
    listed = s3.list_object_versions(Bucket="versioned-markers")
    objects = [
        {"Key": v["Key"], "VersionId": v["VersionId"]}
        for v in listed.get("Versions", []) + listed.get("DeleteMarkers", [])
    ]
    assert len(objects) == 2
    answer = s3.delete_objects(Bucket="versioned-markers", Delete={"Objects": objects})
    assert not answer.get("Errors") and len(answer["Deleted"]) == 2
    s3.delete_bucket(Bucket="versioned-markers")


def _keyed_table(dynamo, name: str) -> None:  # type: ignore[no-untyped-def]
    dynamo.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "seg", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-seg",
                "KeySchema": [{"AttributeName": "seg", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    with_items = [
        {"pk": {"S": f"USER#{u}"}, "sk": {"S": f"V#{v:02d}"}, "seg": {"S": f"S{(u + v) % 3}"}}
        for u in range(5)
        for v in range(12)
    ]
    for item in with_items:
        dynamo.put_item(TableName=name, Item=item)


@needs_pinned_moto
def test_a_query_answers_as_before_from_its_partition_alone(moto_env: str) -> None:
    dynamo = client("dynamodb", moto_env)
    _keyed_table(dynamo, "partitions")

    def query(**kwargs):  # type: ignore[no-untyped-def]
        return dynamo.query(TableName="partitions", **kwargs)

    between = query(
        KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
        ExpressionAttributeValues={
            ":pk": {"S": "USER#3"},
            ":lo": {"S": "V#02"},
            ":hi": {"S": "V#05"},
        },
    )
    assert [i["sk"]["S"] for i in between["Items"]] == ["V#02", "V#03", "V#04", "V#05"]
    assert {i["pk"]["S"] for i in between["Items"]} == {"USER#3"}
    # pages in range-key order, backwards too, and nothing for an unknown key
    pages, start = [], None
    while True:
        page = query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :v)",
            ExpressionAttributeValues={":pk": {"S": "USER#1"}, ":v": {"S": "V#"}},
            Limit=5,
            ScanIndexForward=False,
            **({"ExclusiveStartKey": start} if start else {}),
        )
        pages.append([i["sk"]["S"] for i in page["Items"]])
        if "LastEvaluatedKey" not in page:
            break
        start = page["LastEvaluatedKey"]
    assert [sk for page in pages for sk in page] == [f"V#{v:02d}" for v in reversed(range(12))]
    assert [len(p) for p in pages][:2] == [5, 5]
    unknown = query(
        KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": "USER#9"}}
    )
    assert unknown["Items"] == [] and unknown["Count"] == 0
    # an index query still reads across partitions
    by_seg = query(
        IndexName="by-seg",
        KeyConditionExpression="seg = :s",
        ExpressionAttributeValues={":s": {"S": "S0"}},
    )
    assert by_seg["Count"] == 20 and len({i["pk"]["S"] for i in by_seg["Items"]}) == 5


@needs_pinned_moto
def test_a_query_does_not_read_the_other_partitions() -> None:
    from moto import mock_aws
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import DynamoType, dynamodb_backends

    moto_patches.apply()

    class Unreadable(dict):  # type: ignore[type-arg]
        def values(self):  # type: ignore[no-untyped-def]
            raise AssertionError("a query read another partition")

    with mock_aws():
        dynamo = boto3.client("dynamodb", region_name="us-east-1")
        _keyed_table(dynamo, "poisoned")
        table = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables["poisoned"]
        table.items[DynamoType({"S": "USER#other"})] = Unreadable()
        found = dynamo.query(
            TableName="poisoned",
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "USER#2"}},
        )
        assert found["Count"] == 12
        # the poison works: a scan reads every partition, and meets it
        with pytest.raises(AssertionError, match="another partition"):
            dynamo.scan(TableName="poisoned")
