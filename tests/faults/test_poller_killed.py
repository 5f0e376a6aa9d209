"""Fault: the poller (the local event source mapping) is killed with SIGKILL mid-batch (issue 17).

A poller process is killed after its second batch's objects were written to the hot zone and
before that batch's offsets were committed. A new poller of the same consumer group resumes from
the last commit: every event is in the lake exactly once (nothing lost, the re-read batch not
doubled) and nothing is left to read.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import uuid
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "ingest"))
from ingest_helpers import make_events, read_events, write_csv

pytestmark = [pytest.mark.broker, pytest.mark.moto]

DYING_POLLER = textwrap.dedent(
    """
    import os, signal, sys
    from segmentation_local.lambdas import load_handler
    from segmentation_local.poller import Poller, PollerConfig

    bootstrap, topic, group = sys.argv[1:4]
    handler = load_handler("ingest")
    sizes = []

    def dies_in_the_second_batch(event, context):
        sizes.append(sum(len(r) for r in event["records"].values()))
        result = handler(event, context)  # the batch's objects are written...
        if len(sizes) == 2:
            print("committed", sizes[0], flush=True)  # the first batch's offsets were committed
            os.kill(os.getpid(), signal.SIGKILL)  # ...and the process dies before the commit
        return result

    config = PollerConfig(bootstrap, topic, group, batch_size=300, batch_window=0.2,
                          idle_timeout=10, retry_backoff=0.05)
    Poller(config, dies_in_the_second_batch).run()
    """
)


@pytest.fixture
def lake(moto_env: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    from segmentation.anonymise import store_key
    from segmentation.awsclients import client
    from segmentation.config import get_settings

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    settings = get_settings()
    for zone in ("landing", "raw", "hot", "quarantine"):
        client("s3", settings).create_bucket(Bucket=settings.bucket(zone))
    store_key(settings)
    return settings


def test_a_poller_killed_mid_batch_loses_and_doubles_nothing(
    broker: str, lake: Any, tmp_path: Path
) -> None:
    from segmentation.ingest.producer import produce_file
    from segmentation_local.broker import create_topic
    from segmentation_local.lambdas import load_handler
    from segmentation_local.poller import Poller, PollerConfig

    topic, group = f"raw-events-{uuid.uuid4().hex[:8]}", "ingest-faults"
    create_topic(broker, topic, partitions=1)
    events = make_events(1500, seed=17)
    sent = produce_file(write_csv(tmp_path / "ev.csv", events), broker, topic, progress=False)
    assert (sent.sent, sent.failed) == (1500, 0)

    dying = subprocess.run(
        [sys.executable, "-c", DYING_POLLER, broker, topic, group],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "POWERTOOLS_LOG_LEVEL": "WARNING"},
    )
    assert dying.returncode == -signal.SIGKILL, dying.stderr[-3000:]
    committed = int(dying.stdout.split("committed", 1)[1].split()[0])
    written = Counter(r["event_id"] for r in read_events(lake, "hot"))
    assert committed < len(written) < 1500  # two batches written, the second one not committed

    # the dead member's session must expire before the group rebalances to the new poller: wait
    # long enough for that, stop as soon as the rest is read
    config = PollerConfig(
        broker,
        topic,
        group,
        batch_size=300,
        batch_window=0.2,
        idle_timeout=30,
        retry_backoff=0.05,
        max_records=1500 - committed,
    )
    resumed = Poller(config, load_handler("ingest")).run()
    assert resumed.records == 1500 - committed  # from the last commit: the killed batch again
    counts = Counter(r["event_id"] for r in read_events(lake, "hot"))
    assert set(counts) == {e["event_id"] for e in events}  # nothing lost
    assert max(counts.values()) == 1, "the re-read batch doubled events"
    again = Poller(replace(config, idle_timeout=6, max_records=None), load_handler("ingest")).run()
    assert again.records == 0
