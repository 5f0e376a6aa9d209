"""The pipeline's parameters, defined once: the execution input and the arguments of each step.

Every other spelling of these facts is derived from the models here: the Glue/EMR argument
parsing (:mod:`segmentation.pipeline.args`), the ``segmentation run`` / ``segmentation step``
help, the execution-input table in docs/orchestration.md, the JSON Schema the web console builds
its form from (docs/params.schema.json), and the input check the state machine runs first
(``lambdas/validate_input``). The ASL's ``ApplyDefaults`` and Choice bounds cannot import Python,
so tests/unit/test_pipeline_params.py compares them with these models and fails on any drift.

The deployed definition's values are the canonical ones (DBSCAN eps ``auto``, min_samples 24,
k and k_max in 2..50, eps in (0, 100], min_samples in 2..10000, window_days in 1..3650).
"""

from __future__ import annotations

import json
import re
import types
import typing
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar, Literal, Union

import annotated_types
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic.json_schema import SkipJsonSchema

from segmentation.config import get_settings

# The bounds shared by the execution input and the step arguments (one definition per fact).
ClusterCount = Annotated[int, Field(ge=2, le=50)]
Eps = Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)]
MinSamples = Annotated[int, Field(ge=2, le=10_000)]
WindowDays = Annotated[int, Field(ge=1, le=3650)]
#: The longest backtest horizon (days after a model version's snapshot): the step's
#: ``horizon_days`` and the execution input's ``backtest_horizon_days`` share it.
MAX_HORIZON_DAYS = 365
HorizonDays = Annotated[int, Field(ge=1, le=MAX_HORIZON_DAYS)]
Algorithm = Literal["kmeans", "dbscan"]
Zone = Literal["raw", "hot"]
#: The features step's feature names (features.FEATURE_COLUMNS; a test holds the two equal:
#: features imports this module, so it cannot be imported here).
FeatureName = Literal[
    "recency_days",
    "frequency",
    "monetary",
    "avg_session_minutes",
    "completion_rate",
    "unique_genres",
    "searches_per_session",
    "banner_ctr",
    "morning_share",
    "evening_share",
    "weekend_share",
    "active_days",
]

#: The state machine's ``window_days`` default (ApplyDefaults); Settings' default is the same.
DEFAULT_WINDOW_DAYS = 90
DEFAULT_K_MAX = 10
DEFAULT_MIN_SAMPLES = 24
AUTO = "auto"

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _today() -> date:
    return datetime.now(UTC).date()


def _run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


# ---------------------------------------------------------------------------------------------
# Step arguments: what the Glue jobs and the EMR step take (Glue-style strings, parsed leniently)


class StepParams(BaseModel):
    """Arguments every step takes. Values usually arrive as strings (Glue ``--name value``),
    so parsing is lax; an empty string means "the default" (how the ASL passes ``auto``).

    Steps read the fields as ``params.name`` or ``params["name"]`` (the step bodies predate the
    models and index a dict), so the model answers both.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    lake_prefix: str = Field(
        default_factory=lambda: get_settings().lake_prefix,
        description="bucket prefix of the lake zones",
        json_schema_extra={"default_text": "SEG_LAKE_PREFIX"},
    )
    run_id: str = Field(
        default_factory=_run_id,
        description="id of this pipeline run (quality report path, MLflow tag)",
        json_schema_extra={"default_text": "a new timestamped id"},
    )
    snapshot_date: date = Field(
        default_factory=_today,
        description="day the run describes (UTC)",
        json_schema_extra={"default_text": "today (UTC)"},
    )
    #: Set by Glue; accepted so the Job object can be initialised, never part of the contract.
    JOB_NAME: SkipJsonSchema[str | None] = Field(default=None, exclude=True)

    PLATFORM_FIELDS: ClassVar[frozenset[str]] = frozenset({"JOB_NAME"})

    @field_validator("snapshot_date", mode="before")
    @classmethod
    def _iso_day(cls, value: Any) -> Any:
        # pydantic would also take a unix timestamp; the contract is the ISO day only
        if isinstance(value, str) and not _ISO_DAY.fullmatch(value.strip()):
            raise ValueError("not YYYY-MM-DD")
        return value

    @classmethod
    def argument_names(cls) -> tuple[str, ...]:
        """The ``--name`` arguments of the step (platform arguments left out)."""
        return tuple(n for n in cls.model_fields if n not in cls.PLATFORM_FIELDS)

    # Mapping-style access for the step bodies (see the class docstring).
    def __getitem__(self, name: str) -> Any:
        if name not in type(self).model_fields:
            raise KeyError(name)
        return getattr(self, name)

    def __contains__(self, name: object) -> bool:
        if name not in type(self).model_fields:
            return False
        return name not in self.PLATFORM_FIELDS or getattr(self, str(name)) is not None

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self, name) if name in self else default

    def keys(self) -> Iterator[str]:
        return (n for n in type(self).model_fields if n in self)

    def items(self) -> Iterator[tuple[str, Any]]:
        return ((n, getattr(self, n)) for n in self.keys())


class _SessionParams(StepParams):
    window_days: WindowDays = Field(
        default_factory=lambda: get_settings().feature_window_days,
        description="days of events kept, ending with snapshot_date",
        json_schema_extra={"default_text": "SEG_FEATURE_WINDOW_DAYS (90)"},
    )
    session_gap_minutes: int = Field(30, ge=1, description="inactivity gap that ends a session")


class _LedgerParams(StepParams):
    ledger_table: str = Field(
        default_factory=lambda: get_settings().ledger_table,
        description="DynamoDB table of the run ledger (which version of curated is current)",
        json_schema_extra={"default_text": "SEG_LEDGER_TABLE"},
    )


class _CleanRules(_LedgerParams):
    """The clean rules' parameters: the clean step's, and the between-run assignment's (which
    cleans the new objects by the same rules without committing them)."""

    session_gap_minutes: int = Field(30, ge=1, description="inactivity gap that ends a session")
    input_zones: list[Zone] = Field(
        default_factory=lambda: ["raw", "hot"],
        min_length=1,
        description="zones whose events are cleaned together (comma-separated)",
        json_schema_extra={"default_text": "raw,hot"},
    )
    iqr_k: float = Field(
        1.5, ge=0, allow_inf_nan=False, description="IQR fence multiplier for money outliers"
    )
    fence_min_rows: int = Field(
        20,
        ge=1,
        description="fewest amounts of a money event type on a day for that day to get IQR "
        "fences (fewer are not capped)",
    )

    @field_validator("input_zones", mode="before")
    @classmethod
    def _csv(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [t.strip().lower() for t in value.split(",") if t.strip()]
        return value


class CleanParams(_CleanRules):
    """``glue_jobs/clean.py``: the raw + hot objects new since the last run -> curated events
    (the touched days, switched in atomically), quarantine, quality report."""

    rebuild: bool = Field(
        False, description="rebuild curated from every raw + hot object (after a rule change)"
    )
    compact_min_objects: int = Field(
        8,
        ge=0,
        description="after the commit, a raw/hot day of at least this many cleaned objects is "
        "compacted into one (0 or 1: never)",
    )
    retention_days: int | None = Field(
        None,
        ge=1,
        description="event days curated keeps, ending with snapshot_date; empty = all",
        json_schema_extra={"default_text": "all"},
    )
    lock_wait_seconds: int = Field(
        0, ge=0, le=7200, description="how long to wait for another clean run's ledger lock"
    )
    lock_ttl_seconds: int = Field(
        7200,
        ge=60,
        description="lock lease: a killed run's lock is taken over after this long",
    )

    @field_validator("retention_days", mode="before")
    @classmethod
    def _empty_is_all(cls, value: Any) -> Any:
        return None if isinstance(value, str) and value.strip().lower() in {"", "all"} else value


class FeaturesParams(_SessionParams, _LedgerParams):
    """``glue_jobs/features.py``: curated events -> 12 features per user for the snapshot."""


class ClusterParams(StepParams):
    """``emr_steps/cluster.py``: features -> segments, profiles and a registered MLflow model."""

    algorithm: Algorithm = Field("kmeans", description="clustering algorithm")
    k: ClusterCount | None = Field(
        None, description="K-Means clusters; empty or auto = chosen by elbow + silhouette"
    )
    k_min: ClusterCount = Field(2, description="smallest k of the sweep")
    k_max: ClusterCount = Field(DEFAULT_K_MAX, description="largest k of the sweep")
    eps: Eps | None = Field(
        None, description="DBSCAN radius in scaled units; empty or auto = the k-distance knee"
    )
    min_samples: MinSamples = Field(DEFAULT_MIN_SAMPLES, description="DBSCAN core-point neighbours")
    sample_size: int = Field(20_000, ge=100, description="rows for the k sweep and the DBSCAN fit")
    silhouette_sample: int = Field(10_000, ge=100, description="rows silhouette is computed on")
    seed: int = Field(42, description="random seed of sampling and K-Means")
    mlflow_tracking_uri: str = Field(
        default_factory=lambda: get_settings().mlflow_tracking_uri,
        description="MLflow tracking URI",
        json_schema_extra={"default_text": "SEG_MLFLOW_TRACKING_URI"},
    )
    mlflow_experiment: str = Field(
        default_factory=lambda: get_settings().mlflow_experiment,
        description="MLflow experiment name",
        json_schema_extra={"default_text": "SEG_MLFLOW_EXPERIMENT"},
    )
    register_model: bool = Field(True, description="register the model in the MLflow registry")
    match_max_distance: float = Field(
        1.0,
        gt=0,
        allow_inf_nan=False,
        description="farthest (scaled units) a segment centre may move and keep its key",
    )
    rename_distance: float = Field(
        0.5,
        ge=0,
        allow_inf_nan=False,
        description="a kept key takes the naming rules' new name only past this move",
    )
    log_features: list[FeatureName] = Field(
        default_factory=lambda: ["frequency", "monetary", "active_days"],
        description="heavy-tailed features taken as log(1 + x) before scaling "
        "(comma-separated; none = no transform)",
        json_schema_extra={"default_text": "frequency,monetary,active_days"},
    )
    sparse_share: float = Field(
        0.95,
        gt=0,
        le=1,
        allow_inf_nan=False,
        description="a feature zero for at least this share of the users (or constant) is left "
        "out of the run's model, and reported",
    )
    shrink_events: float = Field(
        10.0,
        ge=0,
        allow_inf_nan=False,
        description="pseudo-events pulling a share over n events toward the population's: "
        "(n share + m pooled) / (n + m); 0 = off",
    )
    min_segment_share: float = Field(
        0.01,
        ge=0,
        le=0.5,
        allow_inf_nan=False,
        description="smallest share of the users a published segment may hold; smaller clusters "
        "are merged into the nearest segment (K-Means) or become noise (DBSCAN)",
    )
    min_segment_users: int = Field(
        50,
        ge=1,
        description="smallest published segment in users (k-anonymity floor of the profiles)",
    )
    warm_start: bool = Field(
        False,
        description="K-Means starts from the published model version's centres (its k, read "
        "in this run's feature space) instead of a k-means++ sweep",
    )

    @field_validator("algorithm", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("k", "eps", mode="before")
    @classmethod
    def _auto(cls, value: Any) -> Any:
        return None if isinstance(value, str) and value.strip().lower() == AUTO else value

    @field_validator("log_features", mode="before")
    @classmethod
    def _feature_csv(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.strip().lower() == "none":
                return []
            return [t.strip() for t in value.split(",") if t.strip()]
        return value

    @model_validator(mode="after")
    def _sweep_order(self) -> ClusterParams:
        if self.k_min > self.k_max:
            raise ValueError(f"--k_min ({self.k_min}) must not exceed --k_max ({self.k_max})")
        return self


class AssignParams(_CleanRules):
    """``glue_jobs/assign.py`` (daily, between weekly runs): the raw + hot objects the ledger has
    not cleaned yet, cleaned by the clean step's rules (nothing committed), the features of the
    users active in them over the window ending with snapshot_date, assigned with the published
    model version -> provisional assignments of that version in the segments table."""

    window_days: WindowDays = _SessionParams.model_fields["window_days"]
    segments_table: str = Field(
        default_factory=lambda: get_settings().segments_table,
        description="DynamoDB table of the published segments (its META/CURRENT pointer names "
        "the model version users are assigned with)",
        json_schema_extra={"default_text": "SEG_SEGMENTS_TABLE"},
    )


class BacktestParams(_LedgerParams):
    """``glue_jobs/backtest.py``: a model version's segments against the 5 x 5 x 5 RFM cells on
    what their users did in the horizon after its snapshot (MLflow run + a JSON report beside
    the version's profiles).

    ``snapshot_date`` is the **end** of the horizon (the run's day: the state machine cannot do
    date arithmetic): the step takes the newest model version whose snapshot T is at least
    ``horizon_days`` earlier, and scores it on the curated events of (T, T + horizon_days].
    """

    snapshot_date: date = Field(
        default_factory=_today,
        description="the horizon's last day (the run's day): the version backtested is the "
        "newest of snapshot_date - horizon_days or earlier",
        json_schema_extra={"default_text": "today (UTC)"},
    )
    horizon_days: HorizonDays = Field(28, description="days after the model's snapshot scored")
    model_version: str | None = Field(
        None,
        description="model version to backtest; empty = the newest whose snapshot is at least "
        "horizon_days before snapshot_date",
    )
    splits: int = Field(5, ge=1, le=100, description="seeded half splits the r2 is averaged over")
    seed: int = Field(42, description="random seed of the splits")
    mlflow: bool = Field(True, description="log the figures as an MLflow run")
    mlflow_tracking_uri: str = Field(
        default_factory=lambda: get_settings().mlflow_tracking_uri,
        description="MLflow tracking URI",
        json_schema_extra={"default_text": "SEG_MLFLOW_TRACKING_URI"},
    )
    mlflow_experiment: str = Field(
        default_factory=lambda: get_settings().mlflow_experiment,
        description="MLflow experiment name",
        json_schema_extra={"default_text": "SEG_MLFLOW_EXPERIMENT"},
    )


STEP_MODELS: dict[str, type[StepParams]] = {
    "clean": CleanParams,
    "features": FeaturesParams,
    "cluster": ClusterParams,
    "assign": AssignParams,
    "backtest": BacktestParams,
}


# ---------------------------------------------------------------------------------------------
# The execution input of the state machine (JSON, typed strictly, unknown fields refused)


class ExecutionInput(BaseModel):
    """What ``StartExecution`` takes. All fields optional; ApplyDefaults holds the same defaults.

    JSON types are strict, as the ASL's Choice states are (``"90"`` is not a number), and an
    unknown field is refused: a mistyped ``min_sample`` would otherwise run with the default.
    """

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, title="segmentation-pipeline execution input"
    )

    algorithm: Algorithm = Field("kmeans", description="clustering algorithm")
    k: Literal["auto"] | ClusterCount = Field(
        AUTO,
        description="K-Means clusters; auto = the cluster step chooses k by elbow + silhouette "
        "over 2..k_max",
    )
    k_max: ClusterCount = Field(DEFAULT_K_MAX, description="largest k tried when k is auto")
    eps: Literal["auto"] | Eps = Field(
        AUTO, description="DBSCAN radius in scaled units; auto = the k-distance knee"
    )
    min_samples: MinSamples = Field(DEFAULT_MIN_SAMPLES, description="DBSCAN core-point neighbours")
    window_days: WindowDays = Field(
        DEFAULT_WINDOW_DAYS, description="days of curated history turned into features"
    )
    rebuild: bool = Field(
        False,
        description="rebuild curated from every raw + hot object instead of cleaning only the "
        "new ones (after a changed cleaning rule)",
    )
    warm_start: bool = Field(
        False,
        description="K-Means starts from the published version's segments (their k and "
        "centres) instead of a fresh k-means++ sweep",
    )
    drift_gate: Literal["alert", "hold"] = Field(
        "alert",
        description="a crossed drift/quality threshold: alert = publish and notify; hold = load "
        "the version, notify, and keep serving the previous one until `segmentation release`",
    )
    backtest_horizon_days: Annotated[int, Field(ge=0, le=MAX_HORIZON_DAYS)] = Field(
        0,
        description="after publish, backtest the newest model version at least this many days "
        "older than snapshot_date on what its users did in those days (segments vs RFM, "
        "MLflow + a report beside its profiles); 0 = no backtest",
    )
    snapshot_date: str = Field(
        default_factory=lambda: _today().isoformat(),
        description="day the features describe",
        json_schema_extra={"default_text": "the execution's start day (UTC)", "format": "date"},
    )
    run_id: str = Field(
        default_factory=_run_id,
        min_length=1,
        description="pipeline run id (quality report, MLflow tag)",
        json_schema_extra={"default_text": "the execution name"},
    )

    @field_validator("snapshot_date")
    @classmethod
    def _real_day(cls, value: str) -> str:
        if not _ISO_DAY.fullmatch(value):
            raise ValueError("not YYYY-MM-DD")
        date.fromisoformat(value)  # 2026-02-30 is refused here
        return value


class InvalidInput(ValueError):
    """The execution input breaks the model (the class name is the error the state machine
    reports); the message names the field and what is allowed."""


def validate_execution_input(data: Any) -> ExecutionInput:
    """The typed execution input, or :class:`InvalidInput` naming the (first) offending field."""
    if not isinstance(data, Mapping):
        raise InvalidInput(f"the execution input must be a JSON object, got {_json(data)}")
    fields = list(ExecutionInput.model_fields)
    unknown = sorted(str(k) for k in data if k not in ExecutionInput.model_fields)
    if unknown:
        raise InvalidInput(
            f"unknown field(s) {', '.join(unknown)}; expected some of {', '.join(fields)}"
        )
    try:
        return ExecutionInput.model_validate(dict(data))
    except ValidationError as exc:
        name = str(exc.errors()[0]["loc"][0])
        raise InvalidInput(
            f"{name}: got {_json(data[name])}, expected {expected(ExecutionInput, name)}"
        ) from None


def _json(value: Any) -> str:
    return json.dumps(value, default=str)


# ---------------------------------------------------------------------------------------------
# Describing a field (error messages, CLI help, docs table): derived from the annotations


_BOUND_TYPES = {
    "gt": annotated_types.Gt,
    "ge": annotated_types.Ge,
    "lt": annotated_types.Lt,
    "le": annotated_types.Le,
}
_BOUND_WORDS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def bounds(annotation: Any, info: FieldInfo | None = None) -> dict[str, float]:
    """``{"ge": 2, "le": 50}``-style numeric bounds of a field, from its metadata or from the
    ``Annotated`` member of a union (``Literal["auto"] | ClusterCount``)."""
    metadata = list(info.metadata) if info is not None else []
    for member in union_members(annotation):
        if typing.get_origin(member) is Annotated:
            for meta in member.__metadata__:
                metadata += getattr(meta, "metadata", [meta])  # a FieldInfo carries a list
    return {
        kind: getattr(meta, kind)
        for meta in metadata
        for kind, cls in _BOUND_TYPES.items()
        if isinstance(meta, cls)
    }


def union_members(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) in (Union, types.UnionType):
        return [m for a in typing.get_args(annotation) for m in union_members(a)]
    return [annotation]


def base_type(member: Any) -> Any:
    return typing.get_args(member)[0] if typing.get_origin(member) is Annotated else member


def literals(annotation: Any) -> tuple[Any, ...]:
    """The literal values a field allows (``("kmeans", "dbscan")``), list items included."""
    out: list[Any] = []
    for member in union_members(annotation):
        base = base_type(member)
        if typing.get_origin(base) is Literal:
            out += typing.get_args(base)
        elif typing.get_origin(base) is list:
            out += literals(typing.get_args(base)[0])
    return tuple(out)


def _bound_text(b: dict[str, float]) -> str:
    return " and ".join(f"{_BOUND_WORDS[k]} {b[k]:g}" for k in _BOUND_WORDS if k in b)


def expected(model: type[BaseModel], name: str) -> str:
    """What field ``name`` of ``model`` accepts, in words: ``an integer >= 2 and <= 50``."""
    info = model.model_fields[name]
    b = bounds(info.annotation, info)
    described: list[str] = []
    for member in union_members(info.annotation):
        base = base_type(member)
        if base is type(None):
            continue
        origin = typing.get_origin(base)
        if origin is Literal:
            values = typing.get_args(base)
            if model is ExecutionInput:
                described.append(" or ".join(_json(v) for v in values))
            else:
                described.append("one of " + ", ".join(map(str, values)))
        elif origin is list:
            described.append(
                "a comma-separated list of " + ", ".join(literals(typing.get_args(base)[0]))
            )
        else:
            word = {
                int: "an integer",
                float: "a number",
                date: "a date YYYY-MM-DD",
                bool: "true or false",
            }.get(base, "text")
            if base is str and name == "snapshot_date":
                word = '"YYYY-MM-DD"'
            elif base is str and model is ExecutionInput:
                word = "a string"
            if b and base in (int, float):
                word += " " + _bound_text(b)
            described.append(word)
    return " or ".join(described)


def default_text(model: type[BaseModel], name: str) -> str:
    """The default of a field as a reader should see it (factories named, not called)."""
    info = model.model_fields[name]
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if "default_text" in extra:
        return str(extra["default_text"])
    if info.default is None:
        return "empty"
    if model is ExecutionInput:
        return _json(info.default)
    return str(info.default).lower() if isinstance(info.default, bool) else str(info.default)


def markdown_table(model: type[BaseModel] = ExecutionInput) -> str:
    """The docs table of ``model``'s fields (docs/orchestration.md holds the execution input's)."""
    rows = ["| field | default | allowed | meaning |", "|---|---|---|---|"]
    for name, info in model.model_fields.items():
        if name in getattr(model, "PLATFORM_FIELDS", ()):
            continue
        default = default_text(model, name)
        if info.default is not None and "default_text" not in (info.json_schema_extra or {}):
            default = f"`{default}`"
        rows.append(f"| `{name}` | {default} | {expected(model, name)} | {info.description} |")
    return "\n".join(rows)


def json_schema() -> dict[str, Any]:
    """The JSON Schema document of the parameters: the execution input at the top (the console's
    form), each step's arguments under ``$defs``."""
    schema = ExecutionInput.model_json_schema()
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    defs = schema.setdefault("$defs", {})
    for step, model in STEP_MODELS.items():
        defs[f"{step}_step"] = model.model_json_schema()
    return schema
