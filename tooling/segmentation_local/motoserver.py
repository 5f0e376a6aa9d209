"""The embedded AWS: moto in server mode, with this project's patches applied first.

Run as ``python -m segmentation_local.motoserver --port 5000``. The patches (see
:mod:`segmentation_local.moto_patches`) restore AWS behaviour moto lacks; they are applied in this
process before the server starts, which is why moto is not launched through its own CLI.

moto's app is served behind the layers of :mod:`segmentation_local.moto_wsgi` (lost answers to
SDK retries replayed, one request at a time per control-plane service).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from segmentation_local.moto_wsgi import layered
from segmentation_local.process import Service, http_ok

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": False}, "lambda": {"use_docker": False}}


def moto_service(port: int, log_dir: Path) -> Service:
    """A :class:`Service` running this module on ``port``."""
    return Service(
        name="moto",
        argv=[sys.executable, "-m", "segmentation_local.motoserver", "--port", str(port)],
        ready=http_ok(f"http://127.0.0.1:{port}/moto-api/"),
        log_path=log_dir / "moto.log",
        env={"MOTO_PORT": str(port)},
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("MOTO_PORT", "5000")))
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))

    try:
        from segmentation_local import moto_patches
    except ImportError:  # patches are optional: a plain moto still serves most services
        moto_patches = None
    if moto_patches is not None:
        moto_patches.apply()

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    app = layered(DomainDispatcherApplication(create_backend_app))
    server = make_server(
        args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler
    )
    print(f"moto server on http://{args.host}:{args.port}", flush=True)
    try:
        server.serve_forever()  # run until killed
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
