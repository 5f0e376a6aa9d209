"""The console's model and contract routes.

``GET /models/{model_version}`` returns a version's model document (the cluster step's
profiles.json, validated by :class:`~segmentation.model_document.ModelDocument`): the segments'
z-scores for the heat map, the k sweep's elbow and silhouette curves, DBSCAN's eps sweep and
noise share, the quality metrics and the comparison with the previous version. The scaler and the
feature bins (the next run's drift baseline) are left out: nothing a reader acts on.

``GET /contract`` is the event contract as ``segmentation schema`` prints it, so the console's
format instructions cannot say something the ingest does not check. It is public: the contract
is documentation.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, ServiceError
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, Field

from segmentation.serving.access import SECURITY, UNAUTHORIZED_RESPONSE, analyst_claims
from segmentation.serving.access import error_response as _error
from segmentation.serving.uploads import state as s3_state

router = Router()

MODEL_VERSION = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
BAD_VERSION = "model_version: expected 1-128 letters, digits, '.', '-' or '_'"


class ContractColumn(BaseModel):
    name: str
    required: bool
    type: str
    unit: str
    example: str
    meaning: str


class Contract(BaseModel):
    columns: list[ContractColumn]
    example_csv: str = Field(description="A header line and one valid row.")
    table: str = Field(description="The same table as `segmentation schema` (Markdown).")


@router.get(
    "/contract",
    summary="The event contract: the columns an uploaded file must have",
    responses={200: {"description": "The contract"}},
)
def contract() -> Contract:
    from segmentation.contract import COLUMN_DOCS, contract_as_text

    table = contract_as_text()
    rows = [line for line in table.splitlines() if line.startswith("| ")][1:]
    columns = []
    for doc, row in zip(COLUMN_DOCS, rows, strict=True):
        meaning = row.rsplit(" | ", 1)[-1].removesuffix(" |")  # the text with its figures filled
        columns.append(
            ContractColumn(
                name=doc.name,
                required=doc.required,
                type=doc.type,
                unit=doc.unit,
                example=doc.example,
                meaning=meaning,
            )
        )
    example = table.split("Example CSV:", 1)[1].strip()
    return Contract(columns=columns, example_csv=example, table=table)


ModelVersionPath = Annotated[str, Path(description="A model version, e.g. segmentation-kmeans-v3.")]


@router.get(
    "/models/<model_version>",
    summary="A model version's document: segments, z-scores, sweeps, quality metrics",
    security=SECURITY,
    responses={
        200: {"description": "The model document (without the scaler and feature bins)"},
        400: _error(BAD_VERSION),
        401: UNAUTHORIZED_RESPONSE,
        404: _error("No such model version"),
    },
)
def model(model_version: ModelVersionPath) -> dict[str, Any]:
    analyst_claims(router.current_event)
    if not MODEL_VERSION.fullmatch(model_version):
        raise BadRequestError(BAD_VERSION)
    from segmentation.lake import LakePaths
    from segmentation.model_document import ModelDocument

    settings = s3_state.get_settings()
    uri = LakePaths(settings).profiles(model_version)
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    s3 = s3_state.client()
    try:
        text = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except (s3.exceptions.NoSuchKey, s3.exceptions.NoSuchBucket):
        raise ServiceError(404, "no such model version") from None
    doc = ModelDocument.from_json(text, f"profiles of {model_version}")
    return _finite(doc.model_dump(mode="json", exclude={"scaler", "feature_bins"}))


def _finite(value: Any) -> Any:
    """NaN/inf as null: the document keeps NaN (a one-cluster fit's silhouette), which JSON
    has no spelling for and a browser's JSON.parse refuses."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
