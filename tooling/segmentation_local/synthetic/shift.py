"""A configured change of the population between two batches: a persona grows, a habit changes.

Weekly batches that only repeat the same behaviour cannot show drift, so a continuation may
carry a shift. It is deliberately small (a few multipliers over the persona table) and strictly
validated: an unknown persona or a factor out of bounds is refused naming the field, before any
data is made. Shifts are cumulative along a lineage (a behaviour that changed stays changed), see
docs/data.md. This module stays free of numpy so the CLI can parse a shift cheaply.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: Multiplier of one persona's weight in the mix of users who join.
ShareFactor = Annotated[float, Field(ge=0.0, le=20.0)]


def _known_personas() -> tuple[str, ...]:
    from segmentation_local.synthetic.personas import PERSONA_NAMES

    return PERSONA_NAMES


class BehaviourShift(BaseModel):
    """Multipliers of one persona's habits; 1 everywhere is no change."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sessions_scale: float = Field(
        1.0, gt=0.0, le=10.0, description="Sessions per day (how often the persona comes)."
    )
    plays_scale: float = Field(
        1.0, gt=0.0, le=4.0, description="Expected titles played per session (at most 4 stay)."
    )
    watch_scale: float = Field(
        1.0,
        gt=0.0,
        le=1.0,
        description="Share of each title that is watched; below ~0.95 completes become stops.",
    )
    purchase_scale: float = Field(
        1.0, ge=0.0, le=10.0, description="Chance of a purchase in a session (capped at 1)."
    )


class Shift(BaseModel):
    """What changes from this batch on; personas are named as in ``labels.parquet``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    persona_share: dict[str, ShareFactor] = Field(
        default_factory=dict,
        description="Factor on a persona's weight in the mix of new users (0 = nobody joins it).",
    )
    behaviour: dict[str, BehaviourShift] = Field(
        default_factory=dict, description="Habit multipliers per persona, for all its users."
    )

    @field_validator("persona_share", "behaviour")
    @classmethod
    def _personas_exist(cls, value: dict[str, object]) -> dict[str, object]:
        known = _known_personas()
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise ValueError(f"unknown persona {unknown[0]!r} (personas: {', '.join(known)})")
        return value
