"""The segment API's id rule against the contract's, character by character: the spec's pattern
(what clients and schemathesis read) accepts a raw id exactly when the API's rule does, and the
characters the spec calls whitespace are exactly those the contract strips."""

from __future__ import annotations

import re

import pytest

from segmentation.contract import Event
from segmentation.serving.user_id import (
    SPEC_PATTERN,
    WHITESPACE,
    InvalidUserId,
    normalise,
)

#: The Basic Multilingual Plane whole, then every 97th astral code point; no lone surrogates
#: (a URL cannot carry them).
CODE_POINTS = [
    c for c in [*range(0x10000), *range(0x10000, 0x110000, 97)] if not 0xD800 <= c < 0xE000
]


def _accepted(raw: str) -> str | None:
    try:
        return normalise(raw)
    except InvalidUserId:
        return None


def test_whitespace_is_what_the_contract_strips() -> None:
    stripped = {chr(c) for c in CODE_POINTS if _accepted(f"{chr(c)}a") == "a"}
    assert stripped == set(WHITESPACE)


@pytest.mark.parametrize("shape", ["a{}b", "{}a", "a{}", "{}"])
def test_spec_pattern_accepts_exactly_what_the_rule_accepts(shape: str) -> None:
    pattern = re.compile(SPEC_PATTERN)
    disagree = [
        hex(c)
        for c in CODE_POINTS
        if bool(pattern.fullmatch(raw := shape.format(chr(c)))) != (_accepted(raw) is not None)
    ]
    assert not disagree


def test_the_rule_is_the_contracts() -> None:
    for raw in ["  u-1 ", "\tu-1\u00a0", "u-1"]:
        assert (
            normalise(raw)
            == Event.model_validate(
                {"user_id": raw, "timestamp": "2026-01-01T00:00:00Z", "event_type": "play"}
            ).user_id
        )
    for raw in ["", "   ", "a b", "x" * 129, "a\u200bb", "a\x00b"]:
        with pytest.raises(InvalidUserId) as err:
            normalise(raw)
        assert str(err.value) == "user_id must be 1-128 non-whitespace characters"
