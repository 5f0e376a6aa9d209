#!/bin/sh
# Start `mlflow server` with the PostgreSQL backend whose credentials ECS injected from the
# RDS-managed Secrets Manager secret (MLFLOW_DB_USER / MLFLOW_DB_PASSWORD), and artifacts proxied
# to S3 (MLFLOW_ARTIFACTS_DESTINATION). Nothing secret is baked into the image or the task
# definition; the password is URL-encoded because RDS-generated passwords contain symbols.
set -eu

: "${MLFLOW_DB_HOST:?MLFLOW_DB_HOST is required (RDS endpoint)}"
: "${MLFLOW_DB_USER:?MLFLOW_DB_USER is required (from the RDS secret)}"
: "${MLFLOW_DB_PASSWORD:?MLFLOW_DB_PASSWORD is required (from the RDS secret)}"
: "${MLFLOW_ARTIFACTS_DESTINATION:?MLFLOW_ARTIFACTS_DESTINATION is required (s3://bucket/prefix)}"
MLFLOW_DB_PORT="${MLFLOW_DB_PORT:-5432}"
MLFLOW_DB_NAME="${MLFLOW_DB_NAME:-mlflow}"
MLFLOW_WORKERS="${MLFLOW_WORKERS:-2}"
export MLFLOW_SERVER_ENABLE_JOB_EXECUTION="${MLFLOW_SERVER_ENABLE_JOB_EXECUTION:-false}"

# Passed through the environment (MLFLOW_BACKEND_STORE_URI), not argv, so `ps` never shows it.
MLFLOW_BACKEND_STORE_URI="$(python - <<'PY'
import os
from urllib.parse import quote
user = quote(os.environ["MLFLOW_DB_USER"], safe="")
password = quote(os.environ["MLFLOW_DB_PASSWORD"], safe="")
host, port, name = (os.environ[k] for k in ("MLFLOW_DB_HOST", "MLFLOW_DB_PORT", "MLFLOW_DB_NAME"))
print(f"postgresql://{user}:{password}@{host}:{port}/{name}?sslmode=require")
PY
)"
export MLFLOW_BACKEND_STORE_URI
unset MLFLOW_DB_PASSWORD

set -- mlflow server \
    --host 0.0.0.0 --port 5000 \
    --workers "${MLFLOW_WORKERS}" \
    --serve-artifacts --artifacts-destination "${MLFLOW_ARTIFACTS_DESTINATION}"
if [ -n "${MLFLOW_ALLOWED_HOSTS:-}" ]; then
    set -- "$@" --allowed-hosts "${MLFLOW_ALLOWED_HOSTS}"
fi
exec "$@"
