"""The one place a SparkSession is made.

On Glue and EMR Serverless the platform owns the session (its S3 connector, credentials, memory);
overriding anything there would only break it, so the factory takes the platform's session as is.
Locally it builds a small local-mode session whose ``s3a`` connector (and Glue-style ``s3://``,
mapped onto s3a) talks to the configured endpoint (moto server), so the very same Glue/EMR entry
points read and write the very same ``s3://`` lake paths on a laptop.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segmentation.config import Settings, get_settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

#: Jars that give local Spark an S3 connector; versions match pyspark 3.5's Hadoop 3.3 client.
S3A_JARS: tuple[str, ...] = ("hadoop-aws-3.3.1.jar", "aws-java-sdk-bundle-1.11.901.jar")


def on_managed_platform() -> bool:
    """True under AWS Glue or EMR (Serverless), whose session must be used untouched.

    Glue ships ``awsglue``; EMR images install Spark under /usr/lib/spark and export
    ``EMR_RELEASE_LABEL`` (EMR Serverless) — either marks a platform-owned session.
    """
    if importlib.util.find_spec("awsglue") is not None:
        return True
    if os.environ.get("EMR_RELEASE_LABEL") or os.environ.get("AWS_EMR_JOB_RUN_ID"):
        return True
    return os.environ.get("SPARK_HOME", "").startswith("/usr/lib/spark")


def jars_dir(settings: Settings) -> Path:
    if settings.spark_jars_dir:
        return Path(settings.spark_jars_dir)
    return Path(__file__).resolve().parents[1] / "vendor" / "jars"


def s3a_jars(settings: Settings) -> list[Path]:
    """The connector jars, or a clear error telling how to get them."""
    folder = jars_dir(settings)
    jars = [folder / name for name in S3A_JARS]
    missing = [j.name for j in jars if not j.is_file()]
    if missing:
        raise FileNotFoundError(
            f"Spark s3a jars missing in {folder}: {', '.join(missing)}; expected "
            f"{', '.join(S3A_JARS)} (run `make spark-jars`, or set SEG_SPARK_JARS_DIR)"
        )
    return jars


#: Parent of the local sessions' scratch directories (``<pid>-<random>`` each).
SCRATCH_ROOT = Path(tempfile.gettempdir()) / "segmentation-spark"


def scratch_dir(root: Path = SCRATCH_ROOT) -> Path:
    """A scratch directory (``spark.local.dir``) for this process's session, after deleting
    those of processes that are gone.

    Spark deletes its ``spark-*`` and ``blockmgr-*`` directories at a clean exit only; a driver
    killed with SIGKILL (or out of memory) left them in /tmp, gigabytes after a paper-scale
    clean. Under a directory named after the owning process, the next session can tell the dead
    ones from those of sessions still running, and removes them.
    """
    root.mkdir(parents=True, exist_ok=True)
    for child in root.iterdir():
        pid = child.name.split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(child, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def local_conf(settings: Settings) -> dict[str, str]:
    """Configuration of the local session: s3a on the settings' endpoint, UTC, few partitions."""
    conf = {
        "spark.local.dir": str(scratch_dir()),
        "spark.sql.shuffle.partitions": str(settings.spark_shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.memory": settings.spark_driver_memory,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        # List a table's partition directories in the driver: above the default 32 Spark runs a
        # listing job, which on a local session competes for the same cores (measured on 90 daily
        # partitions: 0.47 s -> 0.08 s on local disk, 0.85 s -> 0.55 s on moto).
        "spark.sql.sources.parallelPartitionDiscovery.threshold": "10000",
        "spark.jars": ",".join(str(j) for j in s3a_jars(settings)),
        "spark.hadoop.fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.aws.credentials.provider": (
            "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
        ),
        "spark.hadoop.fs.s3a.access.key": os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        "spark.hadoop.fs.s3a.secret.key": os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        "spark.hadoop.fs.s3a.endpoint.region": settings.aws_region,
        "spark.hadoop.fs.s3a.change.detection.mode": "none",
        # fewer requests per written file: keep directory markers, buffer uploads in memory
        "spark.hadoop.fs.s3a.directory.marker.retention": "keep",
        "spark.hadoop.fs.s3a.fast.upload.buffer": "bytebuffer",
        "spark.hadoop.fs.s3a.attempts.maximum": "3",
        "spark.hadoop.fs.s3a.retry.limit": "3",
        "spark.hadoop.mapreduce.fileoutputcommitter.algorithm.version": "2",
        "spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs": "false",
    }
    if settings.spark_log_file:
        config = log4j_file_config(Path(settings.spark_log_file))
        conf["spark.driver.extraJavaOptions"] = f"-Dlog4j2.configurationFile=file:{config}"
    endpoint = settings.service_endpoint("s3")
    if endpoint:
        conf["spark.hadoop.fs.s3a.endpoint"] = endpoint
        conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] = str(
            endpoint.startswith("https")
        ).lower()
    return conf


def log4j_file_config(log_file: Path) -> Path:
    """A log4j2 configuration beside ``log_file`` that sends the JVM's log there, not to the
    console: Spark's WARN lines are for whoever debugs the run, not for the person reading a
    command's report. Passed to the driver JVM at launch (local mode only)."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    config = log_file.with_name(log_file.name + ".log4j2.properties")
    config.write_text(
        "rootLogger.level = warn\n"
        "rootLogger.appenderRef.file.ref = file\n"
        "appender.file.type = File\n"
        "appender.file.name = file\n"
        f"appender.file.fileName = {log_file}\n"
        "appender.file.layout.type = PatternLayout\n"
        "appender.file.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex\n"
        # known, harmless, and once per written file (see QUIET_LOGGERS)
        "logger.s3a.name = org.apache.hadoop.fs.s3a.S3AInstrumentation\n"
        "logger.s3a.level = error\n"
    )
    return config


def get_spark(app_name: str = "segmentation", settings: Settings | None = None) -> SparkSession:
    """The session to run a pipeline step in: the platform's, an active one, or a local one."""
    from pyspark.sql import SparkSession

    if on_managed_platform():
        if importlib.util.find_spec("awsglue") is not None:
            from awsglue.context import GlueContext  # type: ignore[import-not-found]
            from pyspark.context import SparkContext

            return GlueContext(SparkContext.getOrCreate()).spark_session
        return SparkSession.builder.appName(app_name).getOrCreate()

    settings = settings or get_settings()
    wanted = settings.service_endpoint("s3")
    try:
        active = SparkSession.getActiveSession()  # asks the JVM, which may be gone
    except Exception:
        log.warning("the previous local Spark session's JVM is gone; starting a new one")
        active = None
        _forget()
    if active is not None:
        if session_alive(active) and _s3a_endpoint(active.sparkContext) == wanted:
            return active
        if session_alive(active):
            active.stop()
        else:
            log.warning("the previous local Spark session's JVM is gone; starting a new one")
        _forget()
    _stop_foreign_context(wanted)
    builder = SparkSession.builder.appName(app_name)
    if "PYSPARK_GATEWAY_PORT" not in os.environ:  # under spark-submit, its --master rules
        builder = builder.master(settings.spark_master)
    for key, value in local_conf(settings).items():
        builder = builder.config(key, value)
    log.info("starting local Spark (s3a endpoint %s)", wanted or "AWS default")
    spark = builder.getOrCreate()
    _quiet_known_noise(spark)
    return spark


def _s3a_endpoint(sc: Any) -> str | None:
    try:
        return sc.getConf().get("spark.hadoop.fs.s3a.endpoint", None)
    except Exception:  # py4j: the gateway is gone
        return None


def _stop_foreign_context(wanted: str | None) -> None:
    """Stop a live context (a session another thread made active, which
    ``getActiveSession`` does not see) that talks to another S3 endpoint: ``getOrCreate`` would
    hand it back, and its Hadoop configuration (the s3a endpoint) cannot change after start."""
    from pyspark import SparkContext

    sc = SparkContext._active_spark_context
    if sc is None:
        return
    try:
        alive = not sc._jsc.sc().isStopped()  # type: ignore[union-attr]
    except Exception:
        alive = False
    if alive and _s3a_endpoint(sc) == wanted:
        return
    if alive:
        log.info(
            "the running local Spark talks to %s, not %s: restarting it", _s3a_endpoint(sc), wanted
        )
        sc.stop()
    _forget()


def session_alive(spark: SparkSession) -> bool:
    """Whether the session's JVM still answers (a killed or crashed local JVM leaves a Python
    session object behind whose every call fails with "Connection refused")."""
    try:
        return not spark.sparkContext._jsc.sc().isStopped()  # type: ignore[union-attr]
    except Exception:  # py4j: the gateway is gone
        return False


def _forget() -> None:
    """Drop pyspark's references to a dead session and its gateway, so the next builder starts a
    new JVM instead of handing back the dead one (what a retried step needs locally; on Glue and
    EMR every attempt is a new process anyway)."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    SparkSession._instantiatedSession = None
    SparkSession._activeSession = None
    SparkContext._active_spark_context = None
    SparkContext._gateway = None
    SparkContext._jvm = None


#: JVM loggers whose warnings are known and harmless locally: hadoop-aws 3.3.1 warns for every
#: file it writes that the upload statistics are closed "while data is still marked as pending"
#: (the upload has completed), which buries the pipeline's own output.
QUIET_LOGGERS = ("org.apache.hadoop.fs.s3a.S3AInstrumentation",)


def _quiet_known_noise(spark: SparkSession) -> None:
    jvm = spark.sparkContext._jvm  # type: ignore[attr-defined]
    level = jvm.org.apache.logging.log4j.Level.ERROR
    for name in QUIET_LOGGERS:
        jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(name, level)
