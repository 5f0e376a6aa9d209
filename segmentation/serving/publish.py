"""Publish a model version's segments to DynamoDB, then make it the current version.

Each user item carries the user's segment and the two or three features driving the
assignment (``reasons``: feature, the user's value, the population's average), which the API
turns into sentences.

Order matters for readers: every user item and segment profile of the version is written first,
the version is marked complete, and only then is the ``META/CURRENT`` pointer flipped (with a
condition, so two concurrent publishes cannot interleave). Lookups read the pointer first and then
only keys of that version, so they see the old version or the new one, never half of one. The
superseded version is retired afterwards (TTL set on its items); see :mod:`.table`.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from segmentation.config import Settings, get_settings
from segmentation.model_document import ModelDocument, ModelDocumentError, SegmentProfile
from segmentation.serving import provisional as prov
from segmentation.serving import table as t
from segmentation.serving.lake_reader import (
    find_model_version,
    iter_provisional,
    iter_segment_map,
    read_model_document,
)
from segmentation.serving.segment_item import SegmentItem

log = logging.getLogger(__name__)

MODEL_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
#: A version still "loading" after this long was abandoned by a failed publish and is retired.
STALE_LOADING = timedelta(hours=6)


class ConcurrentPublishError(RuntimeError):
    """The current-version pointer changed while this publish ran; retrying re-publishes."""


@dataclass
class PublishResult:
    model_version: str
    users: int
    segments: int
    previous_version: str | None
    retired: list[str] = field(default_factory=list)
    items_written: int = 0
    batch_retries: int = 0
    seconds: float = 0.0
    #: False when the version was loaded but held (the drift gate): the pointer did not move.
    flipped: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def validate_model_version(model_version: Any) -> str:
    if not isinstance(model_version, str) or not MODEL_VERSION_RE.match(model_version):
        raise ValueError(
            "model_version must be 1-128 characters of letters, digits and . _ : - "
            f"(starting with a letter or digit), got {model_version!r}"
        )
    return model_version


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="seconds")


class Publisher:
    """Loads versions into the segments table; one instance per invocation."""

    def __init__(
        self,
        settings: Settings,
        dynamo: Any = None,
        filesystem: Any = None,
        now: datetime | None = None,
    ) -> None:
        from segmentation.awsclients import client

        self.settings = settings
        # the items are this module's own serialisation: botocore's check of each request's
        # shape cost as much client time as the requests' answers (50k users: 9.6 s profiled)
        self.dynamo = dynamo or client("dynamodb", settings, parameter_validation=False)
        self.fs = filesystem
        self.table = settings.segments_table
        self.now = now or datetime.now(UTC)

    # -- reads ----------------------------------------------------------------------------
    def current(self) -> dict[str, Any] | None:
        resp = self.dynamo.get_item(
            TableName=self.table, Key=t.serialize(t.CURRENT_KEY), ConsistentRead=True
        )
        return t.deserialize(resp["Item"]) if "Item" in resp else None

    def versions(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :v)",
            "ExpressionAttributeValues": {":pk": {"S": t.META_PK}, ":v": {"S": "VERSION#"}},
            "ConsistentRead": True,
        }
        while True:
            resp = self.dynamo.query(**kwargs)
            out += [t.deserialize(i) for i in resp.get("Items", [])]
            if "LastEvaluatedKey" not in resp:
                return out
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    # -- writes ---------------------------------------------------------------------------
    def _put(self, item: dict[str, Any], **kwargs: Any) -> None:
        self.dynamo.put_item(TableName=self.table, Item=t.serialize(item), **kwargs)

    def _load_version(
        self, model_version: str, writer: t.BatchWriter, expires_at: int | None
    ) -> tuple[int, Counter[int], ModelDocument | None]:
        """Write every user item (and then every segment item) of one version; returns the
        users, the size of each segment and the model document (None only when retiring a
        version whose document is gone)."""
        sizes: Counter[int] = Counter()
        names: dict[int, str] = {}
        keys: dict[int, str] = {}
        users = 0
        extra = {"expires_at": expires_at} if expires_at else {}
        for batch in iter_segment_map(self.settings, model_version, filesystem=self.fs):
            cols = batch.to_pydict()
            # a map written before stable keys has neither column: its users get no key
            none = [None] * batch.num_rows
            for n, (anon, sid, name, key, moved, why) in enumerate(
                zip(
                    cols["user_anon_id"],
                    cols["segment_id"],
                    cols["segment_name"],
                    cols.get("segment_key", none),
                    cols.get("moved_since_previous", none),
                    cols.get("reasons", none),
                    strict=True,
                )
            ):
                if not anon or sid is None:
                    raise ValueError(
                        f"segment map of {model_version!r}: row {users + n} has no "
                        "user_anon_id or segment_id; refusing to publish a partial map"
                    )
                sid = int(sid)
                sizes[sid] += 1
                if name is not None:
                    names.setdefault(sid, str(name))
                if key is not None:
                    keys.setdefault(sid, str(key))
                item: dict[str, Any] = {
                    **t.user_key(str(anon), model_version),
                    "segment_id": sid,
                    "segment_name": names.get(sid, f"segment {sid}"),
                    "model_version": model_version,
                    **extra,
                }
                # unknown (an old map, a user new in this version) is left out, not NULL
                if keys.get(sid) is not None:
                    item["segment_key"] = keys[sid]
                if moved is not None:
                    item["moved_since_previous"] = bool(moved)
                if why:  # the features driving the assignment, with the user's own values
                    item["reasons"] = json.loads(why)
                writer.put(item)
            users += batch.num_rows
        profiles: dict[int, SegmentProfile] = {}
        document: ModelDocument | None = None
        try:
            document = read_model_document(self.settings, model_version, filesystem=self.fs)
            profiles = {p.segment_id: p for p in document.segments}
        except (FileNotFoundError, ModelDocumentError):
            if expires_at is None:
                raise
            # retiring an old version whose document is gone (or of an older shape): its items
            # must still expire
            log.warning("retiring %s without its model document", model_version, exc_info=True)
        for sid in sorted(set(sizes) | set(profiles)):
            segment = SegmentItem.of(
                model_version,
                sid,
                profiles.get(sid),
                sizes.get(sid, 0),
                users,
                names.get(sid),
                key_from_map=keys.get(sid),
            )
            writer.put({**segment.to_item(), **extra})
        writer.flush()
        return users, sizes, document

    def publish(self, model_version: str, flip: bool = True) -> PublishResult:
        """Load the version; with ``flip`` make it current, else leave it ``held`` (the drift
        gate): the previous version keeps serving until :meth:`release`."""
        t0 = time.monotonic()
        model_version = validate_model_version(model_version)
        before = self.current()
        self._put(
            {
                **t.version_key(model_version),
                "model_version": model_version,
                "status": "loading",
                "started_at": _iso(self.now),
            }
        )
        writer = t.BatchWriter(self.dynamo, self.table)
        users, sizes, document = self._load_version(model_version, writer, expires_at=None)
        if users == 0:
            raise ValueError(f"segment map of {model_version!r} is empty; nothing to publish")
        published_at = _iso(datetime.now(UTC))
        self._put(
            {
                **t.version_key(model_version),
                "model_version": model_version,
                "status": "complete" if flip else "held",
                "started_at": _iso(self.now),
                "published_at": published_at,
                "users": users,
                "segments": len(sizes),
                **(
                    {"previous_model_version": document.previous_model_version}
                    if document and document.previous_model_version
                    else {}
                ),
            }
        )
        if not flip:
            log.warning("model version %s loaded but held: the pointer stays", model_version)
            return PublishResult(
                model_version=model_version,
                users=users,
                segments=len(sizes),
                previous_version=before.get("model_version") if before else None,
                items_written=writer.written,
                batch_retries=writer.retries,
                seconds=round(time.monotonic() - t0, 3),
                flipped=False,
            )
        previous = before.get("model_version") if before else None
        if previous == model_version:  # a retry after the flip already happened
            previous = before.get("previous_version") if before else None
        matched_to = document.previous_model_version if document else None
        self._flip(model_version, before, previous, users, len(sizes), published_at, matched_to)
        retired = self._retire_superseded(model_version)
        result = PublishResult(
            model_version=model_version,
            users=users,
            segments=len(sizes),
            previous_version=previous,
            retired=retired,
            items_written=writer.written,
            batch_retries=writer.retries,
            seconds=round(time.monotonic() - t0, 3),
        )
        log.info(
            "published model version %s: %d users, %d segments", model_version, users, len(sizes)
        )
        return result

    def release(self, model_version: str) -> PublishResult:
        """Make a loaded (held or superseded but unexpired) version current: the drift gate's
        second half, after a person looked at the figures."""
        t0 = time.monotonic()
        model_version = validate_model_version(model_version)
        item = self._version_item(model_version)
        if item is None or item.get("status") not in {"held", "complete"}:
            status = item.get("status") if item else "not loaded"
            raise ValueError(
                f"model version {model_version!r} is {status}; expected a version publish "
                "loaded (held or complete) to release"
            )
        before = self.current()
        if before and before.get("model_version") == model_version:
            raise ValueError(f"model version {model_version!r} is already current")
        previous = before.get("model_version") if before else None
        published_at = _iso(datetime.now(UTC))
        self._put({**item, "status": "complete", "published_at": published_at})
        self._flip(
            model_version,
            before,
            previous,
            int(item["users"]),
            int(item["segments"]),
            published_at,
            item.get("previous_model_version"),
        )
        retired = self._retire_superseded(model_version)
        log.info("released model version %s (was %s)", model_version, previous)
        return PublishResult(
            model_version=model_version,
            users=int(item["users"]),
            segments=int(item["segments"]),
            previous_version=previous,
            retired=retired,
            seconds=round(time.monotonic() - t0, 3),
        )

    def _expire_provisional(
        self, model_version: str, writer: t.BatchWriter, expires_at: int
    ) -> None:
        """The version's provisional items and their summary, with ``expires_at``: a newer
        version replaced them (its lookups never read them)."""
        n = 0
        for batch in iter_provisional(self.settings, model_version, filesystem=self.fs):
            for row in batch.to_pylist():
                writer.put(prov.user_item(row, model_version, expires_at))
                n += 1
        writer.flush()
        found = self.dynamo.get_item(
            TableName=self.table, Key=t.serialize(prov.summary_key(model_version))
        ).get("Item")
        if found:
            self._put({**t.deserialize(found), "expires_at": expires_at})
        if n:
            log.info("retired %d provisional assignments of %s", n, model_version)

    def _version_item(self, model_version: str) -> dict[str, Any] | None:
        found = self.dynamo.get_item(
            TableName=self.table, Key=t.serialize(t.version_key(model_version)), ConsistentRead=True
        ).get("Item")
        return t.deserialize(found) if found else None

    def _flip(
        self,
        model_version: str,
        before: dict[str, Any] | None,
        previous: str | None,
        users: int,
        segments: int,
        published_at: str,
        matched_to: str | None = None,
    ) -> None:
        item = {
            **t.CURRENT_KEY,
            "model_version": model_version,
            "published_at": published_at,
            "users": users,
            "segments": segments,
        }
        if previous:
            item["previous_version"] = previous
        if matched_to:  # the version its segment keys were matched to (the document's)
            item["previous_model_version"] = matched_to
        if before is not None:
            # a campaign whose start has passed is frozen to the version served until now,
            # before another one is (segmentation.campaign.store)
            from segmentation.campaign.store import freeze_started

            freeze_started(self.settings, before.get("model_version"), self.now, self.dynamo)
        if before is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {
                "ConditionExpression": "model_version = :seen",
                "ExpressionAttributeValues": {":seen": {"S": before["model_version"]}},
            }
        try:
            self._put(item, **condition)
        except self.dynamo.exceptions.ConditionalCheckFailedException:
            raise ConcurrentPublishError(
                f"the current model version changed while publishing {model_version!r}; "
                "another publish ran concurrently"
            ) from None

    def _retire_superseded(self, current: str) -> list[str]:
        """Set TTL on every other version that is complete (or abandoned while loading)."""
        from segmentation.campaign.store import pinned_versions

        retired = []
        retention = timedelta(days=self.settings.segments_retention_days)
        default_expiry = int((self.now + retention).timestamp())
        # a running campaign's frozen version answers its arm lookups until the campaign ends
        pinned = pinned_versions(self.settings, self.now, self.dynamo)
        for v in self.versions():
            version = v["model_version"]
            if version == current or v.get("status") == "retired":
                continue
            if v.get("status") == "loading":
                started = datetime.fromisoformat(v.get("started_at", _iso(self.now)))
                if self.now - started < STALE_LOADING:
                    continue  # may be another publish in flight
            expires_at = default_expiry
            if version in pinned:
                expires_at = max(expires_at, int((pinned[version] + retention).timestamp()))
            self.retire(version, expires_at)
            retired.append(version)
        return retired

    def retire(self, model_version: str, expires_at: int) -> None:
        """Re-write a version's items with ``expires_at`` so DynamoDB's TTL removes them: the
        weekly ones (from its segment map) and the provisional ones (from the between-run
        job's record, which names every provisional item it wrote)."""
        writer = t.BatchWriter(self.dynamo, self.table)
        try:
            self._load_version(model_version, writer, expires_at=expires_at)
        except FileNotFoundError as exc:
            log.warning(
                "cannot retire %s item by item (%s); only its registry entry expires",
                model_version,
                exc,
            )
        self._expire_provisional(model_version, writer, expires_at)
        self._put(
            {
                **t.version_key(model_version),
                "model_version": model_version,
                "status": "retired",
                "retired_at": _iso(self.now),
                "expires_at": expires_at,
            }
        )


def publish(
    model_version: str, settings: Settings | None = None, flip: bool = True, **kwargs: Any
) -> PublishResult:
    """Load ``model_version`` from the lake into DynamoDB and (with ``flip``) make it current."""
    return Publisher(settings or get_settings(), **kwargs).publish(model_version, flip=flip)


def release(model_version: str, settings: Settings | None = None, **kwargs: Any) -> PublishResult:
    """Make a held version current (``segmentation release``)."""
    return Publisher(settings or get_settings(), **kwargs).release(model_version)


def lambda_entry(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """The publish Lambda's body.

    Event ``{"run_id", "lake_prefix"?, "flip"?}`` (from the state machine: the version is looked
    up from the run; ``flip`` false is the drift gate holding it) or ``{"model_version",
    "lake_prefix"?}`` (re-publishing / rolling back by hand)."""
    if not isinstance(event, dict) or not (event.get("model_version") or event.get("run_id")):
        raise ValueError("publish event must be a JSON object with a run_id or a model_version")
    flip = event.get("flip", True)
    if not isinstance(flip, bool):
        raise ValueError(f"publish event: flip must be true or false, got {flip!r}")
    settings = get_settings()
    prefix = event.get("lake_prefix")
    if prefix and prefix != settings.lake_prefix:
        settings = settings.model_copy(update={"lake_prefix": str(prefix)})
    version = event.get("model_version")
    if not version:
        version = find_model_version(settings, str(event["run_id"]))
    result = publish(version, settings, flip=flip).to_dict()
    if event.get("run_id"):
        result["run_id"] = str(event["run_id"])
    return result
