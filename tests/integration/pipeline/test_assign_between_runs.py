"""Provisional assignment between weekly runs, end to end on moto + a real broker + local Spark.

A weekly run (clean, features, cluster, publish) segments a few hundred generated users. Users
it has never seen then send events through Kafka (producer -> broker -> poller -> ingest Lambda
-> hot zone). The assignment job gives each of them a provisional segment of the published
version, which the API serves (``provisional: true``, ``assigned_at``; ``/segments`` counts them
apart and keeps the fit's sizes); the features it assigned from are the ones the weekly features
step computes for the same window once clean has committed the same events; and the next weekly
publish replaces them.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import mlflow
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation.config import Settings, get_settings
from segmentation.pipeline.features import COUNT_COLUMNS, FEATURE_COLUMNS

pytestmark = [pytest.mark.slow, pytest.mark.spark, pytest.mark.moto, pytest.mark.broker]

TODAY = datetime.now(UTC).date()
#: The weekly run's snapshot: a few days ago, so the new users' events are recent (ingest
#: refuses events more than a day ahead of their ingest time).
WEEKLY = TODAY - timedelta(days=4)
#: The day the assignment describes (its window ends the midnight after it).
ASSIGN_DAY = TODAY - timedelta(days=1)
WINDOW = 14
FEATS = [*FEATURE_COLUMNS, *COUNT_COLUMNS]


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from segmentation_local.broker import broker_service
    from segmentation_local.process import free_port

    port = free_port()
    with broker_service(port, tmp_path_factory.mktemp("broker")):
        yield f"127.0.0.1:{port}"


@pytest.fixture
def stack(moto_env: str, spark, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """A fresh lake on moto with the ledger and segments tables and the HMAC key; the settings
    are the environment's, as the Lambdas and the API read them."""
    from lakedata import make_buckets

    from segmentation.anonymise import store_key
    from segmentation.awsclients import client
    from segmentation.serving import api
    from segmentation.serving.table import ensure_table

    monkeypatch.setenv("SEG_LAKE_PREFIX", f"t{uuid.uuid4().hex[:10]}")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    get_settings.cache_clear()
    settings = get_settings()
    make_buckets(settings)
    ensure_table(client("dynamodb", settings), settings)
    assert store_key(settings) == "created"
    api.state.reset(settings)
    yield settings
    api.state.reset()
    get_settings.cache_clear()


def _events(users: int, days: int, end: date, seed: int, prefix: str = "") -> pd.DataFrame:
    from segmentation_local.synthetic import DefectRates, GenerateParams, generate

    params = GenerateParams(
        users=users, days=days, end_date=end, catalog_size=60, seed=seed, defects=DefectRates.none()
    )
    df = generate(params).events.to_pandas()
    if prefix:  # ids (users, events, sessions) no earlier data set has
        for col in ("user_id", "event_id", "session_id"):
            df[col] = prefix + df[col].astype(str)
    return df


def _write_raw(settings: Settings, events: pd.DataFrame) -> None:
    """Weekly history as batch ingest leaves it: the ids HMAC'd with the stack's key."""
    from lakedata import s3, to_lake_table

    from segmentation.anonymise import load_anonymiser

    table = to_lake_table(events)  # its pseudonyms are the test key's: the stack's replace them
    table = table.set_column(
        table.schema.get_field_index("user_anon_id"),
        "user_anon_id",
        pa.array(load_anonymiser(settings).anon_many(events["user_id"].astype(str))),
    )
    days = pd.Series(table.column("event_ts").to_pandas()).dt.strftime("%Y-%m-%d")
    for day in sorted(days.unique()):
        part = table.filter(pa.array((days == day).to_numpy()))
        buf = pa.BufferOutputStream()
        pq.write_table(part, buf)
        s3(settings).put_object(
            Bucket=settings.bucket("raw"),
            Key=f"events/event_date={day}/part-batch-0.parquet",
            Body=buf.getvalue().to_pybytes(),
        )


def _produce_through_kafka(broker: str, events: pd.DataFrame, tmp_path: Path) -> int:
    from segmentation.contract import COLUMNS
    from segmentation.ingest.producer import produce_file
    from segmentation_local.broker import create_topic
    from segmentation_local.lambdas import load_module
    from segmentation_local.poller import Poller, PollerConfig

    topic = f"raw-events-{uuid.uuid4().hex[:8]}"
    create_topic(broker, topic, partitions=2)
    out = events.copy()
    out["timestamp"] = pd.to_datetime(out["timestamp"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    path = tmp_path / "new-users.csv"
    out[list(COLUMNS)].to_csv(path, index=False)
    summary = produce_file(path, broker, topic, progress=False)
    assert (summary.sent, summary.failed) == (len(events), 0)
    config = PollerConfig(
        bootstrap=broker,
        topic=topic,
        group=f"ingest-{topic}",
        batch_size=500,
        batch_window=0.2,
        idle_timeout=4.0,
        retry_backoff=0.05,
        max_records=len(events),
    )
    stats = Poller(config, load_module("ingest").handler).run()
    return stats.records


def _weekly_run(settings: Settings, spark, tracking: str, day: date, run_id: str) -> str:
    from segmentation.pipeline.steps import run_clean, run_cluster, run_features
    from segmentation.serving.publish import publish

    common = {"lake_prefix": settings.lake_prefix, "snapshot_date": day.isoformat()}
    run_clean({**common, "run_id": run_id}, spark)
    run_features({**common, "run_id": run_id, "window_days": str(WINDOW)}, spark)
    result = run_cluster(
        {
            **common,
            "run_id": run_id,
            "k": "3",
            "min_segment_users": "5",
            "sample_size": "500",
            "silhouette_sample": "500",
            "mlflow_tracking_uri": tracking,
            "mlflow_experiment": "assign-test",
        },
        spark,
    )
    publish(result["model_version"], settings)
    return result["model_version"]


def _call(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_new_users_from_kafka_get_a_provisional_segment_with_the_weekly_features(
    stack: Settings, spark, broker: str, tmp_path: Path
) -> None:
    from lakedata import read_curated

    from segmentation.anonymise import load_anonymiser
    from segmentation.awsclients import client
    from segmentation.ledger import Ledger
    from segmentation.pipeline.steps import run_assign, run_clean, run_features
    from segmentation.serving import api
    from segmentation.serving.provisional import provisional_key
    from segmentation.serving.table import deserialize, serialize
    from segmentation_local.api_gateway import LocalApi

    tracking = f"sqlite:///{tmp_path}/mlflow.db"
    mlflow.MlflowClient(tracking).create_experiment("assign-test", str(tmp_path / "art"))
    anon = load_anonymiser(stack)

    weekly_events = _events(300, WINDOW, WEEKLY, seed=21)
    _write_raw(stack, weekly_events)
    v1 = _weekly_run(stack, spark, tracking, WEEKLY, "w1")

    # users v1 has never seen send events through Kafka, up to yesterday
    new_events = _events(40, 7, ASSIGN_DAY, seed=22, prefix="new-")
    new_ids = sorted(new_events["user_id"].unique())
    assert _produce_through_kafka(broker, new_events, tmp_path) == len(new_events)
    ledger = Ledger(client("dynamodb", stack), stack.ledger_table)
    head = ledger.head().version

    args = {
        "lake_prefix": stack.lake_prefix,
        "snapshot_date": ASSIGN_DAY.isoformat(),
        "window_days": str(WINDOW),
        "run_id": "a1",
    }
    result = run_assign(args, spark)
    assert result["noop"] is False and result["model_version"] == v1
    assert result["new_users"] == result["provisional_users"] == len(new_ids)
    assert result["changed_users"] == result["unchanged_users"] == 0
    assert ledger.head().version == head, "the assignment committed to the ledger"

    # the API: a provisional segment of v1 for each new user, the fit's sizes kept
    with LocalApi() as server:
        status, listing = _call(f"{server.url}/segments")
        assert status == 200 and listing["model_version"] == v1
        sizes = {s["segment_id"]: s["size"] for s in listing["segments"]}
        assert sum(sizes.values()) == listing["users"] == 300
        assert listing["provisional_users"] == len(new_ids)
        assert sum(s["provisional_users"] for s in listing["segments"]) == len(new_ids)
        assert listing["provisional_assigned_at"] == result["assigned_at"]
        answers = {}
        for raw in new_ids:
            status, body = _call(f"{server.url}/users/{quote(raw)}/segment")
            assert status == 200, body
            assert body["provisional"] is True and body["model_version"] == v1
            assert body["assigned_at"] == result["assigned_at"]
            assert body["reasons"] and raw not in json.dumps(body)
            answers[raw] = body["segment_id"]
        by_segment = pd.Series(answers).value_counts().to_dict()
        assert {int(k): v for k, v in result["by_segment"].items()} == by_segment
        assert {s["segment_id"]: s["provisional_users"] for s in listing["segments"]} == {
            sid: by_segment.get(sid, 0) for sid in sizes
        }
        status, body = _call(f"{server.url}/users/{quote(weekly_events['user_id'][0])}/segment")
        assert status == 200 and body["provisional"] is False
        assert body["assigned_at"] == listing["published_at"]

    # the features it assigned from = the weekly features step's, same window, once clean has
    # committed the same events
    record = spark.read.parquet(result["output"]).toPandas().set_index("user_anon_id")
    assert set(record.index) == {anon.anon(u) for u in new_ids}
    common = {"lake_prefix": stack.lake_prefix, "snapshot_date": ASSIGN_DAY.isoformat()}
    run_clean({**common, "run_id": "w2"}, spark)
    weekly = run_features({**common, "run_id": "w2", "window_days": str(WINDOW)}, spark)
    feats = spark.read.parquet(weekly["output"]).toPandas().set_index("user_anon_id")
    mine = feats.loc[record.index, FEATS].sort_index()
    np.testing.assert_allclose(
        record[FEATS].sort_index().to_numpy(), mine.to_numpy(), rtol=1e-12, atol=1e-12
    )
    assert read_curated(spark, stack) is not None

    # the next weekly publish replaces them: the new users are in its fit, v1's items expire
    from segmentation.pipeline.steps import run_cluster
    from segmentation.serving.publish import publish

    v2 = run_cluster(
        {
            **common,
            "run_id": "w2",
            "k": "3",
            "min_segment_users": "5",
            "sample_size": "500",
            "silhouette_sample": "500",
            "mlflow_tracking_uri": tracking,
            "mlflow_experiment": "assign-test",
        },
        spark,
    )["model_version"]
    publish(v2, stack)
    api.state.get_store().current(refresh=True)
    with LocalApi() as server:
        status, body = _call(f"{server.url}/users/{quote(new_ids[0])}/segment")
        assert status == 200 and body["model_version"] == v2 and body["provisional"] is False
        assert _call(f"{server.url}/segments")[1]["provisional_users"] == 0
    ddb = client("dynamodb", stack)
    old = ddb.get_item(
        TableName=stack.segments_table, Key=serialize(provisional_key(anon.anon(new_ids[0]), v1))
    )["Item"]
    assert deserialize(old)["expires_at"] > datetime.now(UTC).timestamp()
