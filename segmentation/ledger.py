"""The clean step's run ledger: which raw/hot objects curated holds, where each day lives, a lock.

Curated is versioned. Every clean run writes the ``event_date`` partitions it touches under a
prefix of its own (``curated/events/event_date=D/run_id=R/``) and then *commits*: it stores a
manifest (the whole state: every cleaned raw/hot object with its ETag, every day's partition
location and row count, the cumulative counts) as a new immutable object in the lake, and moves the
ledger's head item in DynamoDB from version N to N+1 in one conditional write. That write is the
switch: a reader resolves the head, then the manifest, and reads only the locations it lists, so a
run that fails or is killed before it commits leaves the previous version whole, and its re-run
finds the same new objects and finishes the job.

The head lives in DynamoDB rather than in an S3 object because a conditional update gives both the
atomic switch and the lock (S3 has no compare-and-set a Glue job can rely on); the manifest lives in
S3 because it outgrows a DynamoDB item (400 KB) once the lake holds a few thousand objects.

Items (hash key ``pk``): ``head`` (version, manifest URI, run id, commit time) and ``lock``
(owner run id, acquired and expiry time).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from segmentation.config import Settings

log = logging.getLogger(__name__)

HEAD = "head"
LOCK = "lock"
#: Manifest format; a reader refuses a manifest of another format rather than misread it.
MANIFEST_FORMAT = 1


def ensure_table(client: Any, settings: Settings) -> bool:
    """Create the ledger table (as Terraform defines it) when missing; True if it was created.

    For tests and a local stack without ``terraform apply``; on AWS Terraform owns the table."""
    from segmentation.awsclients import ensure_table as create

    return create(client, settings.ledger_table, ("pk",))


class LedgerLocked(RuntimeError):
    """Another clean run holds the ledger."""


class LedgerConflict(RuntimeError):
    """The head moved between this run's read and its commit (a second writer without the lock)."""


@dataclass
class Manifest:
    """One committed state of curated (see the module docstring).

    ``objects`` maps ``<zone>/<key>`` of every raw/hot event object cleaned into curated to its
    ETag; ``partitions`` maps an event day (YYYY-MM-DD) to ``{"location": uri, "rows": n}``;
    ``retired`` maps objects compaction replaced (and has not yet deleted) to the compacted object
    that holds their rows; ``totals`` are the cumulative counts of every run so far.
    """

    version: int = 0
    run_id: str | None = None
    committed_at: str | None = None
    objects: dict[str, str] = field(default_factory=dict)
    partitions: dict[str, dict[str, Any]] = field(default_factory=dict)
    retired: dict[str, str] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)
    #: Partition locations this commit replaced: deleted by the next commit (so the version
    #: before the current one stays readable for a reader that resolved it just before).
    superseded: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        body = {"format": MANIFEST_FORMAT, **self.__dict__}
        return json.dumps(body, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        body = json.loads(text)
        fmt = body.pop("format", None)
        if fmt != MANIFEST_FORMAT:
            raise ValueError(f"ledger manifest format {fmt!r}; this code reads {MANIFEST_FORMAT}")
        return cls(**body)

    def locations(self, first_day: str | None = None, last_day: str | None = None) -> list[str]:
        """The partition locations of the days in ``[first_day, last_day]`` (ISO days compare as
        strings), oldest first."""
        return [
            p["location"]
            for day, p in sorted(self.partitions.items())
            if (first_day is None or day >= first_day) and (last_day is None or day <= last_day)
        ]


@dataclass(frozen=True)
class Head:
    version: int
    manifest_uri: str | None
    run_id: str | None


class Ledger:
    """The head and the lock of one lake's ledger table."""

    def __init__(self, ddb: Any, table: str) -> None:
        self.ddb, self.table = ddb, table

    # -- head --------------------------------------------------------------------------------

    def head(self) -> Head:
        item = self.ddb.get_item(TableName=self.table, Key=_key(HEAD), ConsistentRead=True).get(
            "Item"
        )
        if not item:
            return Head(0, None, None)
        return Head(
            int(item["version"]["N"]),
            item.get("manifest_uri", {}).get("S"),
            item.get("run_id", {}).get("S"),
        )

    def commit(self, previous: int, version: int, manifest_uri: str, run_id: str) -> None:
        """Move the head from ``previous`` to ``version``: the one write that switches curated."""
        condition = "attribute_not_exists(pk)" if previous == 0 else "version = :previous"
        values: dict[str, Any] = {} if previous == 0 else {":previous": {"N": str(previous)}}
        try:
            self.ddb.put_item(
                TableName=self.table,
                Item={
                    **_key(HEAD),
                    "version": {"N": str(version)},
                    "manifest_uri": {"S": manifest_uri},
                    "run_id": {"S": run_id},
                    "committed_at": {"S": _now().isoformat()},
                },
                ConditionExpression=condition,
                **({"ExpressionAttributeValues": values} if values else {}),
            )
        except self.ddb.exceptions.ConditionalCheckFailedException:
            raise LedgerConflict(
                f"the ledger head is no longer version {previous}: another run committed while "
                f"run {run_id} was cleaning; nothing of {run_id} was switched in, re-run it"
            ) from None

    # -- lock --------------------------------------------------------------------------------

    def acquire(self, owner: str, ttl_seconds: int, wait_seconds: float = 0.0) -> None:
        """Take the lock for ``owner``; waits up to ``wait_seconds`` for another holder.

        A lock past its expiry (its run was killed) is taken over, and so is one held by the same
        owner (the state machine retrying its own run)."""
        deadline = time.monotonic() + wait_seconds
        try:
            self.ddb.describe_table(TableName=self.table)
        except self.ddb.exceptions.ResourceNotFoundException:
            raise FileNotFoundError(
                f"ledger table {self.table} does not exist; expected the DynamoDB table "
                "Terraform creates (terraform/modules/ledger), named by SEG_LEDGER_TABLE"
            ) from None
        while True:
            now = _now()
            try:
                self.ddb.put_item(
                    TableName=self.table,
                    Item={
                        **_key(LOCK),
                        "owner": {"S": owner},
                        "acquired_at": {"S": now.isoformat()},
                        "expires_at": {"N": str(int(now.timestamp()) + ttl_seconds)},
                    },
                    ConditionExpression=(
                        "attribute_not_exists(pk) OR expires_at < :now OR #o = :owner"
                    ),
                    ExpressionAttributeNames={"#o": "owner"},
                    ExpressionAttributeValues={
                        ":now": {"N": str(int(now.timestamp()))},
                        ":owner": {"S": owner},
                    },
                )
                return
            except self.ddb.exceptions.ConditionalCheckFailedException:
                holder = self.lock_holder()
                if time.monotonic() >= deadline:
                    raise LedgerLocked(_locked_message(holder, owner, wait_seconds)) from None
                log.info("ledger locked by %s; waiting", holder and holder.get("owner"))
                time.sleep(min(5.0, max(0.2, deadline - time.monotonic())))

    def release(self, owner: str) -> None:
        """Drop the lock if ``owner`` still holds it (never another run's)."""
        try:
            self.ddb.delete_item(
                TableName=self.table,
                Key=_key(LOCK),
                ConditionExpression="#o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except self.ddb.exceptions.ConditionalCheckFailedException:
            log.warning("ledger lock of %s was already taken over or released", owner)

    def lock_holder(self) -> dict[str, str] | None:
        item = self.ddb.get_item(TableName=self.table, Key=_key(LOCK), ConsistentRead=True).get(
            "Item"
        )
        if not item:
            return None
        return {k: next(iter(v.values())) for k, v in item.items() if k != "pk"}


def _key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}}


def _now() -> datetime:
    return datetime.now(UTC)


def _locked_message(holder: dict[str, str] | None, owner: str, waited: float) -> str:
    if not holder:
        return f"run {owner} could not take the ledger lock (it changed hands); re-run it"
    expires = datetime.fromtimestamp(int(holder["expires_at"]), UTC).isoformat()
    return (
        f"another clean run ({holder['owner']}, since {holder['acquired_at']}) holds the ledger "
        f"lock; run {owner} waited {waited:.0f} s and cleaned nothing. Two runs never clean at "
        f"once: start it again when that run ends (its lock expires at {expires} if it was killed)"
    )
