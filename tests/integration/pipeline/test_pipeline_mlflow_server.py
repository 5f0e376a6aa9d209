"""The whole Spark pipeline through its Glue/EMR entry points against a real `mlflow server`
(sqlite backend, artifacts in moto S3), and the run read back from the server."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import boto3
import mlflow
import pytest
from lakedata import write_catalog, write_events

from segmentation_local.mlflow_server import mlflow_env, mlflow_service
from segmentation_local.process import free_port
from segmentation_local.synthetic import GenerateParams, generate

pytestmark = [pytest.mark.spark, pytest.mark.moto, pytest.mark.slow]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


def _entry(path: str, argv: list[str], capsys) -> dict:
    """Run a Glue/EMR script as its platform would (as __main__, args in sys.argv)."""
    old = sys.argv
    sys.argv = [path, *argv]
    try:
        with pytest.raises(SystemExit) as done:
            runpy.run_path(os.path.join(ROOT, path), run_name="__main__")
    finally:
        sys.argv = old
    assert done.value.code == 0
    out = capsys.readouterr().out
    return json.loads([ln for ln in out.splitlines() if ln.startswith("{")][-1])


def test_pipeline_entry_points_with_mlflow_server_on_moto_s3(
    lake, spark, tmp_path, monkeypatch, capsys
):
    for key, value in mlflow_env(lake).items():
        monkeypatch.setenv(key, value)
    ds = generate(GenerateParams(users=300, days=30, catalog_size=100, seed=5))
    write_events(lake, "raw", ds.events.to_pandas())
    write_catalog(lake, ds.catalog.to_pandas())
    common = [
        "--lake_prefix",
        lake.lake_prefix,
        "--run_id",
        "e2e",
        "--snapshot_date",
        "2026-09-30",
        "--window_days",
        "30",
    ]

    port = free_port()
    with mlflow_service(lake, tmp_path / "mlflow", port=port):
        uri = f"http://127.0.0.1:{port}"
        # clean takes no window (curated is the cleaned history): the common args but the last
        clean = _entry("glue_jobs/clean.py", ["--JOB_NAME", "clean", *common[:-2]], capsys)
        assert clean["quarantined"] > 0 and clean["duplicates"]["exact"] > 0

        # the features job under local spark-submit, in its own JVM, as a platform would run it
        jars = ",".join(
            f"{ROOT}/vendor/jars/{j}"
            for j in ("hadoop-aws-3.3.1.jar", "aws-java-sdk-bundle-1.11.901.jar")
        )
        env = {
            **os.environ,
            "PYTHONPATH": ROOT,
            "SEG_AWS_ENDPOINT_URL": lake.endpoint_url,
            "PYSPARK_PYTHON": sys.executable,
        }
        proc = subprocess.run(
            [
                os.path.join(os.path.dirname(sys.executable), "spark-submit"),
                "--master",
                "local[2]",
                "--jars",
                jars,
                os.path.join(ROOT, "glue_jobs/features.py"),
                "--JOB_NAME",
                "features",
                *common,
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        features = json.loads([ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1])
        assert features["users"] > 250

        result = _entry(
            "emr_steps/cluster.py",
            [
                *common[:-2],
                "--algorithm",
                "kmeans",
                "--k_min",
                "3",
                "--k_max",
                "8",
                "--mlflow_tracking_uri",
                uri,
                "--sample_size",
                "300",
            ],
            capsys,
        )
        assert result["model_version"] == "segmentation-kmeans-v1"

        client = mlflow.MlflowClient(uri)
        run = client.get_run(result["mlflow_run_id"])
        assert run.data.params["algorithm"] == "kmeans"
        assert {"silhouette", "calinski_harabasz", "davies_bouldin"} <= set(run.data.metrics)
        assert run.data.tags["pipeline_run_id"] == "e2e"
        arts = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"profiles.json", "quality_report.json", "k_sweep.json", "model_parts"} <= arts
        local = client.download_artifacts(run.info.run_id, "profiles.json", str(tmp_path))
        doc = json.loads(Path(local).read_text())
        assert doc["model_version"] == "segmentation-kmeans-v1"
        assert all(s["name"] and s["actions"] for s in doc["segments"])
        assert client.get_registered_model("segmentation-kmeans").name == "segmentation-kmeans"

    # the artifacts really are in the (moto) S3 artifacts bucket
    keys = [
        o["Key"]
        for o in boto3.client("s3", endpoint_url=lake.endpoint_url).list_objects_v2(
            Bucket=lake.bucket("artifacts")
        )["Contents"]
    ]
    assert any(k.startswith("mlflow/") and k.endswith("profiles.json") for k in keys)
