"""The model document: what the cluster step says about one model version, in one shape.

The cluster step writes it (``profiles/model_version=<v>/profiles.json`` in the segments zone and
the MLflow run's ``profiles.json`` artifact); publish, the API (through the items publish
derives from it), the demo report and MLflow logging read it. Readers used to accept several
spellings of the same fact (``name`` or ``segment_name``, a list or ``{"segments": [...]}``);
with one typed model a writer and a reader cannot drift apart silently: a document that does not
validate is refused with the field that is wrong.

``schema_version`` changes whenever the shape does, so a reader can tell an older document from
a broken one. Only pydantic here: the Lambdas import this without Spark or MLflow.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

#: The shape written by this code. Bump it (and say what changed) when a field changes.
#: 2: stable segment identities (``segment_key``, ``since``, ``previous_size``, ``renamed_from``),
#: the scaler, the previous version, retired segments and the run-over-run comparison. A version-1
#: document still reads (those fields are empty in it).
#: 3: the feature space (``feature_space``: the features the model used, those left out and why,
#: the log1p transforms and the shrinkage of shares; ``scaler`` is over the transformed values),
#: ``z_scores`` in that space, and the segment-size floor's report (``merged_segments``). A
#: version-1 or -2 document still reads (no transforms: the identity over its scaler's columns).
SCHEMA_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)

#: A parameter of the run as MLflow records it: a scalar.
ParamValue = int | float | str | bool | None


class _Strict(BaseModel):
    # extra="forbid": a field added or misspelt by a writer fails the read instead of vanishing.
    # NaN stays NaN in JSON (as json.dumps writes it): a sweep row's silhouette is NaN when a
    # fit found one cluster, and null would no longer validate as a float.
    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="constants")


class SegmentProfile(_Strict):
    """One segment as a marketer reads it (see :mod:`segmentation.pipeline.profiles`)."""

    segment_id: int = Field(description="Cluster number within the model version; -1 is noise.")
    name: str = Field(min_length=1, description="Readable name from the naming rules.")
    why: str = Field(description="Why the segment got its name.")
    size: int = Field(ge=0, description="Users in the segment.")
    share: float = Field(ge=0, le=1, description="Fraction of the users segmented.")
    means: dict[str, float] = Field(description="Feature means in original units.")
    z_scores: dict[str, float] = Field(
        description="(segment mean - population mean) / population std, per model feature, in "
        "the model's feature space (after shrinkage and log1p; schema 1-2: raw values). It is "
        "the segment's centre in the scaled space the model clusters in."
    )
    distinguishing: list[str] = Field(description="The three largest |z| as 'feature +z sd'.")
    actions: list[str] = Field(description="Recommended marketing actions.")
    segment_key: str | None = Field(
        None,
        pattern=r"^(S[1-9][0-9]*|noise)$",
        description="Durable key of the segment across model versions (S1, S2, ...; noise).",
    )
    since: str | None = Field(None, description="Model version the key first appeared in.")
    previous_size: int | None = Field(
        None, ge=0, description="Users of this key in the previous version (None: a new key)."
    )
    renamed_from: str | None = Field(
        None, description="The key's name in the previous version, when its profile changed."
    )

    def summary(self) -> str:
        """The one line publish stores: why the name, and what sets the segment apart."""
        traits = "; ".join(self.distinguishing)
        if not traits:
            return self.why
        return f"{self.why} ({traits})" if self.why else traits


class FeatureDescription(_Strict):
    name: str
    group: str
    unit: str
    definition: str


class KSweepRow(_Strict):
    k: int
    wsse: float
    silhouette: float
    smallest_share: float | None = Field(
        None, description="Share of the sample in the smallest cluster (the floor's check)."
    )


class EpsSweepRow(_Strict):
    eps: float
    is_knee: float
    n_clusters: float
    noise_share: float
    silhouette: float
    score: float


class RetiredSegment(_Strict):
    """A key of the previous version no new segment matched."""

    segment_key: str
    name: str
    since: str
    last_size: int = Field(ge=0)


class FeatureBins(_Strict):
    """One feature's decile bins in the model's scaled space, and the share of its users in each
    (``len(shares) == len(edges) + 1``): what the next version's drift is measured against."""

    edges: list[float]
    shares: list[float]


class Comparison(_Strict):
    """The version against the previous one, for the users in both."""

    previous_model_version: str
    common_users: int = Field(ge=0)
    ari: float | None = Field(description="Adjusted Rand index of the two assignments.")
    transitions: dict[str, dict[str, float]] = Field(
        description="Per previous key: the share of its users now in each key."
    )
    largest_share_shift: float = Field(
        ge=0, description="Largest absolute change of a key's share of the users."
    )
    feature_psi: dict[str, float] = Field(
        default_factory=dict,
        description="Population stability index per feature vs the previous version's bins.",
    )
    features_added: list[str] = Field(
        default_factory=list, description="Model features the previous version did not have."
    )
    features_removed: list[str] = Field(
        default_factory=list, description="Features of the previous version this one lacks."
    )


class Shrinkage(_Strict):
    """A share over few events pulled toward the population's: ``(n s + m p) / (n + m)``."""

    count: str = Field(description="Feature-table column with the events the share is over (n).")
    prior_events: float = Field(ge=0, description="Pseudo-events m of the population's share.")
    prior_share: float = Field(description="The population's pooled share p.")


class FeatureSpaceDoc(_Strict):
    """Which features the model used, and how each was transformed before the scaler."""

    features: list[str] = Field(min_length=1, description="Model features, in matrix order.")
    log1p: list[str] = Field(default_factory=list, description="Features taken as log(1 + x).")
    shrinkage: dict[str, Shrinkage] = Field(default_factory=dict)
    left_out: dict[str, str] = Field(
        default_factory=dict, description="Features left out of this run's model, and why."
    )


class MergedSegment(_Strict):
    """A cluster under the segment-size floor, folded into its nearest segment (K-Means) or
    declared noise (DBSCAN): no profile is published from so few users."""

    cluster: int = Field(description="The fit's cluster number before the merge.")
    size: int = Field(ge=0)
    into: int = Field(description="Segment id it joined; -1 = noise.")


class Scaler(_Strict):
    """The standard scaling the model was fitted in (original units -> z)."""

    mean: dict[str, float]
    std: dict[str, float]


class ModelDocument(_Strict):
    """Everything about a model version that is not per user (the segment map holds those)."""

    schema_version: Literal[1, 2, 3] = Field(SCHEMA_VERSION, description="Shape of this document.")
    model_version: str = Field(min_length=1)
    algorithm: Literal["kmeans", "dbscan"]
    snapshot_date: date
    pipeline_run_id: str = Field(min_length=1)
    mlflow_run_id: str
    registered_model: str | None
    n_users: int = Field(ge=0)
    params: dict[str, ParamValue] = Field(description="The run's parameters, as MLflow has them.")
    metrics: dict[str, float | None] = Field(description="None where a score is undefined.")
    k_sweep: list[KSweepRow] = Field(description="K-Means with auto k; empty otherwise.")
    eps_sweep: list[EpsSweepRow] = Field(description="DBSCAN with auto eps; empty otherwise.")
    features: list[FeatureDescription]
    segments: list[SegmentProfile] = Field(min_length=1, description="Largest first.")
    data_warnings: list[str] = Field(
        default_factory=list,
        description="What the run's data lacked (e.g. no catalog: unique_genres is 0 for "
        "everyone), from the features step's report; shown with the segments.",
    )
    scaler: Scaler | None = Field(None, description="The scaling the centres are read in.")
    feature_space: FeatureSpaceDoc | None = Field(
        None, description="Features and transforms before the scaler (None: schema 1-2)."
    )
    min_segment_users: int | None = Field(
        None, ge=0, description="The segment-size floor of this run (users)."
    )
    merged_segments: list[MergedSegment] = Field(default_factory=list)
    fit_notes: list[str] = Field(
        default_factory=list,
        description="What the data made the fit do: features left out and why, shares left "
        "unshrunk, clusters under the size floor merged, a warm start skipped.",
    )
    previous_model_version: str | None = Field(
        None, description="The version this one's segments were matched to (None: the first)."
    )
    next_key: int = Field(1, ge=1, description="First key number no segment has had yet.")
    retired_segments: list[RetiredSegment] = Field(default_factory=list)
    comparison: Comparison | None = None
    feature_bins: dict[str, FeatureBins] = Field(
        default_factory=dict, description="Per feature: decile bins of this version's users."
    )

    def by_key(self, segment_key: str) -> SegmentProfile | None:
        return next((s for s in self.segments if s.segment_key == segment_key), None)

    def segment(self, segment_id: int) -> SegmentProfile | None:
        return next((s for s in self.segments if s.segment_id == segment_id), None)

    def to_json(self) -> str:
        """The stored form (sorted keys, so two writes of the same document are byte-equal)."""
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes, source: str) -> ModelDocument:
        """Parse and validate; :class:`ModelDocumentError` names ``source`` and the bad field."""
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise ModelDocumentError(f"{source}: not JSON ({exc})") from None
        return cls.from_dict(raw, source)

    @classmethod
    def from_dict(cls, raw: Any, source: str) -> ModelDocument:
        if not isinstance(raw, dict):
            raise ModelDocumentError(
                f"{source}: expected a model document (a JSON object), got {type(raw).__name__}"
            )
        found = raw.get("schema_version")
        if found not in READABLE_VERSIONS:
            raise ModelDocumentError(
                f"{source}: schema_version {found!r}; this code reads schema_version "
                f"{' or '.join(map(str, READABLE_VERSIONS))} (re-run the cluster step to rewrite "
                "the document)"
            )
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise ModelDocumentError(f"{source}: {describe(exc)}") from None


class ModelDocumentError(ValueError):
    """A stored model document does not have the shape of :class:`ModelDocument`."""


def describe(exc: ValidationError, most: int = 5) -> str:
    """``segments.0.name: Field required; ...``: the field paths first, as a person fixes them."""
    errors = exc.errors()
    parts = [f"{'.'.join(map(str, e['loc'])) or '(document)'}: {e['msg']}" for e in errors[:most]]
    more = f" (and {len(errors) - most} more)" if len(errors) > most else ""
    return "not a valid model document: " + "; ".join(parts) + more


class ModelPoints(_Strict):
    """The points a model version assigns with, in its scaled space: the K-Means centres (row i
    is segment i) or the DBSCAN core points and their segments (a user takes the nearest core
    point's segment within ``eps``, else noise). With the document's feature space and scaler
    it reproduces every assignment of the version without a re-fit and without MLflow: the
    between-run assignment reads it (``model_points/model_version=<v>/points.json``).

    Kept apart from the document because DBSCAN's core points are up to ``sample_size`` rows,
    and the document is what the console and the Lambdas read."""

    model_version: str = Field(min_length=1)
    algorithm: Literal["kmeans", "dbscan"]
    columns: list[str] = Field(min_length=1, description="Model features, in matrix order.")
    points: list[list[float]] = Field(description="One row per centre / core point.")
    labels: list[int] = Field(description="Segment id of each row of points.")
    eps: float | None = Field(None, gt=0, description="DBSCAN's radius (None for K-Means).")
    population_means: dict[str, float] = Field(
        default_factory=dict,
        description="The version's users' average of each model feature in original units: "
        "the 'average' a provisional user's reasons are told against.",
    )

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes, source: str) -> ModelPoints:
        try:
            return cls.model_validate(json.loads(text))
        except ValueError as exc:  # not JSON, or a ValidationError (a ValueError too)
            detail = describe(exc) if isinstance(exc, ValidationError) else str(exc)
            raise ModelDocumentError(
                f"{source}: {detail.replace('model document', 'model points document')}"
            ) from None
