"""The run ledger on moto DynamoDB: one writer at a time, a killed run's lock is not forever, and
the head moves only from the version a run read."""

from __future__ import annotations

import pytest

from segmentation.awsclients import client
from segmentation.config import get_settings
from segmentation.ledger import Ledger, LedgerConflict, LedgerLocked, ensure_table

pytestmark = pytest.mark.moto


@pytest.fixture
def ledger(moto_env: str) -> Ledger:
    settings = get_settings()
    ddb = client("dynamodb", settings)
    assert ensure_table(ddb, settings) and not ensure_table(ddb, settings)
    return Ledger(ddb, settings.ledger_table)


def test_one_run_holds_the_lock_and_a_second_is_refused_naming_it(ledger: Ledger) -> None:
    ledger.acquire("run-a", ttl_seconds=600)
    ledger.acquire("run-a", ttl_seconds=600)  # its own retry takes it again
    with pytest.raises(LedgerLocked, match=r"another clean run \(run-a, since .*\) holds"):
        ledger.acquire("run-b", ttl_seconds=600, wait_seconds=0.5)
    ledger.release("run-b")  # not the holder: nothing happens
    assert ledger.lock_holder()["owner"] == "run-a"
    ledger.release("run-a")
    ledger.acquire("run-b", ttl_seconds=600)
    assert ledger.lock_holder()["owner"] == "run-b"


def test_an_expired_lock_is_taken_over(ledger: Ledger) -> None:
    ledger.acquire("killed", ttl_seconds=-5)  # a lease already past: its run died
    ledger.acquire("next", ttl_seconds=600)
    assert ledger.lock_holder()["owner"] == "next"


def test_the_head_moves_only_from_the_version_read(ledger: Ledger) -> None:
    assert ledger.head().version == 0
    ledger.commit(0, 1, "_ledger/m1.json", "r1")
    with pytest.raises(LedgerConflict, match="no longer version 0"):
        ledger.commit(0, 1, "_ledger/other.json", "r2")
    ledger.commit(1, 2, "_ledger/m2.json", "r3")
    head = ledger.head()
    assert (head.version, head.manifest_uri, head.run_id) == (2, "_ledger/m2.json", "r3")


def test_a_missing_table_is_named(moto_env: str) -> None:
    ledger = Ledger(client("dynamodb", get_settings()), "no-such-ledger")
    with pytest.raises(FileNotFoundError, match="ledger table no-such-ledger does not exist"):
        ledger.acquire("r", ttl_seconds=60)
