"""Segment API latency: p50/p99 of 10,000 local lookups, and publish throughput.

Everything is real and local: moto server (DynamoDB + Secrets Manager + S3), the publish Lambda
loading a synthetic segment map, and the segment API Lambda behind the local API Gateway adapter,
called over HTTP keep-alive. The latency therefore includes HTTP, the Powertools resolver, the
HMAC, and a GetItem against moto — not AWS's network, so treat it as the code's own overhead.
"""

from __future__ import annotations

import http.client
import io
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

USERS = 5000
LOOKUPS = 10_000


def main() -> None:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )
    import pyarrow as pa
    import pyarrow.parquet as pq

    from segmentation.anonymise import load_anonymiser, store_key
    from segmentation.awsclients import client
    from segmentation.config import ZONES, get_settings
    from segmentation.model_document import ModelDocument, SegmentProfile
    from segmentation.serving.publish import publish
    from segmentation.serving.table import ensure_table
    from segmentation_local.api_gateway import LocalApi
    from segmentation_local.motoserver import moto_service
    from segmentation_local.process import free_port

    port = free_port()
    with tempfile.TemporaryDirectory() as tmp, moto_service(port, Path(tmp)):
        os.environ["SEG_AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
        get_settings.cache_clear()
        settings = get_settings()
        s3 = client("s3", settings)
        for zone in ZONES:
            s3.create_bucket(Bucket=settings.bucket(zone))
        ensure_table(client("dynamodb", settings), settings)
        store_key(settings)
        anon = load_anonymiser(settings)
        raw = [f"u{i:07d}" for i in range(USERS)]
        table = pa.table(
            {
                "user_anon_id": anon.anon_many(raw),
                "segment_id": pa.array([i % 5 for i in range(USERS)], pa.int32()),
                "segment_name": [f"segment {i % 5}" for i in range(USERS)],
            }
        )
        buf = io.BytesIO()
        pq.write_table(table, buf)
        bucket = settings.bucket("segments")
        s3.put_object(
            Bucket=bucket, Key="segment_map/model_version=bench/part-0.parquet", Body=buf.getvalue()
        )
        doc = ModelDocument(
            model_version="bench",
            algorithm="kmeans",
            snapshot_date=date(2026, 9, 30),
            pipeline_run_id="bench",
            mlflow_run_id="bench",
            registered_model=None,
            n_users=USERS,
            params={},
            metrics={},
            k_sweep=[],
            eps_sweep=[],
            features=[],
            segments=[
                SegmentProfile(
                    segment_id=s,
                    name=f"segment {s}",
                    why="",
                    size=USERS // 5,
                    share=0.2,
                    means={"x": s},
                    z_scores={"x": 0.0},
                    distinguishing=[],
                    actions=["a"],
                )
                for s in range(5)
            ],
        )
        s3.put_object(
            Bucket=bucket,
            Key="profiles/model_version=bench/profiles.json",
            Body=doc.to_json().encode(),
        )
        t0 = time.perf_counter()
        result = publish("bench", settings)
        took = time.perf_counter() - t0
        print(
            f"publish: {result.users} users in {took:.2f} s "
            f"({result.users / took:,.0f} users/s into moto DynamoDB)"
        )

        with LocalApi() as api:
            host, port_api = api.server.server_address[:2]
            conn = http.client.HTTPConnection(host, port_api, timeout=10)
            rng = random.Random(7)
            known = LOOKUPS * 9 // 10  # 10% unknown users (404s)
            ids = [rng.choice(raw) for _ in range(known)]
            ids += [f"nobody{i}" for i in range(LOOKUPS - known)]
            rng.shuffle(ids)
            for uid in ids[:200]:  # warm-up: cold start, secret and pointer caches
                conn.request("GET", f"/users/{uid}/segment")
                conn.getresponse().read()
            latencies = []
            statuses: dict[int, int] = {}
            start = time.perf_counter()
            for uid in ids:
                t = time.perf_counter()
                conn.request("GET", f"/users/{uid}/segment")
                resp = conn.getresponse()
                resp.read()
                latencies.append((time.perf_counter() - t) * 1000)
                statuses[resp.status] = statuses.get(resp.status, 0) + 1
            wall = time.perf_counter() - start
            conn.close()
        # The floor: one bare GetItem against moto server, which every lookup makes.
        from segmentation.serving.table import serialize, user_key

        dynamo = client("dynamodb", settings)
        floor = []
        for uid in ids[:2000]:
            t = time.perf_counter()
            dynamo.get_item(
                TableName=settings.segments_table, Key=serialize(user_key(anon.anon(uid), "bench"))
            )
            floor.append((time.perf_counter() - t) * 1000)
        fq = statistics.quantiles(floor, n=100)
        q = statistics.quantiles(latencies, n=100)
        print(f"lookups: {LOOKUPS} over HTTP keep-alive, statuses {dict(sorted(statuses.items()))}")
        print(
            f"latency ms: p50 {q[49]:.2f}  p90 {q[89]:.2f}  p99 {q[98]:.2f}  "
            f"max {max(latencies):.2f}"
        )
        print(f"throughput: {LOOKUPS / wall:,.0f} lookups/s (one client, sequential)")
        print(
            f"bare moto GetItem ms: p50 {fq[49]:.2f}  p99 {fq[98]:.2f}  -> the API's own "
            f"overhead is about {q[49] - fq[49]:.2f} ms at p50"
        )


if __name__ == "__main__":
    main()
