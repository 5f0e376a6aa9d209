"""The anonymiser is keyed, stable, and refuses weak keys."""

from __future__ import annotations

import hashlib

import pytest

from segmentation.anonymise import Anonymiser, key_from_secret, new_key


def test_stable_keyed_and_not_a_plain_hash() -> None:
    key = b"k" * 32
    a, b = Anonymiser(key), Anonymiser(key)
    assert a.anon("u-1") == b.anon("u-1")
    assert a.anon("u-1") != Anonymiser(b"j" * 32).anon("u-1")
    assert a.anon("u-1") != hashlib.sha256(b"u-1").hexdigest()
    assert a.anon_many(["u-1", "u-2"]) == [a.anon("u-1"), a.anon("u-2")]
    assert "k" * 32 not in repr(a)


def test_weak_or_malformed_keys_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        Anonymiser(b"short")
    with pytest.raises(ValueError, match="hex"):
        key_from_secret("not hex")
    with pytest.raises(ValueError, match="too short"):
        key_from_secret("ab" * 8)
    assert key_from_secret(new_key().hex()) != key_from_secret(new_key().hex())
