"""schemathesis against the committed docs/openapi.json and the local API: every operation, the
spec's examples, its coverage cases (boundaries, pattern violations) and bounded fuzzing, with
schemathesis' default checks plus one of ours (an error body never carries the id).

The real handler runs behind the local API Gateway adapter on moto (DynamoDB, S3, Secrets
Manager), with a published version that holds the spec's example id, so the 200 answers are
checked against their schemas too. Deterministic (fixed seed, derandomized) to stay out of CI's
flakes; ~50 examples per operation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis.config import SchemathesisConfig
from serving_data import make_stack, write_version

from segmentation.anonymise import load_anonymiser, store_key
from segmentation.awsclients import client
from segmentation.campaign import store as campaign_store
from segmentation.campaign.arms import store_arm_key
from segmentation.campaign.model import BAD_CAMPAIGN_ID
from segmentation.config import get_settings
from segmentation.serving import api, campaigns
from segmentation.serving.user_id import EXAMPLE
from segmentation_local.api_gateway import AUTHORIZED, LocalApi

pytestmark = pytest.mark.moto
ROOT = Path(__file__).resolve().parents[2]

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 17,
        "generation": {"max-examples": 50, "deterministic": True},
        "phases": {"stateful": {"enabled": False}},
    }
)
schema = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.json", config=CONFIG)

#: Every error body the API can give: fixed words, so none can carry the id asked for.
ERROR_BODIES = {
    (400, api.INVALID_ID),
    (404, "user not found in the current model version"),
    (400, BAD_CAMPAIGN_ID),  # ?campaign= of another shape
    (404, campaigns.NO_SUCH_CAMPAIGN),
    (404, "Not found"),  # a path that is no route
    (405, "Method not allowed"),  # a route asked with a method it lacks
}


@pytest.fixture(scope="module")
def base_url(moto_server: str) -> Iterator[str]:
    """The local API over a published version (module-scoped: hypothesis runs many examples
    per test, and a function-scoped fixture would not be reset between them)."""
    with pytest.MonkeyPatch.context() as mp:
        requests.post(f"{moto_server}/moto-api/reset", timeout=10)
        mp.setenv("AWS_ENDPOINT_URL", moto_server)
        mp.setenv("SEG_AWS_ENDPOINT_URL", moto_server)
        get_settings.cache_clear()
        settings = get_settings()
        make_stack(settings)
        campaign_store.ensure_table(client("dynamodb", settings), settings)
        store_key(settings)
        store_arm_key(settings)
        api.state.reset(settings)
        write_version(
            settings, "v1", 30, anonymiser=load_anonymiser(settings), custom_ids=[EXAMPLE]
        )
        from segmentation.serving.publish import publish

        publish("v1", settings)
        try:
            with LocalApi() as server:
                yield server.url
        finally:
            api.state.reset()
            get_settings.cache_clear()


@schemathesis.check
def carries_no_id(ctx: Any, response: Any, case: Any) -> bool | None:
    """No answer can carry the id: a 4xx body is one of the API's fixed messages, and a user's
    segment has exactly the fields of UserSegment (none of them an id)."""
    if case.method.upper() == "HEAD" or not response.content:
        return None
    body = json.loads(response.content)
    if response.status_code == 401 and case.path in AUTHORIZED:
        # the console's routes: no analyst token here, API Gateway's authorizer refuses
        assert body == {"message": "Unauthorized"}, body
    elif 400 <= response.status_code < 500:
        assert (body["statusCode"], body["message"]) in ERROR_BODIES, body
        assert body["statusCode"] == response.status_code
    elif response.status_code == 200 and case.path == "/users/{user_id}/segment":
        assert set(body) == set(api.UserSegment.model_fields), sorted(body)
    return True


@schema.parametrize()
def test_api_conforms_to_its_spec(case: Any, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, additional_checks=[carries_no_id])
