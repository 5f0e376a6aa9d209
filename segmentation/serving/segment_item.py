"""The ``MODEL#<v> / SEGMENT#<id>`` item: a segment profile as the API serves it.

Publish derives it from the model document's :class:`~segmentation.model_document.SegmentProfile`
(plus the size counted from the segment map); the store validates it on read, so the API's
responses come from one typed shape instead of ``.get`` with a default per attribute.

The durable identity (``segment_key``, ``since``, ``previous_size``) is None for a document
written before stable keys (schema_version 1), and for an item published before them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from segmentation.model_document import SegmentProfile
from segmentation.serving import table as t


class SegmentItem(BaseModel):
    # Keys (pk, sk) and the TTL attribute (expires_at) are the table's, not the segment's.
    model_config = ConfigDict(extra="ignore", frozen=True)

    model_version: str
    segment_id: int
    segment_name: str
    size: int = Field(ge=0)
    share: float = Field(ge=0, le=1)
    profile: dict[str, float] = Field(description="Feature means in original units.")
    summary: str
    actions: list[str]
    segment_key: str | None = Field(None, description="Durable key across versions (S1, noise).")
    since: str | None = Field(None, description="Model version the key first appeared in.")
    previous_size: int | None = Field(
        None, ge=0, description="Users of the key in the previous version (None: a new key)."
    )

    @classmethod
    def of(
        cls,
        model_version: str,
        segment_id: int,
        profile: SegmentProfile | None,
        size: int,
        total: int,
        name_from_map: str | None,
        key_from_map: str | None = None,
    ) -> SegmentItem:
        """The item of one segment. Size and share are counted from the segment map (what is
        actually served); a segment the map has but the document lacks (e.g. retiring a version
        whose document is gone) keeps the map's name and key and an empty profile."""
        share = round(size / total, 6) if total else 0.0
        if profile is None:
            return cls(
                model_version=model_version,
                segment_id=segment_id,
                segment_name=name_from_map or f"segment {segment_id}",
                size=size,
                share=share,
                profile={},
                summary="",
                actions=[],
                segment_key=key_from_map,
            )
        return cls(
            model_version=model_version,
            segment_id=segment_id,
            segment_name=profile.name,
            size=size,
            share=share,
            profile=profile.means,
            summary=profile.summary(),
            actions=profile.actions,
            segment_key=profile.segment_key or key_from_map,
            since=profile.since,
            previous_size=profile.previous_size,
        )

    def to_item(self) -> dict[str, Any]:
        # an unknown identity is left out rather than stored as NULL; reading defaults it to None
        return {
            **t.segment_item_key(self.model_version, self.segment_id),
            **self.model_dump(exclude_none=True),
        }
