"""One place for every configurable value.

Each setting has exactly one name: the field below, read from the environment as ``SEG_<FIELD>``
(upper case) or from a ``.env`` file. The README's configuration table is generated from this
class (``segmentation config``), so the docs cannot drift from the code.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ZONES: tuple[str, ...] = (
    "landing",
    "raw",
    "hot",
    "curated",
    "features",
    "segments",
    "quarantine",
    "artifacts",
)


class Settings(BaseSettings):
    """Runtime configuration shared by the CLI, Lambdas, Glue jobs and EMR steps."""

    model_config = SettingsConfigDict(env_prefix="SEG_", env_file=".env", extra="ignore")

    environment: Literal["local", "aws"] = Field(
        "local",
        description="Where the system runs: the embedded local stack or a real AWS account.",
    )
    aws_region: str = Field("us-east-1", description="AWS region of every resource.")
    aws_endpoint_url: str | None = Field(
        None,
        description="AWS API endpoint override (moto server or LocalStack); unset on real AWS. "
        "Falls back to the standard AWS_ENDPOINT_URL.",
    )
    aws_service_endpoints: dict[str, str] = Field(
        {},
        description="Per-service endpoint overrides, a JSON object keyed by boto3 service name, "
        'e.g. {"dynamodb": "http://127.0.0.1:5000"} to keep DynamoDB on moto while the rest '
        "goes to LocalStack. Falls back to the SDK's AWS_ENDPOINT_URL_<SERVICE>, then to the "
        "endpoint above.",
    )
    lake_prefix: str = Field(
        "segmentation-local",
        description="Bucket name prefix; each lake zone is the bucket '<lake_prefix>-<zone>'.",
    )
    hmac_secret_name: str = Field(
        "segmentation/hmac-key",
        description="Secrets Manager secret holding the HMAC key that anonymises user ids.",
    )
    hmac_secret_max_age: int = Field(
        300, ge=0, description="Seconds the HMAC key is cached in a warm Lambda before re-reading."
    )
    mlflow_tracking_uri: str = Field(
        "http://127.0.0.1:5001", description="MLflow tracking server URI."
    )
    mlflow_experiment: str = Field("segmentation", description="MLflow experiment name.")
    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka / MSK bootstrap servers.")
    kafka_topic: str = Field("raw-events", description="Topic the producers write raw events to.")
    kafka_consumer_group: str = Field(
        "segmentation-ingest",
        description="Consumer group of the ingest (local poller; on AWS the event source mapping).",
    )
    ingest_batch_size: int = Field(
        1000,
        ge=1,
        le=10000,
        description="Most records per ingest invocation (the event source mapping's BatchSize).",
    )
    ingest_batch_window_seconds: float = Field(
        0.5,
        ge=0,
        le=300,
        description="Longest wait to fill a batch (the event source mapping's "
        "MaximumBatchingWindowInSeconds).",
    )
    ingest_max_record_bytes: int = Field(
        65536,
        ge=1024,
        description="Kafka record values larger than this are quarantined unparsed (an event is "
        "well under 2 KiB).",
    )
    batch_chunk_rows: int = Field(
        50000,
        ge=100,
        description="Rows per chunk when batch ingest streams a landing file; bounds memory (a "
        "chunk is read while up to two chunks of rows wait to be written per event day).",
    )
    timestamp_min: date = Field(
        date(1990, 1, 1),
        description="Earliest event timestamp the contract accepts (UTC midnight of this day); "
        "older values are clock or parsing faults (epoch zero), not history. Real purchase "
        "exports reach back decades: lower it for them.",
    )
    feature_window_days: int = Field(
        90, ge=1, le=3650, description="Days of history that features are computed over."
    )
    segments_table: str = Field(
        "segmentation-segments",
        description="DynamoDB table holding user_anon_id -> segment, per model version.",
    )
    ledger_table: str = Field(
        "segmentation-ledger",
        description="DynamoDB table of the clean step's run ledger: the committed curated "
        "version (which raw/hot objects it holds, where each day's partition is) and the lock.",
    )
    spark_jars_dir: str | None = Field(
        None,
        description="Folder of the hadoop-aws + AWS SDK jars local Spark needs for s3a "
        "(default: vendor/jars of the source tree, filled by `make setup`).",
    )
    spark_master: str = Field(
        "local[*]", description="Master of the local Spark session (ignored on Glue/EMR)."
    )
    spark_shuffle_partitions: int = Field(
        8, ge=1, description="spark.sql.shuffle.partitions of the local Spark session."
    )
    spark_driver_memory: str = Field("2g", description="Driver memory of the local Spark session.")
    spark_log_file: str | None = Field(
        None,
        description="Local Spark only: the JVM's log (log4j, WARN and above) goes to this file "
        "instead of the console (the demo sets it to a file beside its own log).",
    )
    alert_topic_arn: str | None = Field(
        None,
        description="SNS topic the Monitor state publishes a crossed drift/quality threshold to "
        "(Terraform sets it to the alerts topic).",
    )
    pipeline_name: str = Field(
        "segmentation-pipeline",
        description="The `pipeline` dimension of the Monitor state's CloudWatch metrics.",
    )
    monitor_psi_max: float = Field(
        0.25, gt=0, description="Monitor: a feature's PSI above this is drift worth acting on."
    )
    monitor_share_shift_max: float = Field(
        0.15,
        gt=0,
        le=1,
        description="Monitor: a segment's share of the users moving more than this is a shift.",
    )
    monitor_quarantine_rate_max: float = Field(
        0.05,
        gt=0,
        le=1,
        description="Monitor: more than this share of a run's new rows quarantined by clean.",
    )
    monitor_users_drop_max: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Monitor: segmented users falling by more than this share since the "
        "previous version.",
    )
    campaigns_table: str = Field(
        "segmentation-campaigns",
        description="DynamoDB table of the campaigns (target segment keys, holdout, window, the "
        "model version their membership is frozen to).",
    )
    campaign_secret_name: str = Field(
        "segmentation/campaign-key",
        description="Secrets Manager secret holding the HMAC key that decides a campaign's arms "
        "(treatment or control); a key of its own, not the anonymisation key.",
    )
    segments_retention_days: int = Field(
        7,
        ge=1,
        le=365,
        description="Days a superseded model version stays readable in DynamoDB before TTL "
        "removes it (the current version never expires).",
    )
    segments_pointer_cache_seconds: float = Field(
        30.0,
        ge=0,
        le=3600,
        description="Seconds a warm segment API caches the current-model-version pointer.",
    )
    demo_provision: Literal["terraform", "python"] = Field(
        "terraform",
        description="How `segmentation demo` / `up` provision the local AWS: 'terraform' "
        "(apply terraform/envs/local, ~100 s) or 'python' (the data path's resources, seconds).",
    )
    moto_port: int = Field(5000, ge=1, le=65535, description="Port of the local moto server.")
    mlflow_port: int = Field(5001, ge=1, le=65535, description="Port of the local MLflow server.")
    broker_port: int = Field(9092, ge=1, le=65535, description="Port of the local Kafka broker.")
    api_port: int = Field(8080, ge=1, le=65535, description="Port of the local segment API.")
    console_port: int = Field(
        8081, ge=1, le=65535, description="Port of the local web console (`segmentation serve`)."
    )
    console_origin: str | None = Field(
        None,
        description="Origin of the web console, the only one CORS lets call the API (its "
        "CloudFront address on AWS; `segmentation serve` sets the local console's).",
    )
    upload_max_bytes: int = Field(
        1_073_741_824,
        ge=1,
        description="Largest file the console's POST /uploads accepts (bytes; CSV, CSV.gz, "
        "Parquet).",
    )
    state_machine_arn: str | None = Field(
        None,
        description="State machine the console's POST /runs starts (Terraform sets it); unset: "
        "the one named SEG_PIPELINE_NAME.",
    )

    def bucket(self, zone: str) -> str:
        """Bucket of a lake zone; one bucket per zone so Lake Formation can grant zone by zone."""
        if zone not in ZONES:
            raise ValueError(f"unknown lake zone {zone!r}; expected one of {', '.join(ZONES)}")
        return f"{self.lake_prefix}-{zone}"

    def zone_uri(self, zone: str, *parts: str, scheme: str = "s3") -> str:
        """URI under a zone, in the scheme the caller's reader speaks (s3 for Glue/boto3, s3a)."""
        tail = "/".join(p.strip("/") for p in parts if p)
        base = f"{scheme}://{self.bucket(zone)}"
        return f"{base}/{tail}" if tail else base

    @property
    def endpoint_url(self) -> str | None:
        """Explicit endpoint, else the SDK-standard variable, so LocalStack tooling also works."""
        import os

        return self.aws_endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None

    def service_endpoint(self, service: str) -> str | None:
        """Endpoint of one AWS service (boto3 name: ``s3``, ``dynamodb``, ``stepfunctions``...).

        Most specific first: ``aws_service_endpoints[service]``, the SDK's own
        ``AWS_ENDPOINT_URL_<SERVICE_ID>`` (boto3 reads it only when no endpoint is passed, and the
        client factory always passes one), then :attr:`endpoint_url`.
        """
        import os

        explicit = self.aws_service_endpoints.get(service)
        if explicit:
            return explicit
        sdk = os.environ.get(f"AWS_ENDPOINT_URL_{_sdk_service_id(service)}")
        return sdk or self.endpoint_url


@lru_cache(maxsize=64)
def _sdk_service_id(service: str) -> str:
    """The suffix of the SDK's per-service endpoint variable: the service id, upper case, spaces
    as underscores (``secretsmanager`` -> ``SECRETS_MANAGER``, ``stepfunctions`` -> ``SFN``)."""
    import botocore.session

    try:
        service_id = botocore.session.get_session().get_service_model(service).service_id
    except Exception:  # an unknown name: no such variable can exist for it
        return service.upper().replace("-", "_")
    return str(service_id).upper().replace(" ", "_").replace("-", "_")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings; Lambdas read the environment once per cold start."""
    return Settings()
