"""What a campaign is: a name, target segment keys, a holdout share and a window.

One typed model for the API's body, the CLI and the generator, so a bad campaign is refused the
same way everywhere and the message names the field and what it allows (:func:`parse_spec`).
Times without an offset are UTC. A campaign's membership is frozen to the model version served
at its start (:class:`Campaign.model_version`); see :mod:`segmentation.campaign.store` for how
a campaign defined before its start is frozen.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

#: Bounds of the holdout share (the control arm's share of the target's users), exclusive.
HOLDOUT_MIN, HOLDOUT_MAX = 0.0, 1.0
MAX_DAYS = 366
MAX_TARGETS = 50
NAME_MAX = 120
SEGMENT_KEY_PATTERN = r"^(S[1-9][0-9]{0,8}|noise)$"
CAMPAIGN_ID_PATTERN = r"^c-[0-9a-f]{12}$"
CAMPAIGN_ID = re.compile(CAMPAIGN_ID_PATTERN)
BAD_CAMPAIGN_ID = (
    "campaign: expected a campaign id as POST /campaigns returns it (c- and 12 hex digits)"
)

Arm = Literal["treatment", "control"]
Status = Literal["scheduled", "running", "ended"]

#: What each field allows, in words (the 400's "expected ..."); the bounds are the constants above.
EXPECTED: dict[str, str] = {
    "name": f"a name of 1-{NAME_MAX} characters",
    "segment_keys": f"a list of 1-{MAX_TARGETS} distinct segment keys of the served version "
    "(S1, S2, ... or noise, as GET /segments lists them)",
    "holdout": f"a number > {HOLDOUT_MIN:g} and < {HOLDOUT_MAX:g} (the control arm's share, "
    "e.g. 0.1)",
    "start": "an ISO 8601 time, e.g. 2026-10-01T00:00:00Z (no offset: UTC)",
    "end": f"an ISO 8601 time after start, at most {MAX_DAYS} days after it",
}

SegmentKey = Annotated[str, Field(pattern=SEGMENT_KEY_PATTERN, examples=["S1"])]


class InvalidCampaign(ValueError):
    """A campaign definition that breaks the model; the message names the field and what it
    allows."""


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class CampaignSpec(BaseModel):
    """The body of ``POST /campaigns``: what an analyst defines."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=NAME_MAX, description="What the campaign is.")
    segment_keys: list[SegmentKey] = Field(
        min_length=1,
        max_length=MAX_TARGETS,
        description="The target: durable segment keys of the served version (GET /segments).",
    )
    holdout: float = Field(
        gt=HOLDOUT_MIN,
        lt=HOLDOUT_MAX,
        description="Share of the target's users held out as the control arm (e.g. 0.1).",
        examples=[0.1],
    )
    start: datetime = Field(description="Start of the campaign window (UTC without an offset).")
    end: datetime = Field(description="End of the window, exclusive; after start.")

    @field_validator("name")
    @classmethod
    def _printable(cls, value: str) -> str:
        value = value.strip()
        if not value or any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value):
            raise ValueError("control characters")
        return value

    @field_validator("segment_keys")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a key listed twice")
        return value

    @field_validator("holdout")
    @classmethod
    def _stored_exactly(cls, value: float) -> float:
        # DynamoDB keeps 6 decimals (serving.table.to_dynamo): the arms are drawn with the
        # share as stored, so the share is that from the start
        value = round(value, 6)
        if not HOLDOUT_MIN < value < HOLDOUT_MAX:
            raise ValueError("rounds to a bound")
        return value

    @field_validator("start", "end")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        return _utc(value)

    @model_validator(mode="after")
    def _window(self) -> CampaignSpec:
        if self.end <= self.start:
            raise ValueError("end: must be after start")
        if self.end - self.start > timedelta(days=MAX_DAYS):
            raise ValueError(f"end: at most {MAX_DAYS} days after start")
        return self


class Campaign(CampaignSpec):
    """A defined campaign as the table holds it and the API answers it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    campaign_id: str = Field(pattern=CAMPAIGN_ID_PATTERN, description="GET /campaigns/{id}.")
    created_at: datetime
    created_by: str | None = Field(None, description="The analyst who defined it (e-mail).")
    model_version: str | None = Field(
        None,
        description="The model version the membership is frozen to: the one served at the "
        "start. Null while the campaign has not started.",
    )
    frozen_at: datetime | None = Field(None, description="When the membership was frozen.")

    def status_at(self, now: datetime | None = None) -> Status:
        now = now or datetime.now(UTC)
        if now < self.start:
            return "scheduled"
        return "running" if now < self.end else "ended"

    def targets(self, segment_key: str | None) -> bool:
        return segment_key is not None and segment_key in self.segment_keys

    def to_item(self) -> dict[str, Any]:
        """The table's item: times as ISO text (sortable), absent values left out."""
        data = self.model_dump(mode="json", exclude_none=True)
        return data


def new_campaign_id() -> str:
    return "c-" + secrets.token_hex(6)


def _text(value: Any) -> str:
    return json.dumps(value, default=str)


def parse_spec(data: Any) -> CampaignSpec:
    """The typed definition, or :class:`InvalidCampaign` naming the first offending field and
    what it allows (``holdout: got 1.5, expected a number > 0 and < 1 ...``)."""
    if not isinstance(data, Mapping):
        raise InvalidCampaign(f"a campaign must be a JSON object, got {_text(data)}")
    fields = list(CampaignSpec.model_fields)
    unknown = sorted(str(k) for k in data if k not in CampaignSpec.model_fields)
    if unknown:
        raise InvalidCampaign(
            f"unknown field(s) {', '.join(unknown)}; expected {', '.join(fields)}"
        )
    missing = [f for f in fields if f not in data]
    if missing:
        raise InvalidCampaign(f"{missing[0]}: missing, expected {EXPECTED[missing[0]]}")
    try:
        return CampaignSpec.model_validate(dict(data))
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = [str(p) for p in error["loc"]]
        if loc:
            name = loc[0]
            got = data.get(name)
            if len(loc) > 1 and isinstance(got, list) and loc[1].isdigit():
                got = got[int(loc[1])]  # the list item at fault
            where = ".".join(loc)
        else:  # the window check: "end: must be after start"
            name = str(error["msg"]).split("Value error, ", 1)[-1].split(":", 1)[0]
            got = data.get(name)
            where = name
        raise InvalidCampaign(f"{where}: got {_text(got)}, expected {EXPECTED[name]}") from None


def markdown_table() -> str:
    """The docs table of a campaign's fields (docs/serving.md holds it; a test keeps it equal)."""
    rows = ["| field | allowed | meaning |", "|---|---|---|"]
    for name, info in CampaignSpec.model_fields.items():
        rows.append(f"| `{name}` | {EXPECTED[name]} | {info.description} |")
    return "\n".join(rows)
