"""Small patches to moto that restore AWS behaviour Terraform's AWS provider relies on, and one
the system's own scale relies on.

Without them, ``terraform apply`` of ``terraform/envs/local`` against moto hangs or fails on a few
resources, ``destroy`` fails on a few more, and a DynamoDB Query costs the whole table. Each
patch below names the AWS behaviour it restores; each is tested in
``tests/unit/test_moto_patches.py`` against a real moto server.

The patches reach into moto's internals, so they are pinned to the moto version they were written
against (:data:`MOTO_VERSION`): on any other version :func:`apply` applies nothing and says so,
and the local Terraform environment must then leave those resources out (``-var msk=false``...).
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: The moto release these patches were written and tested against.
MOTO_VERSION = "5.2.5"

_applied: list[str] = []


@dataclass(frozen=True)
class Patch:
    name: str
    restores: str  # the AWS behaviour the patch restores
    install: Callable[[], None]


# ---------------------------------------------------------------------------------------------
# Step Functions
# ---------------------------------------------------------------------------------------------
def _asl_diagnostics(definition: str) -> list[dict[str, str]]:
    """Structural ASL checks (the subset ValidateStateMachineDefinition reports as ERRORs)."""

    def error(code: str, message: str, location: str = "/") -> dict[str, str]:
        return {"severity": "ERROR", "code": code, "message": message, "location": location}

    try:
        asl = json.loads(definition)
    except (TypeError, ValueError) as exc:
        return [error("INVALID_JSON_DESCRIPTION", f"Definition is not valid JSON: {exc}")]
    if not isinstance(asl, dict):
        return [error("SCHEMA_VALIDATION_FAILED", "Definition must be a JSON object")]
    problems: list[dict[str, str]] = []

    def check(states: Any, start_at: Any, where: str) -> None:
        if not isinstance(states, dict) or not states:
            problems.append(
                error("SCHEMA_VALIDATION_FAILED", "States must be a non-empty object", where)
            )
            return
        if start_at not in states:
            problems.append(
                error(
                    "MISSING_TRANSITION_TARGET",
                    f"StartAt {start_at!r} is not a state",
                    f"{where}/StartAt",
                )
            )
        for name, state in states.items():
            loc = f"{where}/States/{name}"
            if not isinstance(state, dict) or "Type" not in state:
                problems.append(error("SCHEMA_VALIDATION_FAILED", "State has no Type", loc))
                continue
            targets = [state.get("Next"), state.get("Default")]
            targets += [c.get("Next") for c in state.get("Choices", []) if isinstance(c, dict)]
            targets += [c.get("Next") for c in state.get("Catch", []) if isinstance(c, dict)]
            for target in targets:
                if target is not None and target not in states:
                    problems.append(
                        error(
                            "MISSING_TRANSITION_TARGET",
                            f"Missing 'Next' target: {target}",
                            loc,
                        )
                    )
            for i, branch in enumerate(state.get("Branches", [])):
                if isinstance(branch, dict):
                    check(branch.get("States"), branch.get("StartAt"), f"{loc}/Branches/{i}")
            for key in ("Iterator", "ItemProcessor"):
                sub = state.get(key)
                if isinstance(sub, dict):
                    check(sub.get("States"), sub.get("StartAt"), f"{loc}/{key}")

    check(asl.get("States"), asl.get("StartAt"), "")
    return problems


def _patch_sfn_validate() -> None:
    from moto.core.responses import ActionResult
    from moto.stepfunctions.responses import StepFunctionResponse

    def validate_state_machine_definition(self: Any) -> ActionResult:
        diagnostics = _asl_diagnostics(self._get_param("definition"))
        return ActionResult(
            {
                "result": "FAIL" if diagnostics else "OK",
                "diagnostics": diagnostics,
                "truncated": False,
            }
        )

    def list_state_machine_versions(self: Any) -> ActionResult:
        machine = self.stepfunction_backend.describe_state_machine(
            self._get_param("stateMachineArn")
        )
        versions = sorted(machine.versions.values(), key=lambda v: v.version, reverse=True)
        return ActionResult(
            {
                "stateMachineVersions": [
                    {"stateMachineVersionArn": v.arn, "creationDate": v.creation_date}
                    for v in versions
                ]
            }
        )

    StepFunctionResponse.validate_state_machine_definition = validate_state_machine_definition
    StepFunctionResponse.list_state_machine_versions = list_state_machine_versions


# ---------------------------------------------------------------------------------------------
# EMR Serverless
# ---------------------------------------------------------------------------------------------
def _patch_emr_serverless() -> None:
    from moto.emrserverless import models

    # AWS creates applications in CREATED; they start on StartApplication or when the first job is
    # submitted (auto-start). moto starts them at once, so DeleteApplication (CREATED/STOPPED
    # only) refuses to delete a fresh application.
    models.APPLICATION_STATUS = "CREATED"

    original = models.EMRServerlessBackend.create_application
    if getattr(original, "_seg_patched", False):
        return

    def create_application(
        self: Any, name: str, release_label: str, application_type: str, *args: Any, **kwargs: Any
    ) -> Any:
        # AWS takes the application type case-insensitively ("spark", "Spark", "SPARK").
        return original(self, name, release_label, application_type.upper(), *args, **kwargs)

    create_application._seg_patched = True  # type: ignore[attr-defined]
    models.EMRServerlessBackend.create_application = create_application

    # AWS returns the application's architecture (default X86_64); moto drops the parameter, so
    # the provider sees "architecture" vanish and plans a change after every apply.
    from moto.emrserverless.responses import EMRServerlessResponse

    models.Application.architecture = "X86_64"
    original_response = EMRServerlessResponse.create_application

    def create_application_response(self: Any) -> Any:
        result = original_response(self)
        app = self.emrserverless_backend.get_application(result.result["applicationId"])
        app.architecture = self._get_param("architecture") or "X86_64"
        return result

    EMRServerlessResponse.create_application = create_application_response


# ---------------------------------------------------------------------------------------------
# Lambda
# ---------------------------------------------------------------------------------------------
def _patch_lambda_dead_letter_config() -> None:
    from moto.awslambda.models import LambdaFunction

    original_init = LambdaFunction.__init__
    original_config = LambdaFunction.get_configuration
    original_update = LambdaFunction.update_configuration

    def __init__(self: Any, account_id: str, spec: dict[str, Any], *args: Any, **kw: Any) -> None:
        original_init(self, account_id, spec, *args, **kw)
        self.dead_letter_config = spec.get("DeadLetterConfig") or None

    def get_configuration(self: Any, on_create: bool = False) -> dict[str, Any]:
        config = original_config(self, on_create)
        if getattr(self, "dead_letter_config", None):
            config["DeadLetterConfig"] = self.dead_letter_config
        return config

    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "DeadLetterConfig" in config_updates:
            self.dead_letter_config = config_updates["DeadLetterConfig"] or None
        return original_update(self, config_updates)

    LambdaFunction.__init__ = __init__
    LambdaFunction.get_configuration = get_configuration
    LambdaFunction.update_configuration = update_configuration


# ---------------------------------------------------------------------------------------------
# MSK
# ---------------------------------------------------------------------------------------------
def _patch_msk() -> None:
    from moto.kafka import models
    from moto.kafka.responses import KafkaResponse
    from moto.utilities.utils import get_partition

    def _generate_arn(self: Any) -> str:
        # AWS: arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid> for provisioned and
        # serverless clusters alike (the provider derives the cluster UUID from it).
        partition = get_partition(self.region_name)
        return (
            f"arn:{partition}:kafka:{self.region_name}:{self.account_id}:"
            f"cluster/{self.cluster_name}/{self.cluster_id}"
        )

    models.FakeKafkaCluster._generate_arn = _generate_arn

    # AWS moves a new cluster from CREATING to ACTIVE once its brokers are up; moto never does,
    # so anything waiting for ACTIVE (the provider, event source mappings) waits forever. The
    # create call still answers CREATING, as AWS does.
    for name in ("create_cluster_v2", "create_cluster"):
        original = getattr(models.KafkaBackend, name)

        def created_active(self: Any, *args: Any, _original: Any = original, **kw: Any) -> Any:
            result = _original(self, *args, **kw)
            self.clusters[result[0]].state = "ACTIVE"
            return result

        setattr(models.KafkaBackend, name, created_active)

    def get_bootstrap_brokers(self: Any) -> str:
        path = self.parsed_url.path.split("/clusters/")[-1].removesuffix("/bootstrap-brokers")
        from urllib.parse import unquote

        cluster = self.kafka_backend.clusters.get(unquote(path))
        if cluster is None:
            raise models.NotFoundException(f"Cluster {unquote(path)} not found")
        host = f"b-1.{cluster.cluster_name}.{cluster.cluster_id[:6]}.c1.kafka"
        if cluster.cluster_type == "SERVERLESS":
            host = f"boot-{cluster.cluster_id[:8]}.c1.kafka-serverless"
        host = f"{host}.{cluster.region_name}.amazonaws.com"
        auth = (
            (cluster.serverless_config or {}).get("clientAuthentication")
            if cluster.cluster_type == "SERVERLESS"
            else cluster.client_authentication
        ) or {}
        sasl = auth.get("sasl") or {}
        brokers: dict[str, str] = {}
        if (sasl.get("iam") or {}).get("enabled"):
            brokers["bootstrapBrokerStringSaslIam"] = f"{host}:9098"
        if (sasl.get("scram") or {}).get("enabled"):
            brokers["bootstrapBrokerStringSaslScram"] = f"{host}:9096"
        if cluster.cluster_type == "PROVISIONED" and not brokers:
            brokers["bootstrapBrokerStringTls"] = f"{host}:9094"
        return json.dumps(brokers)

    KafkaResponse.get_bootstrap_brokers = get_bootstrap_brokers

    # AWS answers NotFoundException (404) for a cluster that does not exist (e.g. once deleted);
    # moto raises KeyError, a 500, so waiting for a deletion fails.
    for name in ("describe_cluster_v2", "describe_cluster"):
        original_describe = getattr(models.KafkaBackend, name)

        def describe(self: Any, cluster_arn: str, _original: Any = original_describe) -> Any:
            if cluster_arn not in self.clusters:
                raise models.NotFoundException(f"Cluster {cluster_arn} does not exist")
            return _original(self, cluster_arn)

        setattr(models.KafkaBackend, name, describe)


def _patch_lambda_msk_mappings() -> None:
    from moto.awslambda import models
    from moto.core.exceptions import JsonRESTError as RESTError
    from moto.kafka.models import kafka_backends

    esm = models.EventSourceMapping
    arn_property = esm.event_source_arn

    def set_source_arn(self: Any, event_source_arn: str) -> None:
        if self._get_service_source_from_arn(event_source_arn) == "kafka":
            self._event_source_arn = event_source_arn
        else:
            arn_property.fset(self, event_source_arn)

    esm.event_source_arn = arn_property.setter(set_source_arn)

    size_property = esm.batch_size

    def set_batch_size(self: Any, size: int | None) -> None:
        if self._get_service_source_from_arn() != "kafka":
            size_property.fset(self, size)
        elif size is not None and not 1 <= int(size) <= 10000:
            raise ValueError(
                "InvalidParameterValueException", f"BatchSize {size} is not in 1..10000"
            )
        else:
            self._batch_size = 100 if size is None else int(size)

    esm.batch_size = size_property.setter(set_batch_size)

    original_create = models.LambdaBackend.create_event_source_mapping

    def create_event_source_mapping(self: Any, spec: dict[str, Any]) -> Any:
        source = spec.get("EventSourceArn") or ""
        if ":kafka:" not in source:
            return original_create(self, spec)
        # AWS accepts an MSK cluster as event source: one topic, a starting position.
        clusters = kafka_backends[self.account_id][self.region_name].clusters
        if source not in clusters:
            raise RESTError("InvalidParameterValueException", "Invalid EventSourceArn")
        if len(spec.get("Topics") or []) != 1:
            raise RESTError(
                "InvalidParameterValueException", "An MSK event source takes exactly one topic"
            )
        if spec.get("StartingPosition") not in ("LATEST", "TRIM_HORIZON", "AT_TIMESTAMP"):
            raise RESTError(
                "InvalidParameterValueException",
                "StartingPosition must be LATEST, TRIM_HORIZON or AT_TIMESTAMP for MSK",
            )
        func = self._lambdas.get_function_by_name_or_arn_with_qualifier(spec["FunctionName"])
        spec.update(
            {
                "RegionName": self.region_name,
                "AccountId": self.account_id,
                "FunctionArn": func.function_arn,
            }
        )
        mapping = models.EventSourceMapping(spec)
        self._event_source_mappings[mapping.uuid] = mapping
        return mapping

    models.LambdaBackend.create_event_source_mapping = create_event_source_mapping


# ---------------------------------------------------------------------------------------------
# Lake Formation
# ---------------------------------------------------------------------------------------------
def _patch_lakeformation_revoke() -> None:
    from moto.lakeformation import models
    from moto.lakeformation.exceptions import InvalidInput

    original = models.LakeFormationBackend.revoke_permissions

    def revoke_permissions(
        self: Any,
        catalog_id: str,
        principal: dict[str, str],
        resource: dict[str, Any],
        permissions_to_revoke: list[str],
        permissions_with_grant_options_to_revoke: list[str],
    ) -> None:
        # AWS refuses a revoke that removes nothing ("No permissions revoked"); the provider's
        # delete revokes until it sees that answer, so moto's silent 200 makes destroy fail.
        target = models.Permission(principal, resource, [], [])
        catalog = self.grants.get(catalog_id)
        held = next(
            (
                p
                for p in (catalog.permissions if catalog else ())
                if target.equal_principal_and_resouce(p)
            ),
            None,
        )
        revoked = set(permissions_to_revoke or []) & set(held.permissions if held else [])
        revoked |= set(permissions_with_grant_options_to_revoke or []) & set(
            held.permissions_with_grant_options if held else []
        )
        if not revoked:
            raise InvalidInput(  # AWS's wording, which the provider matches
                "No permissions revoked. Grantee has no permissions and no grantable "
                "permissions on resource"
            )
        original(
            self,
            catalog_id,
            principal,
            resource,
            permissions_to_revoke,
            permissions_with_grant_options_to_revoke,
        )

    models.LakeFormationBackend.revoke_permissions = revoke_permissions


def _patch_lakeformation_permission_catalog() -> None:
    from moto.lakeformation import models

    # moto keeps a catalog's grants in a set hashed on their permission lists, and merges a
    # second grant for the same principal and resource into the stored one in place: its hash
    # changes while it sits in the set, and a later revoke raises KeyError (a 500). Each grant is
    # taken out of the set before it changes and put back after.
    def add_permission(self: Any, permission: Any) -> None:
        for existing in list(self.permissions):
            if permission.equal_principal_and_resouce(existing):
                rest = {p for p in self.permissions if p is not existing}
                existing.merge(permission)
                self.permissions = rest | {existing}
                return
        self.permissions = self.permissions | {permission}

    def remove_permission(self: Any, permission: Any) -> None:
        for existing in list(self.permissions):
            if permission.equal_principal_and_resouce(existing):
                rest = {p for p in self.permissions if p is not existing}
                existing.diff(permission)
                self.permissions = rest if existing.is_empty() else rest | {existing}
                return

    models.PermissionCatalog.add_permission = add_permission
    models.PermissionCatalog.remove_permission = remove_permission


# ---------------------------------------------------------------------------------------------
# EC2
# ---------------------------------------------------------------------------------------------
def _patch_security_group_rule_description() -> None:
    from moto.ec2.models.security_groups import SecurityGroupRule

    def description(self: Any) -> str | None:
        # A rule referencing another group keeps its description with the group pair.
        return self.ip_range.get("Description") or (self.source_group or {}).get("Description")

    SecurityGroupRule.description = property(description)


# ---------------------------------------------------------------------------------------------
# S3
# ---------------------------------------------------------------------------------------------
def _patch_s3_delete_marker_dispose() -> None:
    from moto.s3.models import FakeDeleteMarker

    def dispose(self: Any, garbage: bool = False) -> None:
        # A delete marker holds no body: nothing to free when its key goes.
        return None

    FakeDeleteMarker.dispose = dispose


# ---------------------------------------------------------------------------------------------
# DynamoDB
# ---------------------------------------------------------------------------------------------
_query_scope = threading.local()


def _patch_dynamodb_query_one_partition() -> None:
    from moto.dynamodb.models.table import Table

    all_items, query = Table.all_items, Table.query

    def partition_items(self: Any) -> list[Any]:
        # Inside a base-table Query: the queried hash key's items only (a dict lookup), not the
        # table's every item sorted, which the query then filters down to that hash key.
        if getattr(_query_scope, "table", None) is self:
            bucket = self.items.get(_query_scope.hash_key)
            if bucket is None:
                return []
            return list(bucket.values()) if self.range_key_attr else [bucket]
        return all_items(self)

    def one_partition_query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs["index_name"] if "index_name" in kwargs else (args[6:7] or [None])[0]
        if index_name or hash_key is None:
            return query(self, hash_key, *args, **kwargs)
        _query_scope.table, _query_scope.hash_key = self, hash_key
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            _query_scope.table = _query_scope.hash_key = None

    Table.all_items = partition_items
    Table.query = one_partition_query


PATCHES: tuple[Patch, ...] = (
    Patch(
        "sfn-validate-definition",
        "ValidateStateMachineDefinition answers OK or FAIL with diagnostics (moto lacks the "
        "action: the provider's create/update waits on it, then gets a 500)",
        _patch_sfn_validate,
    ),
    Patch(
        "sfn-list-versions",
        "ListStateMachineVersions lists a machine's published versions, newest first (moto "
        "lacks the action; the provider reads it after every create)",
        lambda: None,  # installed together with sfn-validate-definition
    ),
    Patch(
        "emr-serverless-application",
        "CreateApplication accepts the type case-insensitively and the application starts in "
        "CREATED, so it can be deleted before it ever ran; GetApplication returns its "
        "architecture",
        _patch_emr_serverless,
    ),
    Patch(
        "lambda-dead-letter-config",
        "GetFunction/GetFunctionConfiguration return the function's DeadLetterConfig (moto "
        "accepts it on create, then forgets it)",
        _patch_lambda_dead_letter_config,
    ),
    Patch(
        "msk-cluster",
        "MSK clusters are named cluster/<name>/<uuid> in their ARN, become ACTIVE after "
        "creation, and GetBootstrapBrokers answers the brokers of their authentication "
        "(SASL/IAM on 9098)",
        _patch_msk,
    ),
    Patch(
        "lambda-msk-event-source",
        "CreateEventSourceMapping accepts an MSK cluster (one topic, a starting position, "
        "batch size 1..10000), which moto limits to SQS, DynamoDB and Kinesis",
        _patch_lambda_msk_mappings,
    ),
    Patch(
        "msk-describe-not-found",
        "DescribeCluster(V2) of an unknown or deleted cluster answers NotFoundException, not 500",
        lambda: None,  # installed with msk-cluster
    ),
    Patch(
        "lakeformation-revoke-nothing",
        "RevokePermissions that removes nothing fails with InvalidInputException 'No permissions "
        "revoked' (moto answers 200, and the provider retries its delete until it errors)",
        _patch_lakeformation_revoke,
    ),
    Patch(
        "lakeformation-repeated-grants",
        "GrantPermissions twice for one principal and resource merges the grants, and both can "
        "be revoked (moto's merged grant changes its hash inside a set: the revoke is a 500)",
        _patch_lakeformation_permission_catalog,
    ),
    Patch(
        "ec2-group-rule-description",
        "DescribeSecurityGroupRules returns the description of rules that reference a security "
        "group (moto returns it only for CIDR rules, so every such rule drifts)",
        _patch_security_group_rule_description,
    ),
    Patch(
        "s3-delete-marker-versions",
        "DeleteObjects of every version of a versioned bucket's keys, delete markers included, "
        "deletes them (moto's key store calls dispose() on the marker and answers a 500, so "
        "emptying a versioned bucket with force_destroy fails)",
        _patch_s3_delete_marker_dispose,
    ),
    Patch(
        "dynamodb-query-one-partition",
        "Query on a table's key reads that partition key's items, whatever the table holds (moto "
        "sorts every item of the table on each Query: at 500k published users a segment lookup "
        "took longer than the API's 5 s read timeout)",
        _patch_dynamodb_query_one_partition,
    ),
)


def version_matches() -> bool:
    import moto

    return moto.__version__ == MOTO_VERSION


def apply() -> list[str]:
    """Install every patch once (idempotent); nothing on a moto version they were not made for."""
    import moto

    if not version_matches():
        print(
            f"moto_patches: moto {moto.__version__} is not {MOTO_VERSION}; no patch applied "
            "(the local Terraform environment then needs -var msk=false and may not destroy)",
            file=sys.stderr,
        )
        return []
    for patch in PATCHES:
        if patch.name not in _applied:
            patch.install()
            _applied.append(patch.name)
    return list(_applied)
