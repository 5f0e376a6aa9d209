"""LocalStack, the second local AWS: its community runtime on this host, in its own venv.

``make setup`` creates ``.venv-localstack`` under pyenv's Python 3.13.0 (``mk/localstack.mk``;
localstack-core 4.14.0, the last community release that starts without an account token, with
the pins in ``tooling/localstack-constraints.txt``). :func:`localstack_service` runs
``python -m localstack.runtime.main`` from there on a port of the caller's choosing, with every
directory it writes under ``data_dir`` (host mode, not the container layout under
``/var/lib/localstack``), no DNS server and no certificate download (nothing outside is
reachable), and only the services this project sends there.

What runs where when the two are combined (the LocalStack test): S3, SNS, SQS, Secrets Manager,
Step Functions and CloudWatch on LocalStack; DynamoDB (LocalStack's fetches a DynamoDB Local jar
at first use) and the Glue catalog (not in the community edition) on moto, through
``SEG_AWS_SERVICE_ENDPOINTS``. Lambda execution needs Docker there, and Glue / EMR Serverless
are not in the community edition: the state machine's Task states run against LocalStack's
mocked service integrations (:func:`mock_config`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from segmentation_local.process import Service, http_ok

ROOT = Path(__file__).resolve().parents[2]
#: The venv ``make setup`` creates (mk/localstack.mk's LOCALSTACK_VENV).
VENV = ROOT / ".venv-localstack"
VERSION = "4.14.0"
#: Services the project sends to LocalStack (loaded eagerly, nothing else is loaded).
SERVICES = ("s3", "sns", "sqs", "secretsmanager", "stepfunctions", "cloudwatch", "sts", "iam")
#: Services that stay on moto when both run: see the module docstring.
ON_MOTO = ("dynamodb", "glue")


def python(venv: Path = VENV) -> Path:
    return venv / "bin" / "python"


def installed(venv: Path = VENV) -> bool:
    """Whether ``make setup`` installed LocalStack there (its stamp is written last)."""
    return python(venv).exists() and (venv / ".installed").exists()


def endpoint(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def localstack_service(
    port: int,
    data_dir: Path,
    *,
    sfn_mock_config: Path | None = None,
    venv: Path = VENV,
) -> Service:
    """A :class:`Service` running LocalStack's gateway on ``127.0.0.1:port``, state under
    ``data_dir``; ``sfn_mock_config`` is the Step Functions mock file (LocalStack re-reads it when
    its modification time changes, so it may be written after the start)."""
    if not python(venv).exists():
        raise FileNotFoundError(
            f"no LocalStack venv at {venv}: `make setup` creates it where pyenv has Python 3.13.0"
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "LOCALSTACK_HOST": f"127.0.0.1:{port}",
        "OVERRIDE_IN_DOCKER": "0",  # host directory layout, rooted at FILESYSTEM_ROOT
        "FILESYSTEM_ROOT": str(data_dir),
        "DNS_ADDRESS": "0",  # no DNS server (it would want port 53 and an upstream resolver)
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "DISABLE_EVENTS": "1",  # no analytics calls home
        "SERVICES": ",".join(SERVICES),
        "EAGER_SERVICE_LOADING": "1",  # a slow first request would otherwise hit a test's timeout
        "SFN_MOCK_CONFIG": str(sfn_mock_config or ""),
        # this process's own settings must not leak into LocalStack's internal clients
        "AWS_ENDPOINT_URL": "",
        "PYTHONPATH": "",
        "VIRTUAL_ENV": "",
    }
    return Service(
        name="localstack",
        argv=[str(python(venv)), "-m", "localstack.runtime.main"],
        ready=http_ok(f"{endpoint(port)}/_localstack/health"),
        log_path=data_dir / "localstack.log",
        env=env,
        startup_timeout=120.0,
    )


def split_environment(localstack: str, moto: str) -> dict[str, str]:
    """Settings that send every client to LocalStack except :data:`ON_MOTO`'s services."""
    return {
        "SEG_AWS_ENDPOINT_URL": localstack,
        "AWS_ENDPOINT_URL": localstack,
        "SEG_AWS_SERVICE_ENDPOINTS": json.dumps({service: moto for service in ON_MOTO}),
    }


def mock_config(
    state_machine: str, test_case: str, responses: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """A Step Functions mock configuration (the format of AWS's Step Functions Local, which
    LocalStack reads from ``SFN_MOCK_CONFIG``): each named Task state answers with
    ``{"Return": ...}`` or ``{"Throw": {"Error": ..., "Cause": ...}}`` instead of calling its
    service. Start the execution on ``<state machine ARN>#<test_case>``."""
    return {
        "StateMachines": {
            state_machine: {"TestCases": {test_case: {state: state for state in responses}}}
        },
        "MockedResponses": {state: {"0": answer} for state, answer in responses.items()},
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m segmentation_local.localstack PORT DATA_DIR``: run it in the foreground."""
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 2:
        print("usage: python -m segmentation_local.localstack PORT DATA_DIR", file=sys.stderr)
        return 2
    service = localstack_service(int(args[0]), Path(args[1])).start()
    print(f"LocalStack {VERSION} on {endpoint(int(args[0]))}; Ctrl-C stops", flush=True)
    try:
        assert service.process is not None
        service.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        service.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
