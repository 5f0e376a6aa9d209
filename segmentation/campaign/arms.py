"""A user's arm in a campaign: treatment or control, decided by an HMAC, stored nowhere.

The arm is ``HMAC-SHA256(campaign key, campaign_id + ":" + user_anon_id)`` read as a number in
[0, 1): below the holdout share is control. So

* the same user always gets the same arm (in the API, the uplift report, the generator, in any
  process, before and after a key-cached restart): it is a function of stored values only;
* arms of different campaigns are independent (the campaign id is in the message);
* the arm cannot be guessed from the raw id: it needs the anonymisation key (raw id -> anonymised
  id) and the campaigns' own key (``campaign_secret_name``), which neither the marketer nor a
  reader of the lake holds;
* the control share converges on the holdout (the HMAC's first 64 bits are uniform).

Whether the user is *in* the campaign (a member of a target segment in the frozen version) is
the caller's question; this module answers only which arm a member is in.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from segmentation.campaign.model import Arm
from segmentation.config import Settings, get_settings

_SCALE = float(2**64)


def unit(key: bytes, campaign_id: str, user_anon_id: str) -> float:
    """The user's uniform draw in [0, 1) for this campaign."""
    digest = hmac.new(key, f"{campaign_id}:{user_anon_id}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def arm_of(key: bytes, campaign_id: str, user_anon_id: str, holdout: float) -> Arm:
    """The arm of one user (the one function the API, the uplift report and the generator
    share)."""
    return "control" if unit(key, campaign_id, user_anon_id) < holdout else "treatment"


def arms_of(
    key: bytes, campaign_id: str, user_anon_ids: Iterable[str], holdout: float
) -> list[Arm]:
    """:func:`arm_of` for many users (the uplift report's members), one keyed state reused."""
    base = hmac.new(key, f"{campaign_id}:".encode(), hashlib.sha256)
    out: list[Arm] = []
    for anon in user_anon_ids:
        h = base.copy()
        h.update(anon.encode())
        u = int.from_bytes(h.digest()[:8], "big") / _SCALE
        out.append("control" if u < holdout else "treatment")
    return out


def load_arm_key(settings: Settings | None = None, force_fetch: bool = False) -> bytes:
    """The campaigns' arm key (Secrets Manager ``campaign_secret_name``), cached like the
    anonymisation key for ``hmac_secret_max_age``."""
    from segmentation.anonymise import load_key

    settings = settings or get_settings()
    return load_key(
        settings, settings.campaign_secret_name, force_fetch, "segmentation keygen --campaigns"
    )


def store_arm_key(settings: Settings | None = None, rotate: bool = False) -> str:
    """Create the arm key's value (``segmentation keygen --campaigns``). Rotating it re-draws
    every running campaign's arms, so it is refused unless asked for."""
    from segmentation.anonymise import store_key

    settings = settings or get_settings()
    return store_key(
        settings,
        rotate=rotate,
        secret_name=settings.campaign_secret_name,
        description="HMAC-SHA256 key that decides campaign arms (segmentation).",
    )
