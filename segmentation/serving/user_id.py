"""The lookup id rule of the segment API: the event contract's ``user_id`` rule, as a path
parameter.

A looked-up id must be normalised exactly as ingest normalised it before HMAC'ing, or a user
ingested under an id could never be found (or two ids would share a pseudonym). So the rule is
not restated here: it is the contract's own ``Event.user_id`` field with the contract's
stripping, and :data:`SPEC_PATTERN` (what the OpenAPI spec declares for the raw path parameter)
is built from the contract's :data:`~segmentation.contract.USER_ID_PATTERN`.

What that rule is, in wire terms: whitespace around the id is stripped, whitespace being the
Unicode ``White_Space`` set (space, TAB, LF, CR, VT, FF, NEL, NBSP, U+1680, U+2000-U+200A,
U+2028, U+2029, U+202F, U+205F, U+3000), the set pydantic's stripping uses; what remains must
be 1 to 128 characters, none of them whitespace, control (C0, DEL, C1) or invisible (zero-width
spaces and joiners, bidi controls, BOM). Zero-width characters are not whitespace in Unicode, so
they are not stripped: around an id as inside it, they make it invalid (400), as at ingest.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import ConfigDict, TypeAdapter, ValidationError

from segmentation.contract import ID_MAX_LEN, USER_ID_PATTERN, Event

#: Unicode White_Space, the set pydantic's (Rust) stripping and ``\s`` use: the contract's.
WHITESPACE = (
    "\t\n\v\f\r \x85\xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)


def _char_class(chars: str) -> str:
    # \uXXXX escapes read the same in ECMA-262 (JSON Schema), Python re and Rust regex, unlike
    # \s, whose set differs between them (Python counts U+001C-U+001F as whitespace).
    codes = sorted(map(ord, chars))
    runs: list[list[int]] = []
    for c in codes:
        if runs and c == runs[-1][1] + 1:
            runs[-1][1] = c
        else:
            runs.append([c, c])
    esc = "\\u{:04x}".format
    return "".join(esc(a) if a == b else f"{esc(a)}-{esc(b)}" for a, b in runs)


def _id_char_class(pattern: str) -> str:
    # The contract writes an id as ^[^...]+$ (one class of refused characters)
    found = re.fullmatch(r"\^(\[\^.+\])\+\$", pattern)
    if not found:
        raise ValueError(f"the contract's user id pattern changed form: {pattern}")
    return found.group(1)


_WS = _char_class(WHITESPACE)
#: The raw path parameter as the OpenAPI spec declares it: optional surrounding whitespace
#: around 1-128 characters of the contract's id class. (Inside that class ``\s`` reads the same
#: in every engine: where they differ, control and BOM characters, the class refuses them anyway.)
SPEC_PATTERN = f"^[{_WS}]*{_id_char_class(USER_ID_PATTERN)}{{1,{ID_MAX_LEN}}}[{_WS}]*$"
SPEC_DESCRIPTION = (
    f"The raw user id, percent-encoded. Whitespace around it (any Unicode White_Space "
    f"character) is stripped, as ingest strips it; the rest must be 1-{ID_MAX_LEN} characters, "
    f"none of them whitespace, control or invisible (zero-width, bidi, BOM): 400 otherwise."
)
#: An id of the form the synthetic generator writes (documentation, and schemathesis' examples).
EXAMPLE = "u-000042"
INVALID_ID = f"user_id must be 1-{ID_MAX_LEN} non-whitespace characters"

_RULE = TypeAdapter(
    Annotated[str, Event.model_fields["user_id"]],
    config=ConfigDict(str_strip_whitespace=bool(Event.model_config.get("str_strip_whitespace"))),
)


class InvalidUserId(ValueError):
    """The id breaks the contract's rule. Carries no part of the id."""


def normalise(raw: str) -> str:
    """The id as ingest stored it (stripped), or :class:`InvalidUserId`."""
    try:
        return _RULE.validate_python(raw)
    except ValidationError:
        raise InvalidUserId(INVALID_ID) from None
