"""The between-run assignment's maths on a plain local Spark: the published version as the lake
holds it (document + points) assigns every user of its own fit exactly as the fit did, K-Means
and DBSCAN alike; the decision keeps new and changed users and leaves the unchanged to the
weekly item; the provisional items read back as the API serves them."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest
from feature_blobs import COLS, blobs

from segmentation.model_document import ModelDocument, ModelDocumentError, ModelPoints
from segmentation.pipeline.features import COUNT_COLUMNS

pytestmark = pytest.mark.spark


def _fit(spark, **kw):
    from segmentation.pipeline.fit import FitParams, fit

    df, _ = blobs(per=50, seed=4)
    far = df.head(3).assign(
        user_anon_id=[f"f{i:063x}" for i in range(3)], monetary=5000.0, recency_days=300.0
    )
    frame = pd.concat([df, far], ignore_index=True)
    params = FitParams(sample_size=300, silhouette_sample=500, min_segment_users=5, **kw)
    return fit(spark.createDataFrame(frame), params), frame


def _published(result, version: str):
    """The version as the cluster step leaves it in the lake: document and points, each through
    its stored JSON."""
    from segmentation.pipeline.assign import PublishedModel, segment_model
    from segmentation.pipeline.cluster_outputs import build_document, build_points

    doc = build_document(
        result,
        params={"algorithm": result.algorithm, "snapshot_date": "2026-09-30", **result.params},
        model_version=version,
        snapshot_date=date(2026, 9, 30),
        pipeline_run_id="r1",
        mlflow_run_id="m1",
        registered_model=None,
    )
    doc = ModelDocument.from_json(doc.to_json(), "document")
    points = build_points(result, version)
    assert points is not None
    points = ModelPoints.from_json(points.to_json(), "points")
    return PublishedModel(doc, points, segment_model(doc, points))


@pytest.fixture(scope="module")
def kmeans(spark):
    result, frame = _fit(spark, k=4)
    yield result, frame
    result.release()


@pytest.fixture(scope="module")
def dbscan(spark):
    result, frame = _fit(spark, algorithm="dbscan", min_samples=8)
    yield result, frame
    result.release()


def _labels(result) -> pd.DataFrame:
    return result.labeled.toPandas().sort_values("user_anon_id").reset_index(drop=True)


@pytest.mark.parametrize("which", ["kmeans", "dbscan"])
def test_the_stored_version_assigns_its_own_users_as_the_fit_did(which, request) -> None:
    result, _ = request.getfixturevalue(which)
    model = _published(result, f"{which}-v1")
    users = _labels(result)
    _, labels = model.assign(users)
    np.testing.assert_array_equal(labels, users["prediction"].to_numpy())
    if which == "dbscan":  # the far users are noise, by the stored eps and core points
        assert (labels[users["user_anon_id"].str.startswith("f")] == -1).all()
        assert model.points.eps == result.dbscan.eps and model.points.eps > 0
    else:
        assert model.points.labels == [0, 1, 2, 3]


def test_the_points_carry_the_users_averages_the_weekly_reasons_use(kmeans) -> None:
    """A provisional user's reasons are told against the version's users' averages: the ones
    the segment map's reasons of the same user state."""
    from segmentation.pipeline.cluster_outputs import Identified, assignments

    result, _ = kmeans
    model = _published(result, "kmeans-v1")
    users = _labels(result)
    weekly = assignments(result, Identified(list(result.profiles))).set_index("user_anon_id")
    x, labels = model.assign(users.head(20))
    mine = model.reasons(users.head(20), x, labels)
    for anon, text in zip(users["user_anon_id"].head(20), mine, strict=True):
        assert json.loads(text) == json.loads(weekly.loc[anon, "reasons"])


def test_a_kmeans_version_without_points_assigns_from_its_z_scores(kmeans) -> None:
    """Versions published before the points: the document's z-scores are the centres (to 4
    decimals); well-separated users land where the fit put them."""
    from segmentation.pipeline.assign import PublishedModel, points_of_document, segment_model

    result, _ = kmeans
    doc = _published(result, "kmeans-v1").document
    points = points_of_document(doc)
    model = PublishedModel(doc, points, segment_model(doc, points))
    users = _labels(result)
    np.testing.assert_array_equal(model.assign(users)[1], users["prediction"].to_numpy())


def test_a_dbscan_version_without_points_is_refused_with_what_to_do(dbscan) -> None:
    from segmentation.pipeline.assign import ModelPointsMissing, points_of_document

    doc = _published(dbscan[0], "dbscan-v1").document
    with pytest.raises(ModelPointsMissing, match="re-run the weekly pipeline"):
        points_of_document(doc)


def test_points_over_other_features_than_the_space_are_refused(kmeans) -> None:
    from segmentation.pipeline.assign import segment_model

    model = _published(kmeans[0], "kmeans-v1")
    other = model.points.model_copy(update={"columns": list(reversed(model.points.columns))})
    with pytest.raises(ValueError, match="expected the same features"):
        segment_model(model.document, other)


def test_a_broken_points_document_names_its_source_and_field() -> None:
    with pytest.raises(ModelDocumentError, match=r"s3://x/points.json: .*algorithm"):
        ModelPoints.from_json(
            '{"model_version": "v", "columns": ["a"], "points": [], '
            '"labels": [], "algorithm": "hdbscan"}',
            "s3://x/points.json",
        )
    with pytest.raises(ModelDocumentError, match="s3://x/points.json: "):
        ModelPoints.from_json("{not json", "s3://x/points.json")


def test_new_and_changed_users_are_provisional_the_unchanged_keep_the_weekly_item(kmeans) -> None:
    from segmentation.pipeline.assign import decide

    result, _ = kmeans
    model = _published(result, "kmeans-v1")
    users = _labels(result)
    for c in COUNT_COLUMNS:
        users[c] = 10.0
    stay, moved = users.iloc[:5], users.iloc[5:8]
    # new users: copies of weekly users under ids the version has never seen
    new = users.iloc[8:14].assign(user_anon_id=[f"n{i:063x}" for i in range(6)])
    features = pd.concat([stay, moved, new], ignore_index=True)
    other = (moved["prediction"] + 1) % 4
    weekly = pd.DataFrame(
        {
            "user_anon_id": pd.concat([stay["user_anon_id"], moved["user_anon_id"]]),
            "segment_id": pd.concat([stay["prediction"], other]).astype(int),
            "segment_key": [f"S{s + 1}" for s in pd.concat([stay["prediction"], other])],
        }
    )
    record, counts = decide(model, features, weekly, "2026-10-01T04:00:00+00:00", "a1")
    assert counts == {"active_users": 14, "new_users": 6, "changed_users": 3, "unchanged_users": 5}
    assert set(record["user_anon_id"]) == set(moved["user_anon_id"]) | set(new["user_anon_id"])
    by_user = record.set_index("user_anon_id")
    for _, row in moved.iterrows():
        got = by_user.loc[row["user_anon_id"]]
        assert got["segment_id"] == row["prediction"]
        assert got["weekly_segment_key"] == f"S{(row['prediction'] + 1) % 4 + 1}"
    assert by_user.loc[new["user_anon_id"], "weekly_segment_key"].isna().all()
    np.testing.assert_array_equal(
        by_user.loc[new["user_anon_id"], "segment_id"], new["prediction"].to_numpy()
    )
    assert (record["assigned_at"] == "2026-10-01T04:00:00+00:00").all()
    assert (
        record[COLS].to_numpy()
        == features.set_index("user_anon_id").loc[record["user_anon_id"], COLS].to_numpy()
    ).all()
    assert all(json.loads(r) for r in record["reasons"])


def test_a_provisional_item_is_the_record_row_and_sorts_beside_the_weekly_one() -> None:
    from segmentation.serving import provisional as prov
    from segmentation.serving.table import deserialize, serialize, user_key

    row = {
        "user_anon_id": "ab" * 32,
        "segment_id": 2,
        "segment_name": "Binge watchers",
        "segment_key": "S3",
        "weekly_segment_key": None,
        "assigned_at": "2026-10-01T04:00:00+00:00",
        "run_id": "a1",
        "reasons": json.dumps([{"feature": "monetary", "value": 3.0, "mean": 1.5}]),
    }
    item = deserialize(serialize(prov.user_item(row, "segmentation-kmeans-v1")))
    assert item["provisional"] is True and item["segment_key"] == "S3"
    assert "weekly_segment_key" not in item and "expires_at" not in item
    assert item["reasons"] == [{"feature": "monetary", "value": 3.0, "mean": 1.5}]
    low, high = prov.version_range("segmentation-kmeans-v1")
    weekly = user_key(row["user_anon_id"], "segmentation-kmeans-v1")["sk"]
    assert low == weekly and high == item["sk"]
    # no other version's weekly or provisional key falls in the range
    for other in ("segmentation-kmeans-v10", "segmentation-kmeans-v1.1", "segmentation-kmeans-v"):
        for sk in (f"V#{other}", f"V#{other}#P"):
            assert not (low <= sk <= high), sk
    expiring = prov.user_item(row, "segmentation-kmeans-v1", expires_at=123)
    assert expiring["expires_at"] == 123


def test_the_run_line_names_segments_by_key_and_name_not_by_id() -> None:
    """Campaigns are bound to keys; the id is a number within one version, so the line a person
    reads says ``S3 at-risk / lapsed``."""
    from segmentation.model_document import SegmentProfile
    from segmentation.pipeline.assign import describe, segment_labels

    def seg(sid: int, key: str, name: str) -> SegmentProfile:
        return SegmentProfile(
            segment_id=sid, name=name, why="-", size=10, share=0.5, means={}, z_scores={},
            distinguishing=[], actions=[], segment_key=key,
        )  # fmt: skip

    labels = segment_labels([seg(0, "S3", "at-risk / lapsed"), seg(1, "S1", "loyal")], {1: 1200})
    assert labels == {"S1 loyal": 1200}
    assert segment_labels([], {4: 2}) == {"segment 4": 2}
    line = describe(
        {
            "provisional_users": 1205, "model_version": "segmentation-kmeans-v2",
            "new_users": 1205, "changed_users": 0, "unchanged_users": 9, "objects_new": 3,
            "window_days": 90, "snapshot_date": "2026-10-01", "by_segment": {"1": 1200, "0": 5},
            "by_segment_label": segment_labels(
                [seg(0, "S3", "at-risk / lapsed"), seg(1, "S1", "loyal")], {1: 1200, 0: 5}
            ),
        }
    )  # fmt: skip
    assert line.endswith("by segment S3 at-risk / lapsed: 5, S1 loyal: 1,200"), line
