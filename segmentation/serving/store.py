"""Read side of the segments table: the current version, a user's segment, the segment list.

A warm Lambda keeps the current-version pointer for ``segments_pointer_cache_seconds`` and each
version's (few) segment profiles for good, so a lookup is one GetItem. A superseded version stays
readable for ``segments_retention_days``, far longer than the pointer cache, so a cached pointer
never points at deleted items.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from segmentation.config import Settings
from segmentation.serving import provisional as prov
from segmentation.serving import table as t
from segmentation.serving.segment_item import SegmentItem


class NoCurrentVersion(LookupError):
    """Nothing has been published yet."""


class SegmentStore:
    def __init__(self, settings: Settings, dynamo: Any = None) -> None:
        from segmentation.awsclients import store_client

        self.settings = settings
        self.dynamo = dynamo or store_client(settings)
        self.table = settings.segments_table
        self._lock = threading.Lock()
        self._pointer: dict[str, Any] | None = None
        self._pointer_at = 0.0
        self._segments: dict[str, dict[int, SegmentItem]] = {}
        self._provisional: dict[str, tuple[float, dict[str, Any] | None]] = {}

    def _get(self, key: dict[str, str], consistent: bool = False) -> dict[str, Any] | None:
        resp = self.dynamo.get_item(
            TableName=self.table, Key=t.serialize(key), ConsistentRead=consistent
        )
        return t.deserialize(resp["Item"]) if "Item" in resp else None

    def current(self, refresh: bool = False) -> dict[str, Any]:
        """The ``META/CURRENT`` pointer (cached); :class:`NoCurrentVersion` before any publish."""
        with self._lock:
            fresh = (
                time.monotonic() - self._pointer_at < self.settings.segments_pointer_cache_seconds
            )
            if refresh or self._pointer is None or not fresh:
                self._pointer = self._get(t.CURRENT_KEY)
                self._pointer_at = time.monotonic()
            pointer = self._pointer
        if pointer is None:
            raise NoCurrentVersion("no model version has been published yet")
        return pointer

    def segments(self, model_version: str) -> dict[int, SegmentItem]:
        """Every segment profile of a version, by segment id (cached per version: immutable);
        validated here, so an item publish did not write in this shape fails loudly."""
        cached = self._segments.get(model_version)
        if cached is not None:
            return cached
        items: dict[int, SegmentItem] = {}
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :s)",
            "ExpressionAttributeValues": {
                ":pk": {"S": f"MODEL#{model_version}"},
                ":s": {"S": "SEGMENT#"},
            },
        }
        while True:
            resp = self.dynamo.query(**kwargs)
            for raw in resp.get("Items", []):
                item = SegmentItem.model_validate(t.deserialize(raw))
                items[item.segment_id] = item
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        with self._lock:
            self._segments[model_version] = items
        return items

    def provisional_summary(self, model_version: str) -> dict[str, Any] | None:
        """The version's provisional users per segment (None: none assigned), cached as the
        pointer is: the between-run job rewrites it once a day."""
        now = time.monotonic()
        with self._lock:
            cached = self._provisional.get(model_version)
        if cached is not None and now - cached[0] < self.settings.segments_pointer_cache_seconds:
            return cached[1]
        summary = self._get(prov.summary_key(model_version))
        with self._lock:
            self._provisional[model_version] = (now, summary)
        return summary

    def user_item(self, user_anon_id: str, model_version: str) -> dict[str, Any] | None:
        """The user's item of the version: the provisional one when the between-run job wrote
        one, else the weekly one (one query reads both, see :mod:`.provisional`)."""
        low, high = prov.version_range(model_version)
        resp = self.dynamo.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
            ExpressionAttributeValues={
                ":pk": {"S": t.user_key(user_anon_id, model_version)["pk"]},
                ":low": {"S": low},
                ":high": {"S": high},
            },
        )
        items = [t.deserialize(i) for i in resp.get("Items", [])]
        return next((i for i in items if prov.is_provisional(i)), items[0] if items else None)

    def user_segment(
        self, user_anon_id: str
    ) -> tuple[str, dict[str, Any], SegmentItem | None] | None:
        """(model version, user item, its segment's profile if published) of a pseudonymised
        user, or None when the user is not in the current version (neither in its weekly fit
        nor assigned provisionally since)."""
        version = self.current()["model_version"]
        item = self.user_item(user_anon_id, version)
        if item is None:
            return None
        profile = self.segments(version).get(int(item["segment_id"]))
        return version, item, profile

    def weekly_item(self, user_anon_id: str, model_version: str) -> dict[str, Any] | None:
        """A pseudonymised user's item of a version's weekly fit, or None. A campaign's
        membership is the fit's at its start: a user assigned provisionally later does not
        join it, nor move between its arms' segments."""
        return self._get(t.user_key(user_anon_id, model_version))
