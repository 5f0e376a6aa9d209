"""The generator's data set through both ingest doors: every row lands or is quarantined."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from ingest_helpers import object_text, read_events, read_objects, read_quarantine

from segmentation.awsclients import client
from segmentation.ingest.producer import produce_file
from segmentation_local.lambda_context import LocalContext
from segmentation_local.poller import Poller, PollerConfig

pytestmark = [pytest.mark.broker, pytest.mark.moto, pytest.mark.slow]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    from segmentation_local.synthetic.params import GenerateParams
    from segmentation_local.synthetic.service import generate_to

    out = tmp_path_factory.mktemp("generated")
    summary, _ = generate_to(GenerateParams(users=150, days=20, seed=3), out)
    return out, summary


def test_generated_events_through_kafka_and_landing(
    dataset: tuple[Path, dict[str, Any]],
    broker: str,
    topic: str,
    lake: Any,
    ingest_module: Any,
    batch_module: Any,
) -> None:
    out, summary = dataset
    n_events = summary["counts"]["events"]
    n_csv = summary["counts"]["events_csv_rows"]

    produced = produce_file(out / "events.parquet", broker, topic, progress=False)
    assert produced.sent == n_events and not produced.failed
    config = PollerConfig(
        broker, topic, f"g-{topic}", batch_size=2000, idle_timeout=5, max_records=n_events
    )
    assert Poller(config, ingest_module.handler).run().records == n_events

    s3 = client("s3", lake)
    landing = lake.bucket("landing")
    s3.upload_file(str(out / "events.csv"), landing, "incoming/events.csv")
    event = {
        "Records": [{"s3": {"bucket": {"name": landing}, "object": {"key": "incoming/events.csv"}}}]
    }
    batch_module.handler(event, LocalContext("batch_ingest"))
    report = json.loads(
        s3.get_object(Bucket=landing, Key="processed/incoming/events.csv.report.json")[
            "Body"
        ].read()
    )

    hot = read_events(lake, "hot")
    raw = read_events(lake, "raw")
    quarantined = read_quarantine(lake)
    from_kafka = [q for q in quarantined if q["source"] == "kafka"]
    from_batch = [q for q in quarantined if q["source"] == "batch"]
    assert len(hot) + len(from_kafka) == n_events  # nothing dropped silently
    assert report["rows_total"] == n_csv == len(raw) + len(from_batch)
    assert report["rows_rejected"] >= summary["defects"]["malformed_csv"]["total"]
    # The Parquet has no malformed lines: what Kafka refused is out of the contract's time range.
    assert {e["column"] for q in from_kafka for e in q["errors"]} <= {"timestamp"}
    assert len(from_kafka) <= summary["defects"]["out_of_window"]["total"]

    user_ids = set(pq.read_table(out / "users.parquet", columns=["user_id"])[0].to_pylist())
    texts = [
        object_text(k, v)
        for z in ("hot", "raw", "quarantine")
        for k, v in read_objects(lake, z).items()
    ]
    leaked = [u for u in user_ids if any(u in t for t in texts)]
    assert not leaked
