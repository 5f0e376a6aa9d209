"""The console's uploads: a presigned PUT into the landing zone, then that file's ingest report.

``POST /uploads`` checks the file's name and declared size, and answers a presigned S3 PUT URL
for ``incoming/console/<upload_id>/<file name>`` in the landing bucket, valid 15 minutes. The
browser PUTs the file there itself (with progress), so no event data passes through the Lambda
or API Gateway (whose payload limit is 10 MB). The object's arrival triggers batch ingest as
any landing file does (the S3 notification on AWS; the local adapter's landing watcher locally).

``GET /uploads/{upload_id}`` reads where the file is: waiting to be uploaded, uploaded and being
ingested, or done, with the batch-ingest report (rows accepted and rejected, the first rejected
rows by line, column, value and what was expected). The report's values have already had raw user
ids scrubbed by ingest; the report's storage locations are not passed on.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, ServiceError
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, Field

from segmentation.config import Settings, get_settings
from segmentation.ingest.batch import FAILED, PROCESSED, REPORT_SUFFIX, file_format
from segmentation.serving.access import SECURITY, UNAUTHORIZED_RESPONSE, analyst_claims
from segmentation.serving.access import error_response as _error

router = Router()

#: Landing prefix of the console's uploads: one folder per upload, so its report is found by id.
UPLOAD_PREFIX = "incoming/console/"
URL_EXPIRY = timedelta(minutes=15)
#: Rejected rows listed in GET /uploads/{id} (the report keeps up to 1000, the quarantine all).
ERRORS_SHOWN = 50
UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
BAD_ID = "upload_id: expected the 32 hexadecimal characters POST /uploads answered"
ACCEPTED = "a file name ending in .csv, .csv.gz or .parquet"
_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class UploadRequest(BaseModel):
    """The body of POST /uploads."""

    filename: str = Field(description=f"Name of the file: {ACCEPTED}.")
    size: int = Field(description="Its size in bytes (at most SEG_UPLOAD_MAX_BYTES).")


class UploadTicket(BaseModel):
    upload_id: str = Field(description="Id to ask GET /uploads/{upload_id} about.")
    url: str = Field(description="Presigned S3 URL: PUT the file's bytes to it, unchanged.")
    method: Literal["PUT"] = "PUT"
    expires_at: str = Field(description="When the URL stops working (UTC, 15 minutes).")
    max_bytes: int = Field(description="The size limit the upload was checked against.")


class RejectedRow(BaseModel):
    line: int | None = Field(description="CSV: physical line (header = 1); Parquet: row from 1.")
    column: str
    value: Any = Field(description="The value as read (raw user ids are never shown).")
    expected: str


class UploadStatus(BaseModel):
    upload_id: str
    filename: str | None = Field(description="The uploaded file's (sanitised) name.")
    status: Literal["waiting", "ingesting", "processed", "failed"] = Field(
        description="waiting: nothing uploaded yet; ingesting: uploaded, no report yet; "
        "processed / failed: batch ingest's verdict (its report follows)."
    )
    format: str | None = None
    rows_total: int = 0
    rows_ok: int = 0
    rows_rejected: int = 0
    errors: list[RejectedRow] = Field(
        default_factory=list, description=f"The first {ERRORS_SHOWN} rejected rows' faults."
    )
    errors_not_listed: int = Field(0, description="Faults beyond those listed.")
    error: str | None = Field(None, description="Why a failed file could not be read at all.")


class _State:
    """The S3 client (per warm Lambda), replaceable in tests."""

    settings: Settings | None = None
    s3: Any = None

    def reset(self, settings: Settings | None = None) -> None:
        self.settings, self.s3 = settings, None

    def get_settings(self) -> Settings:
        return self.settings or get_settings()

    def client(self) -> Any:
        if self.s3 is None:
            from segmentation.awsclients import client

            self.s3 = client("s3", self.get_settings())
        return self.s3


state = _State()


def safe_name(filename: str) -> str:
    """The file's base name with anything but letters, digits, ``._-`` replaced (S3-, URL- and
    log-safe); its extension is what batch ingest reads the format from, so it is kept."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return _NAME.sub("_", base).strip("._")[:120] or "upload"


def check_request(body: Any, max_bytes: int) -> UploadRequest:
    """The upload request, or 400 saying what was expected."""
    if not isinstance(body, dict):
        raise BadRequestError('expected a JSON object {"filename": ..., "size": ...}')
    name, size = body.get("filename"), body.get("size")
    if not isinstance(name, str) or file_format(name) is None or name.lower().endswith(".pq"):
        raise BadRequestError(f"filename: got {json.dumps(name)}, expected {ACCEPTED}")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= max_bytes:
        raise BadRequestError(
            f"size: got {json.dumps(size)}, expected an integer >= 1 and <= {max_bytes} (bytes)"
        )
    return UploadRequest(filename=name, size=size)


@router.post(
    "/uploads",
    summary="Start an upload of events (CSV, CSV.gz or Parquet) to the landing zone",
    description="Answers a presigned S3 PUT URL valid 15 minutes; the upload triggers batch "
    "ingest, whose report GET /uploads/{upload_id} returns. Needs a signed-in analyst.",
    security=SECURITY,
    responses={
        201: {
            "description": "The upload ticket",
            "content": {"application/json": {"model": UploadTicket}},
        },
        400: _error("Not an accepted file name, or too large"),
        401: UNAUTHORIZED_RESPONSE,
    },
)
def start_upload() -> Response[UploadTicket]:
    analyst_claims(router.current_event)
    settings = state.get_settings()
    request = check_request(_json_body(), settings.upload_max_bytes)
    upload_id = uuid.uuid4().hex
    key = f"{UPLOAD_PREFIX}{upload_id}/{safe_name(request.filename)}"
    url = state.client().generate_presigned_url(
        "put_object",
        Params={"Bucket": settings.bucket("landing"), "Key": key},
        ExpiresIn=int(URL_EXPIRY.total_seconds()),
    )
    ticket = UploadTicket(
        upload_id=upload_id,
        url=url,
        expires_at=(datetime.now(UTC) + URL_EXPIRY).isoformat(timespec="seconds"),
        max_bytes=settings.upload_max_bytes,
    )
    return Response(201, content_type="application/json", body=ticket.model_dump())


def _json_body() -> Any:
    try:
        return router.current_event.json_body
    except (ValueError, TypeError):
        raise BadRequestError("expected a JSON body") from None


UploadIdPath = Annotated[
    str, Path(description="The id POST /uploads answered.", pattern=UPLOAD_ID.pattern)
]


@router.get(
    "/uploads/<upload_id>",
    summary="Where an upload is, and its batch-ingest report",
    security=SECURITY,
    responses={
        200: {"description": "The upload's status and report"},
        400: _error(BAD_ID),
        401: UNAUTHORIZED_RESPONSE,
    },
)
def upload_status(upload_id: UploadIdPath) -> UploadStatus:
    analyst_claims(router.current_event)
    if not UPLOAD_ID.fullmatch(upload_id):
        raise BadRequestError(BAD_ID)
    settings = state.get_settings()
    s3 = state.client()
    bucket = settings.bucket("landing")
    folder = f"{UPLOAD_PREFIX}{upload_id}/"
    for done in (PROCESSED, FAILED):
        for key in _keys(s3, bucket, done + folder):
            if key.endswith(REPORT_SUFFIX):
                report = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
                name = key[len(done + folder) : -len(REPORT_SUFFIX)]
                return _status(upload_id, name, report)
    waiting = _keys(s3, bucket, folder)
    if waiting:
        return UploadStatus(
            upload_id=upload_id, filename=waiting[0][len(folder) :], status="ingesting"
        )
    return UploadStatus(upload_id=upload_id, filename=None, status="waiting")


def _keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    try:
        listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=10)
    except s3.exceptions.NoSuchBucket:
        raise ServiceError(503, "the landing zone does not exist; provision the stack") from None
    return [obj["Key"] for obj in listing.get("Contents", [])]


def _status(upload_id: str, name: str, report: dict[str, Any]) -> UploadStatus:
    errors = report.get("errors") or []
    return UploadStatus(
        upload_id=upload_id,
        filename=name,
        status="processed" if report.get("status") == "processed" else "failed",
        format=report.get("format"),
        rows_total=int(report.get("rows_total", 0)),
        rows_ok=int(report.get("rows_ok", 0)),
        rows_rejected=int(report.get("rows_rejected", 0)),
        errors=[RejectedRow(**e) for e in errors[:ERRORS_SHOWN]],
        errors_not_listed=int(report.get("errors_not_listed", 0))
        + max(0, len(errors) - ERRORS_SHOWN),
        error=report.get("error"),
    )
