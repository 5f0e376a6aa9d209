"""The web console on this machine: the page, its API behind the local API Gateway, sign-in
against moto's Cognito, S3's landing notification, and local runs recorded as Step Functions
would record them.

:class:`LocalConsole` starts, in background threads:

- the **site** (``web/`` as CloudFront would serve the bucket: static files, plus the
  ``config.json`` Terraform writes beside them on AWS, and ``params.schema.json``, the committed
  parameter schema the form is built from);
- the **API** (:class:`~segmentation_local.api_gateway.LocalApi`: the segment_api Lambda, with the
  Cognito authorizer's check done by :class:`~segmentation_local.cognito.TokenVerifier`, and CORS
  for the site's origin only);
- the **landing watcher**: moto stores the landing bucket's notification but runs no Lambda, so
  this hands each completed console upload (``incoming/console/...``) to the same batch-ingest
  handler the notification invokes on AWS;
- the **executions**: the runs route's Step Functions client is the local recorder
  (:mod:`segmentation_local.orchestration.executions`), which executes the same ASL through the
  local runner in the background.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote_plus, urlsplit

from segmentation.config import Settings, get_settings

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
WEB_DIR = ROOT / "web"
PARAMS_SCHEMA = ROOT / "docs" / "params.schema.json"


def site_config(api_url: str, cognito_endpoint: str, region: str, client_id: str) -> dict[str, Any]:
    """The console's ``config.json``: where its API and Cognito are (Terraform writes the same
    keys on AWS, terraform/modules/console)."""
    return {
        "api_url": api_url.rstrip("/"),
        "cognito": {"endpoint": cognito_endpoint, "region": region, "client_id": client_id},
    }


def make_site_server(
    host: str, port: int, config: dict[str, Any], web_dir: Path = WEB_DIR
) -> ThreadingHTTPServer:
    """The console's static files, ``config.json`` (``config`` as it is when asked: the API's
    address is known only once the site's port, its CORS origin, is) and ``params.schema.json``."""
    extra = {
        "/config.json": lambda: json.dumps(config).encode(),
        "/params.schema.json": PARAMS_SCHEMA.read_bytes,
    }

    class SiteHandler(SimpleHTTPRequestHandler):
        extensions_map: ClassVar[dict[str, str]] = {
            **SimpleHTTPRequestHandler.extensions_map,
            ".js": "text/javascript",
        }

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path in extra:
                body = extra[path]()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)
                return
            super().do_GET()

        def list_directory(self, path: Any) -> None:
            self.send_error(404)  # an S3 website behind CloudFront lists nothing either
            return None

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("site: " + format, *args)

    return ThreadingHTTPServer((host, port), partial(SiteHandler, directory=str(web_dir)))


class LandingWatcher:
    """The landing bucket's S3 notification, locally, for the console's uploads."""

    def __init__(self, settings: Settings, prefix: str, interval: float = 0.5) -> None:
        self.settings = settings
        self.prefix = prefix
        self.interval = interval
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="landing-watcher", daemon=True)
        self.ingested: list[str] = []

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=30)

    def _loop(self) -> None:
        from segmentation.awsclients import client
        from segmentation.ingest.batch import should_ingest
        from segmentation_local.lambda_context import LocalContext
        from segmentation_local.lambdas import load_handler

        s3 = client("s3", self.settings)
        bucket = self.settings.bucket("landing")
        handler = load_handler("batch_ingest")
        while not self._stop.wait(self.interval):
            try:
                listing = s3.list_objects_v2(Bucket=bucket, Prefix=self.prefix)
            except Exception as exc:  # the stack went away: keep watching quietly
                log.debug("landing watcher: %s", type(exc).__name__)
                continue
            for obj in listing.get("Contents", []):
                key = obj["Key"]
                if not should_ingest(key):
                    continue
                event = {
                    "Records": [
                        {
                            "eventSource": "aws:s3",
                            "eventName": "ObjectCreated:Put",
                            "s3": {"bucket": {"name": bucket}, "object": {"key": quote_plus(key)}},
                        }
                    ]
                }
                try:
                    handler(event, LocalContext("batch_ingest"))
                except Exception:
                    log.exception("batch ingest of a console upload failed")
                self.ingested.append(key)


class LocalConsole:
    """Site + API + landing watcher + local executions (see the module docstring)."""

    def __init__(
        self,
        state_dir: Path,
        settings: Settings | None = None,
        host: str = "127.0.0.1",
        api_port: int = 0,
        console_port: int = 0,
        deployed: str | None = None,
        runner: Any = None,
    ) -> None:
        from segmentation.serving.uploads import UPLOAD_PREFIX
        from segmentation_local.cognito import TokenVerifier, ensure_pool
        from segmentation_local.orchestration.executions import LocalExecutions

        self.settings = settings or get_settings()
        endpoint = self.settings.endpoint_url
        if not endpoint:
            raise ValueError(
                "the local console needs the local AWS endpoint (SEG_AWS_ENDPOINT_URL)"
            )
        self.pool = ensure_pool(self.settings)
        self.executions = LocalExecutions(
            Path(state_dir) / "executions", self.settings, runner=runner, deployed=deployed
        )
        self._config: dict[str, Any] = {}
        self.site = make_site_server(host, console_port, self._config)
        self.origin = f"http://{host}:{self.site.server_address[1]}"
        self._saved_origin = os.environ.get("SEG_CONSOLE_ORIGIN")
        os.environ["SEG_CONSOLE_ORIGIN"] = self.origin
        get_settings.cache_clear()

        from segmentation_local.api_gateway import LocalApi

        self.api = LocalApi(
            host,
            api_port,
            verifier=TokenVerifier(self.pool, endpoint),
            console_origin=self.origin,
        )
        self._config.update(
            site_config(self.api.url, endpoint, self.settings.aws_region, self.pool.client_id)
        )
        self.watcher = LandingWatcher(self.settings, UPLOAD_PREFIX)
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        """The address to open."""
        return self.origin + "/"

    def __enter__(self) -> LocalConsole:
        from segmentation.serving import api, campaigns, runs, uploads

        api.state.reset(self.settings)
        campaigns.state.reset(self.settings)
        runs.state.reset(self.settings, sfn=self.executions)
        runs.state.machine_arn = self.executions.machine_arn
        uploads.state.reset(self.settings)
        self.api.__enter__()
        thread = threading.Thread(target=self.site.serve_forever, name="console-site", daemon=True)
        thread.start()
        self._threads.append(thread)
        self.watcher.start()
        return self

    def __exit__(self, *exc: object) -> None:
        from segmentation.serving import api, campaigns, runs, uploads

        self.watcher.stop()
        self.site.shutdown()
        self.site.server_close()
        self.api.__exit__(*exc)
        api.state.reset()
        campaigns.state.reset()
        runs.state.reset()
        uploads.state.reset()
        if self._saved_origin is None:
            os.environ.pop("SEG_CONSOLE_ORIGIN", None)
        else:
            os.environ["SEG_CONSOLE_ORIGIN"] = self._saved_origin
        get_settings.cache_clear()

    def serve_forever(self) -> None:
        """Block until Ctrl-C."""
        threading.Event().wait()
