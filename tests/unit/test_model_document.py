"""The model document: one shape, versioned, refused with the field that is wrong."""

from __future__ import annotations

import json
import math
from datetime import date
from typing import Any

import pytest

from segmentation.model_document import (
    SCHEMA_VERSION,
    ModelDocument,
    ModelDocumentError,
    SegmentProfile,
)
from segmentation.serving.segment_item import SegmentItem


def profile(**kw: Any) -> SegmentProfile:
    base: dict[str, Any] = dict(
        segment_id=0,
        name="binge watcher",
        why="long sessions that finish what they start",
        size=40,
        share=0.4,
        means={"avg_session_minutes": 150.0},
        z_scores={"avg_session_minutes": 2.1},
        distinguishing=["avg_session_minutes +2.10 sd", "completion_rate +1.00 sd"],
        actions=["auto-play"],
    )
    return SegmentProfile(**{**base, **kw})


def document(**kw: Any) -> ModelDocument:
    base: dict[str, Any] = dict(
        model_version="segmentation-kmeans-v3",
        algorithm="kmeans",
        snapshot_date=date(2026, 9, 30),
        pipeline_run_id="run-1",
        mlflow_run_id="abc",
        registered_model="segmentation-kmeans",
        n_users=100,
        params={"algorithm": "kmeans", "k": 2, "k_rule": "elbow", "eps": None},
        metrics={"silhouette": 0.61, "davies_bouldin": None, "n_clusters": 2.0},
        k_sweep=[
            {"k": 2, "wsse": 10.0, "silhouette": 0.6},
            {"k": 3, "wsse": 8.0, "silhouette": 0.5},
        ],
        eps_sweep=[],
        features=[{"name": "monetary", "group": "RFM", "unit": "EUR", "definition": "sum"}],
        segments=[profile(), profile(segment_id=1, name="mainstream", size=60, share=0.6)],
    )
    return ModelDocument(**{**base, **kw})


def raw(doc: ModelDocument) -> dict[str, Any]:
    return json.loads(doc.to_json())


def test_the_stored_form_reads_back_as_the_same_document() -> None:
    doc = document()
    text = doc.to_json()
    assert json.loads(text)["schema_version"] == SCHEMA_VERSION == 3
    assert json.loads(text)["snapshot_date"] == "2026-09-30"
    again = ModelDocument.from_json(text, "here")
    assert again == doc
    assert again.to_json() == text  # sorted keys: the same document, the same bytes
    assert again.segment(1) is not None and again.segment(1).name == "mainstream"
    assert again.segment(7) is None


def test_a_nan_silhouette_of_a_sweep_survives_the_round_trip() -> None:
    doc = document(k_sweep=[{"k": 2, "wsse": 1.0, "silhouette": float("nan")}])
    text = doc.to_json()
    assert "NaN" in text  # as json.dumps writes it, not null (which is no float)
    assert math.isnan(ModelDocument.from_json(text, "here").k_sweep[0].silhouette)


def test_a_missing_field_is_named_with_its_path_and_the_source() -> None:
    bad = raw(document())
    del bad["segments"][1]["name"]
    with pytest.raises(ModelDocumentError) as err:
        ModelDocument.from_dict(bad, "profiles at s3://b/p.json")
    assert str(err.value).startswith("profiles at s3://b/p.json: not a valid model document")
    assert "segments.1.name: Field required" in str(err.value)


def test_a_synonym_of_a_field_is_refused_not_silently_read() -> None:
    bad = raw(document())
    bad["segments"][0]["segment_name"] = bad["segments"][0].pop("name")
    with pytest.raises(ModelDocumentError, match=r"segments\.0\.segment_name: Extra inputs"):
        ModelDocument.from_dict(bad, "x")
    listed = raw(document())["segments"]  # the old "a bare list of segments" form
    with pytest.raises(ModelDocumentError, match="expected a model document .* got list"):
        ModelDocument.from_dict(listed, "x")


@pytest.mark.parametrize(("version", "shown"), [(None, "None"), (4, "4"), ("1", "'1'")])
def test_another_schema_version_is_refused_as_such(version: Any, shown: str) -> None:
    doc = raw(document())
    if version is None:
        del doc["schema_version"]
    else:
        doc["schema_version"] = version
    with pytest.raises(
        ModelDocumentError,
        match=f"x: schema_version {shown}; this code reads schema_version 1 or 2 or 3 ",
    ):
        ModelDocument.from_dict(doc, "x")


def test_bounds_and_choices_are_checked() -> None:
    with pytest.raises(ModelDocumentError, match="algorithm: Input should be 'kmeans' or 'dbscan'"):
        ModelDocument.from_dict({**raw(document()), "algorithm": "spectral"}, "x")
    bad = raw(document())
    bad["segments"][0]["share"] = 1.5
    with pytest.raises(ModelDocumentError, match="segments.0.share: Input should be less"):
        ModelDocument.from_dict(bad, "x")
    with pytest.raises(ModelDocumentError, match="segments: List should have at least 1"):
        ModelDocument.from_dict({**raw(document()), "segments": []}, "x")
    with pytest.raises(ModelDocumentError, match="x: not JSON"):
        ModelDocument.from_json("{", "x")


def test_summary_joins_why_and_the_distinguishing_traits() -> None:
    assert profile().summary() == (
        "long sessions that finish what they start "
        "(avg_session_minutes +2.10 sd; completion_rate +1.00 sd)"
    )
    assert profile(distinguishing=[]).summary() == "long sessions that finish what they start"
    assert profile(why="").summary() == "avg_session_minutes +2.10 sd; completion_rate +1.00 sd"


def test_the_published_item_takes_the_profile_and_the_map_counts() -> None:
    item = SegmentItem.of("v1", 0, profile(), size=30, total=120, name_from_map="other")
    assert item.to_item() == {
        "pk": "MODEL#v1",
        "sk": "SEGMENT#0",
        "model_version": "v1",
        "segment_id": 0,
        "segment_name": "binge watcher",  # the document's name wins over the map's
        "size": 30,
        "share": 0.25,
        "profile": {"avg_session_minutes": 150.0},
        "summary": profile().summary(),
        "actions": ["auto-play"],
    }
    bare = SegmentItem.of("v1", 4, None, size=3, total=0, name_from_map=None)
    assert (bare.segment_name, bare.share, bare.profile, bare.actions) == ("segment 4", 0, {}, [])
    assert SegmentItem.of("v1", 4, None, 3, 9, "from map").segment_name == "from map"


def test_a_version_1_document_still_reads_without_identities() -> None:
    doc = raw(document())
    doc["schema_version"] = 1
    old = ModelDocument.from_dict(doc, "v1")
    assert old.schema_version == 1 and old.comparison is None
    assert all(s.segment_key is None for s in old.segments)


def test_a_version_2_document_reads_as_the_identity_feature_space() -> None:
    """Before the feature space, the scaler was over the raw values of its columns: an older
    version is matched and drift-measured in exactly that space."""
    import numpy as np
    import pandas as pd

    from segmentation.model_document import Scaler
    from segmentation.pipeline.feature_space import FeatureSpace

    doc = raw(document())
    doc["schema_version"] = 2
    doc["scaler"] = Scaler(
        mean={"monetary": 10.0, "frequency": 4.0}, std={"monetary": 5.0, "frequency": 2.0}
    ).model_dump()
    old = ModelDocument.from_dict(doc, "v2")
    space = FeatureSpace.of_document(old)
    assert space is not None and space.columns == ("frequency", "monetary") and not space.log1p
    x = space.transform(pd.DataFrame({"monetary": [20.0], "frequency": [4.0]}))
    np.testing.assert_allclose(x, [[0.0, 2.0]])
