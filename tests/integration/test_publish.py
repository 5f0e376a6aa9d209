"""Publish against moto: versioned items, pointer flip after the load, retirement by TTL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import Stubber
from serving_data import KEY, make_stack, write_version

from segmentation.anonymise import Anonymiser
from segmentation.awsclients import client
from segmentation.config import Settings, get_settings
from segmentation.model_document import ModelDocumentError
from segmentation.serving import table as t
from segmentation.serving.publish import ConcurrentPublishError, Publisher, publish

pytestmark = pytest.mark.moto


@pytest.fixture
def settings(moto_env: str) -> Settings:
    s = get_settings()
    make_stack(s)
    return s


def get(settings: Settings, key: dict[str, str]) -> dict[str, Any] | None:
    resp = client("dynamodb", settings).get_item(
        TableName=settings.segments_table, Key=t.serialize(key)
    )
    return t.deserialize(resp["Item"]) if "Item" in resp else None


def test_publish_loads_every_user_and_flips_the_pointer(settings: Settings) -> None:
    truth = write_version(settings, "v1", 120)
    result = publish("v1", settings)
    assert (result.model_version, result.users, result.segments) == ("v1", 120, 3)
    assert result.previous_version is None
    anon = Anonymiser(KEY)
    for raw, seg in truth.items():
        item = get(settings, t.user_key(anon.anon(raw), "v1"))
        assert item is not None and item["segment_id"] == seg
        assert "expires_at" not in item  # the current version never expires
    current = get(settings, t.CURRENT_KEY)
    assert current["model_version"] == "v1" and current["users"] == 120
    seg1 = get(settings, t.segment_item_key("v1", 1))
    assert seg1["size"] == 40 and seg1["segment_name"] == "Casual browsers"
    assert seg1["actions"] == ["action for Casual browsers"]
    assert seg1["profile"]["recency_days"] == 4.5
    assert seg1["summary"] == "Casual browsers stand out (recency_days +0.50 sd)"
    assert get(settings, t.version_key("v1"))["status"] == "complete"


def test_second_version_becomes_current_and_the_first_expires(settings: Settings) -> None:
    write_version(settings, "v1", 30)
    publish("v1", settings)
    truth2 = write_version(settings, "v2", 30, shift=1)
    now = datetime.now(UTC)
    result = Publisher(settings, now=now).publish("v2")
    assert result.previous_version == "v1" and result.retired == ["v1"]
    assert get(settings, t.CURRENT_KEY)["model_version"] == "v2"
    anon = Anonymiser(KEY)
    raw = next(iter(truth2))
    old = get(settings, t.user_key(anon.anon(raw), "v1"))
    new = get(settings, t.user_key(anon.anon(raw), "v2"))
    expected_expiry = int((now + timedelta(days=settings.segments_retention_days)).timestamp())
    assert old["expires_at"] == expected_expiry
    assert get(settings, t.segment_item_key("v1", 0))["expires_at"] == expected_expiry
    assert "expires_at" not in new and new["segment_id"] == truth2[raw]
    assert get(settings, t.version_key("v1"))["status"] == "retired"
    ttl = client("dynamodb", settings).describe_time_to_live(TableName=settings.segments_table)
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"


def test_republishing_the_current_version_is_idempotent(settings: Settings) -> None:
    write_version(settings, "v1", 10)
    publish("v1", settings)
    write_version(settings, "v2", 10)
    publish("v2", settings)
    again = publish("v2", settings)  # e.g. the Step Functions retry after a timeout
    assert again.previous_version == "v1" and again.retired == []
    assert get(settings, t.CURRENT_KEY)["model_version"] == "v2"


def test_pointer_is_not_flipped_when_the_load_fails(settings: Settings) -> None:
    write_version(settings, "v1", 10)
    publish("v1", settings)
    with pytest.raises(FileNotFoundError, match="no segment map for model version 'v9'"):
        publish("v9", settings)
    assert get(settings, t.CURRENT_KEY)["model_version"] == "v1"
    assert get(settings, t.version_key("v9"))["status"] == "loading"


def test_missing_profiles_fail_the_publish(settings: Settings) -> None:
    write_version(settings, "v1", 10, with_profiles=False)
    with pytest.raises(FileNotFoundError, match="profiles"):
        publish("v1", settings)
    assert get(settings, t.CURRENT_KEY) is None


def test_a_document_of_another_shape_fails_the_publish_naming_the_field(
    settings: Settings,
) -> None:
    """The old readers took `segment_name` for `name` (and a bare list for the document);
    one shape now, refused before any item of the version is written."""
    write_version(settings, "v1", 10)
    key = "profiles/model_version=v1/profiles.json"
    s3 = client("s3", settings)
    bucket = settings.bucket("segments")
    doc = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    doc["segments"][1]["segment_name"] = doc["segments"][1].pop("name")
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(doc).encode())
    with pytest.raises(ModelDocumentError) as err:
        publish("v1", settings)
    assert f"s3://{bucket}/{key}" in str(err.value)
    assert "segments.1.name: Field required" in str(err.value)
    assert "segments.1.segment_name: Extra inputs are not permitted" in str(err.value)
    assert get(settings, t.CURRENT_KEY) is None
    assert get(settings, t.segment_item_key("v1", 0)) is None


def test_a_version_whose_document_no_longer_reads_is_still_retired(settings: Settings) -> None:
    """Retiring only needs the segment map; an old document must not keep its items forever."""
    write_version(settings, "v1", 10)
    publish("v1", settings)
    client("s3", settings).put_object(
        Bucket=settings.bucket("segments"),
        Key="profiles/model_version=v1/profiles.json",
        Body=b'{"segments": []}',  # e.g. a document of a schema_version before this code's
    )
    write_version(settings, "v2", 10)
    result = publish("v2", settings)
    assert result.retired == ["v1"]
    assert get(settings, t.version_key("v1"))["status"] == "retired"
    assert "expires_at" in get(settings, t.segment_item_key("v1", 0))


def test_concurrent_flip_is_detected(settings: Settings) -> None:
    write_version(settings, "v1", 10)
    write_version(settings, "v2", 10)
    publish("v1", settings)
    p = Publisher(settings)
    original = p.current

    def racing() -> dict[str, Any] | None:
        seen = original()
        publish("v2", settings)  # another publish flips the pointer meanwhile
        return seen

    p.current = racing  # type: ignore[method-assign]
    with pytest.raises(ConcurrentPublishError):
        p.publish("v1")
    assert get(settings, t.CURRENT_KEY)["model_version"] == "v2"


@pytest.mark.parametrize("bad", ["", "a/b", "../x", "x" * 200, None, 3])
def test_bad_model_version_is_rejected(settings: Settings, bad: Any) -> None:
    with pytest.raises(ValueError, match="model_version must be"):
        publish(bad, settings)


def test_publish_lambda_handler_finds_the_version_of_a_run(settings: Settings) -> None:
    """The state machine only knows the run id; the cluster step chose the model version."""
    from segmentation_local.lambda_context import LocalContext
    from segmentation_local.lambdas import load_handler

    def invoke(name: str, event: dict[str, Any]) -> Any:
        return load_handler(name)(event, LocalContext(name))

    write_version(settings, "segmentation-kmeans-v1", 6, run_id="run-a")
    write_version(settings, "segmentation-kmeans-v2", 12, run_id="run-b")
    out = invoke("publish", {"run_id": "run-a", "lake_prefix": settings.lake_prefix})
    assert out["model_version"] == "segmentation-kmeans-v1" and out["users"] == 6
    assert out["run_id"] == "run-a"
    out = invoke("publish", {"model_version": "segmentation-kmeans-v2"})
    assert out["users"] == 12 and out["previous_version"] == "segmentation-kmeans-v1"


def test_publish_of_an_unknown_run_fails_clearly(settings: Settings) -> None:
    from segmentation.serving.publish import lambda_entry

    write_version(settings, "v1", 3, run_id="run-a")
    with pytest.raises(FileNotFoundError, match="no segment profiles for pipeline run 'nope'"):
        lambda_entry({"run_id": "nope"})
    with pytest.raises(ValueError, match="run_id or a model_version"):
        lambda_entry({})


def test_unprocessed_items_are_retried_with_backoff() -> None:
    """Throttling inside a batch: DynamoDB returns UnprocessedItems; they must be re-sent."""
    dynamo = client("dynamodb", Settings(aws_endpoint_url="http://127.0.0.1:1"))
    sleeps: list[float] = []
    writer = t.BatchWriter(dynamo, "tbl", sleep=sleeps.append)
    items = [{"pk": f"USER#{i}", "sk": "V#1", "segment_id": 1} for i in range(3)]
    reqs = [{"PutRequest": {"Item": t.serialize(i)}} for i in items]
    with Stubber(dynamo) as stub:
        stub.add_response(
            "batch_write_item",
            {"UnprocessedItems": {"tbl": reqs[1:]}},
            {"RequestItems": {"tbl": reqs}},
        )
        stub.add_response(
            "batch_write_item",
            {"UnprocessedItems": {"tbl": reqs[2:]}},
            {"RequestItems": {"tbl": reqs[1:]}},
        )
        stub.add_response(
            "batch_write_item", {"UnprocessedItems": {}}, {"RequestItems": {"tbl": reqs[2:]}}
        )
        with writer:
            writer.put_many(items)
        stub.assert_no_pending_responses()
    assert writer.written == 3 and writer.retries == 2 and len(sleeps) == 2
    assert sleeps[0] <= 0.1 and sleeps[1] <= 0.2  # capped exponential (full jitter)


def test_persistently_unprocessed_items_fail_loudly() -> None:
    dynamo = client("dynamodb", Settings(aws_endpoint_url="http://127.0.0.1:1"))
    writer = t.BatchWriter(dynamo, "tbl", max_attempts=2, sleep=lambda s: None)
    req = [{"PutRequest": {"Item": t.serialize({"pk": "a", "sk": "b"})}}]
    with Stubber(dynamo) as stub:
        for _ in range(2):
            stub.add_response("batch_write_item", {"UnprocessedItems": {"tbl": req}})
        writer.put({"pk": "a", "sk": "b"})
        with pytest.raises(RuntimeError, match="unprocessed after 2 attempts"):
            writer.flush()


def test_items_carry_the_durable_keys_of_a_schema_2_version(settings: Settings) -> None:
    """Segment items take key, since and previous size from the document; user items take the
    key and moved_since_previous from the map (left out when unknown: a user new here)."""
    truth1 = write_version(settings, "v1", 9)
    publish("v1", settings)
    anon = Anonymiser(KEY)
    first = get(settings, t.segment_item_key("v1", 1))
    assert (first["segment_key"], first["since"]) == ("S2", "v1")
    assert "previous_size" not in first  # a new key
    user = get(settings, t.user_key(anon.anon("user-00001"), "v1"))
    assert user["segment_key"] == "S2" and "moved_since_previous" not in user
    assert "previous_model_version" not in get(settings, t.CURRENT_KEY)

    truth2 = write_version(settings, "v2", 12, shift=1, previous=("v1", truth1))
    publish("v2", settings)
    seg = get(settings, t.segment_item_key("v2", 1))
    assert (seg["segment_key"], seg["since"], seg["previous_size"]) == ("S2", "v1", 3)
    assert get(settings, t.CURRENT_KEY)["previous_model_version"] == "v1"
    for raw, sid in truth2.items():
        item = get(settings, t.user_key(anon.anon(raw), "v2"))
        assert item["segment_key"] == f"S{sid + 1}"
        if raw in truth1:
            assert item["moved_since_previous"] is True  # shifted: every common user moved
        else:
            assert "moved_since_previous" not in item
    write_version(settings, "v3", 12, shift=1, previous=("v2", truth2))
    publish("v3", settings)
    assert all(
        get(settings, t.user_key(anon.anon(raw), "v3"))["moved_since_previous"] is False
        for raw in truth2
    )


def test_a_map_and_document_from_before_keys_still_publish(settings: Settings) -> None:
    """A schema-1 document and a map without segment_key / moved_since_previous: published as
    before, the identity left out (the API serves it as null)."""
    from segmentation.serving.store import SegmentStore

    truth = write_version(settings, "v1", 12, schema=1)
    result = publish("v1", settings)
    assert (result.users, result.segments) == (12, 3)
    seg = get(settings, t.segment_item_key("v1", 0))
    assert seg["segment_name"] == "Binge watchers" and seg["size"] == 4
    assert not {"segment_key", "since", "previous_size"} & set(seg)
    raw = next(iter(truth))
    user = get(settings, t.user_key(Anonymiser(KEY).anon(raw), "v1"))
    assert user["segment_id"] == truth[raw]
    assert not {"segment_key", "moved_since_previous"} & set(user)
    items = SegmentStore(settings).segments("v1")
    assert [(i.segment_key, i.since, i.previous_size) for i in items.values()] == [
        (None, None, None)
    ] * 3
    # and a schema-2 version after it (its keys matched to nothing) replaces it
    write_version(settings, "v2", 12)
    assert publish("v2", settings).retired == ["v1"]
    assert get(settings, t.segment_item_key("v2", 0))["segment_key"] == "S1"
