"""The campaigns table: one item per campaign (hash key ``campaign_id``), and how membership is
frozen.

**Frozen at the start.** A campaign's members are the users of its target segment keys in the
model version served at its start, recorded once as ``model_version`` (with ``frozen_at``):

* defined at or after its start, it is frozen at once, to the version served then (the segments
  table's ``META/CURRENT`` pointer, read consistently);
* defined before its start, it stays ``scheduled`` (no version) until the start has passed, and
  is frozen by whichever comes first: the first read of the campaign (an arm lookup, GET
  /campaigns, the uplift report), which records the version served at that moment, or a publish
  that is about to replace the served version (:func:`freeze_started`, called by publish before
  it flips the pointer), which records the outgoing one. Either way it is the version that was
  served at the start: no other version can have become current in between without the publish
  freezing the campaign first.

The freeze is a conditional write (only while no version is recorded), so concurrent readers and
a publish agree on one version. While a campaign has not ended, publish keeps its version's items
in DynamoDB past the usual retention (:func:`pinned_versions`), so arm lookups keep answering.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from segmentation.campaign.model import Campaign
from segmentation.config import Settings
from segmentation.serving import table as t

log = logging.getLogger(__name__)


class UnknownCampaign(LookupError):
    """No campaign has this id."""


class NothingServed(LookupError):
    """No model version is served, so a started campaign has no membership to freeze."""


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


class CampaignStore:
    def __init__(self, settings: Settings, dynamo: Any = None) -> None:
        from segmentation.awsclients import store_client

        self.settings = settings
        self.dynamo = dynamo or store_client(settings)
        self.table = settings.campaigns_table

    # -- the served version --------------------------------------------------------------
    def served_version(self) -> str:
        """The model version served now (``META/CURRENT``, consistent read)."""
        resp = self.dynamo.get_item(
            TableName=self.settings.segments_table,
            Key=t.serialize(t.CURRENT_KEY),
            ConsistentRead=True,
        )
        if "Item" not in resp:
            raise NothingServed("no model version is served yet; run the pipeline first")
        return str(t.deserialize(resp["Item"])["model_version"])

    # -- reads ----------------------------------------------------------------------------
    def _read(self, campaign_id: str) -> Campaign | None:
        resp = self.dynamo.get_item(
            TableName=self.table,
            Key={"campaign_id": {"S": campaign_id}},
            ConsistentRead=True,
        )
        return Campaign.model_validate(t.deserialize(resp["Item"])) if "Item" in resp else None

    def get(self, campaign_id: str, now: datetime | None = None) -> Campaign:
        """The campaign, frozen first if its start has passed; :class:`UnknownCampaign` if none."""
        found = self._read(campaign_id)
        if found is None:
            raise UnknownCampaign(f"no campaign {campaign_id!r}")
        return self.freeze_if_due(found, now)

    def all(self, now: datetime | None = None) -> list[Campaign]:
        """Every campaign, newest first (a scan: campaigns are few)."""
        out = [self.freeze_if_due(c, now) for c in self._scan()]
        return sorted(out, key=lambda c: c.created_at, reverse=True)

    def _scan(self) -> list[Campaign]:
        out: list[Campaign] = []
        kwargs: dict[str, Any] = {"TableName": self.table, "ConsistentRead": True}
        while True:
            resp = self.dynamo.scan(**kwargs)
            out += [Campaign.model_validate(t.deserialize(i)) for i in resp.get("Items", [])]
            if "LastEvaluatedKey" not in resp:
                return out
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    # -- writes ---------------------------------------------------------------------------
    def create(self, campaign: Campaign, now: datetime | None = None) -> Campaign:
        """Store a new campaign (frozen at once when its start has passed)."""
        now = now or datetime.now(UTC)
        if campaign.start <= now and campaign.model_version is None:
            campaign = campaign.model_copy(
                update={"model_version": self.served_version(), "frozen_at": now}
            )
        self.dynamo.put_item(
            TableName=self.table,
            Item=t.serialize(campaign.to_item()),
            ConditionExpression="attribute_not_exists(campaign_id)",
        )
        return campaign

    def freeze_if_due(
        self, campaign: Campaign, now: datetime | None = None, version: str | None = None
    ) -> Campaign:
        """``campaign`` with its membership frozen to ``version`` (default: the one served now)
        when its start has passed and none is recorded yet; as it was otherwise."""
        now = now or datetime.now(UTC)
        if campaign.model_version is not None or campaign.start > now:
            return campaign
        version = version or self.served_version()
        try:
            self.dynamo.update_item(
                TableName=self.table,
                Key={"campaign_id": {"S": campaign.campaign_id}},
                UpdateExpression="SET model_version = :v, frozen_at = :at",
                ConditionExpression="attribute_exists(campaign_id) AND "
                "attribute_not_exists(model_version)",
                ExpressionAttributeValues={":v": {"S": version}, ":at": {"S": _iso(now)}},
            )
        except self.dynamo.exceptions.ConditionalCheckFailedException:
            # another reader (or a publish) froze it first: theirs is the version
            again = self._read(campaign.campaign_id)
            if again is None:
                raise UnknownCampaign(f"no campaign {campaign.campaign_id!r}") from None
            return again
        log.info(
            "campaign frozen", extra={"campaign_id": campaign.campaign_id, "model_version": version}
        )
        return campaign.model_copy(update={"model_version": version, "frozen_at": now})


def _table_missing(dynamo: Any, exc: Exception) -> bool:
    return isinstance(exc, dynamo.exceptions.ResourceNotFoundException)


def freeze_started(
    settings: Settings, outgoing_version: str | None, now: datetime, dynamo: Any = None
) -> list[str]:
    """Freeze every started, unfrozen campaign to ``outgoing_version`` (the version served until
    now): publish calls this before it flips the pointer. Returns the campaigns frozen. A missing
    campaigns table (a deployment before campaigns) freezes nothing."""
    if not outgoing_version:
        return []
    store = CampaignStore(settings, dynamo)
    try:
        due = [c for c in store._scan() if c.model_version is None and c.start <= now]
    except Exception as exc:
        if _table_missing(store.dynamo, exc):
            return []
        raise
    return [store.freeze_if_due(c, now, version=outgoing_version).campaign_id for c in due]


def pinned_versions(settings: Settings, now: datetime, dynamo: Any = None) -> dict[str, datetime]:
    """Model versions a campaign that has not ended is frozen to, with the latest such end:
    publish keeps their items until then (plus the usual retention)."""
    store = CampaignStore(settings, dynamo)
    try:
        campaigns = store._scan()
    except Exception as exc:
        if _table_missing(store.dynamo, exc):
            return {}
        raise
    out: dict[str, datetime] = {}
    for c in campaigns:
        if c.model_version and c.end > now:
            out[c.model_version] = max(out.get(c.model_version, c.end), c.end)
    return out


def ensure_table(client: Any, settings: Settings) -> bool:
    """Create the campaigns table (as Terraform defines it) when missing; True if created.

    For tests and a local stack without ``terraform apply``; on AWS Terraform owns the table."""
    from segmentation.awsclients import ensure_table as create

    return create(client, settings.campaigns_table, ("campaign_id",))
