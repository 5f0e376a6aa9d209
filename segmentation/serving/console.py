"""The web console's routes, registered on the segment API's resolver.

One Lambda (segment_api) serves the lookup routes and the console's: uploads
(:mod:`~segmentation.serving.uploads`), runs (:mod:`~segmentation.serving.runs`), model
documents and the contract (:mod:`~segmentation.serving.models`), campaigns
(:mod:`~segmentation.serving.campaigns`). Each module is a Powertools
``Router``; :func:`register` includes them, :func:`document` completes the OpenAPI spec with what
the resolver does not write when request validation is off (the request bodies).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from segmentation.serving import campaigns, models, runs, uploads
from segmentation.serving.access import SECURITY_SCHEMES

__all__ = ["SECURITY_SCHEMES", "document", "register"]

ROUTERS = (uploads.router, runs.router, models.router, campaigns.router)


def register(app: APIGatewayRestResolver) -> None:
    """Include the console's routers in ``app``."""
    for router in ROUTERS:
        app.include_router(router)


def _inline(model: Any) -> dict[str, Any]:
    return model.model_json_schema()


def document(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with the console routes' request bodies and security scheme."""
    from segmentation.campaign.model import CampaignSpec
    from segmentation.pipeline.params import json_schema

    execution_input = {k: v for k, v in json_schema().items() if k not in {"$defs", "$schema"}}
    bodies = {
        ("/uploads", "post"): _inline(uploads.UploadRequest),
        ("/runs", "post"): execution_input,
        ("/campaigns", "post"): _inline(CampaignSpec),
    }
    for (path, method), schema in bodies.items():
        operation = spec["paths"][path][method]
        operation["requestBody"] = {
            "required": path != "/runs",
            "content": {"application/json": {"schema": schema}},
        }
    return spec
