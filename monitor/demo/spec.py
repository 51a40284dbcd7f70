"""Fixed facts about the two demo models, shared by the generators and the config text."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final, Literal

FeatureType = Literal["double", "bool", "str"]

CREDIT_ID: Final = "credit-risk"
DEMAND_ID: Final = "demand-forecast"

EMPLOYMENT_TYPES: Final = ("salaried", "self_employed", "unemployed", "retired")
NEW_EMPLOYMENT_TYPE: Final = "gig_worker"
REGIONS: Final = ("north", "south", "east", "west", "central")
GENDERS: Final = ("female", "male", "nonbinary")
AGE_GROUPS: Final = ("18-25", "26-40", "41-60", "60+")
STORE_IDS: Final = tuple(f"store-{i:02d}" for i in range(1, 13))

ERROR_MESSAGES: Final = (
    "TimeoutError: feature store did not answer within 2000 ms",
    "ConnectionError: model server returned HTTP 503",
    "ValueError: input contains NaN in feature 'price'",
)


@dataclass(frozen=True)
class ModelSpec:
    model_id: str
    task: Literal["binary", "regression"]
    id_prefix: str
    traffic_share: float
    features: tuple[tuple[str, FeatureType], ...]
    versions: tuple[str, ...]
    feature_ranges: tuple[tuple[str, float, float], ...]
    feature_categories: tuple[tuple[str, tuple[str, ...]], ...]
    sensitive_features: tuple[str, ...] = ()
    positive_label: str | None = None
    score_column: str | None = None

    @property
    def hosts(self) -> tuple[str, str]:
        return (f"{self.model_id}-a", f"{self.model_id}-b")

    @property
    def reference_path(self) -> str:
        return f"reference/{self.model_id}.parquet"


CREDIT: Final = ModelSpec(
    model_id=CREDIT_ID,
    task="binary",
    id_prefix="cr-",
    traffic_share=0.7,
    features=(
        ("income", "double"),
        ("age", "double"),
        ("loan_amount", "double"),
        ("credit_score", "double"),
        ("debt_ratio", "double"),
        ("employment_type", "str"),
        ("region", "str"),
        ("gender", "str"),
        ("age_group", "str"),
    ),
    versions=("v1", "v2", "v3"),
    feature_ranges=(
        ("income", 0.0, 1_000_000.0),
        ("age", 18.0, 100.0),
        ("loan_amount", 0.0, 500_000.0),
        ("credit_score", 300.0, 850.0),
        ("debt_ratio", 0.0, 1.5),
    ),
    feature_categories=(
        ("employment_type", EMPLOYMENT_TYPES),
        ("region", REGIONS),
        ("gender", GENDERS),
        ("age_group", AGE_GROUPS),
    ),
    sensitive_features=("gender", "age_group"),
    positive_label="1",
    score_column="probability",
)

DEMAND: Final = ModelSpec(
    model_id=DEMAND_ID,
    task="regression",
    id_prefix="df-",
    traffic_share=0.3,
    features=(
        ("temperature", "double"),
        ("day_of_week", "double"),
        ("store_id", "str"),
        ("promo", "bool"),
        ("price", "double"),
    ),
    versions=("v1", "v2"),
    feature_ranges=(
        ("temperature", -30.0, 50.0),
        ("day_of_week", 0.0, 6.0),
        ("price", 0.5, 100.0),
    ),
    feature_categories=(("store_id", STORE_IDS),),
)

MODELS: Final = (CREDIT, DEMAND)


def _toml_string(text: str) -> str:
    # A JSON string literal is a valid TOML basic string (same escapes).
    return json.dumps(text)


def _toml_strings(items: tuple[str, ...]) -> str:
    return "[" + ", ".join(_toml_string(i) for i in items) + "]"


def _model_toml(spec: ModelSpec) -> list[str]:
    lines = [
        "[[models]]",
        f"id = {_toml_string(spec.model_id)}",
        f"task = {_toml_string(spec.task)}",
    ]
    if spec.positive_label is not None:
        lines.append(f"positive_label = {_toml_string(spec.positive_label)}")
    lines += [
        f"sensitive_features = {_toml_strings(spec.sensitive_features)}",
        f"reference = {_toml_string(spec.reference_path)}",
        'label_column = "label"',
        'prediction_column = "prediction"',
    ]
    if spec.score_column is not None:
        lines.append(f"score_column = {_toml_string(spec.score_column)}")
    lines.append("[models.feature_ranges]")
    lines += [f"{name} = [{low!r}, {high!r}]" for name, low, high in spec.feature_ranges]
    lines.append("[models.feature_categories]")
    lines += [f"{name} = {_toml_strings(values)}" for name, values in spec.feature_categories]
    return lines


def demo_config_toml(data_dir_value: str) -> str:
    """monitor.toml text for the demo models, with `data_dir = <data_dir_value>`.

    The demo writes it into its data directory with ``data_dir = "."``; the
    repository's root monitor.toml is the same text with ``data_dir = "data"``.
    """
    lines = [
        "# Models of the demo data set (monitor demo). Paths are relative to data_dir.",
        f"data_dir = {_toml_string(data_dir_value)}",
    ]
    for spec in MODELS:
        lines.append("")
        lines += _model_toml(spec)
    lines += ["", *_ALERTS_TOML]
    return "\n".join(lines) + "\n"


_ALERTS_TOML: Final = (
    "[alerts]",
    "# The demo's logs are historical: evaluate each model as of its newest prediction.",
    'clock = "data"',
    "",
    "# The demo's latency spike (p95 about 400 ms) stays under the default 500 ms.",
    "[[alerts.rules]]",
    'id = "latency_p95"',
    "threshold = 250.0",
    "",
    "# A day of demand-forecast holds one weekday, so a daily PSI of day_of_week against",
    "# the week-long reference is always huge: daily PSI for credit-risk only, weekly PSI",
    "# for demand-forecast.",
    "[[alerts.rules]]",
    'id = "feature_psi"',
    'labels = { model = "credit-risk" }',
    "",
    "[[alerts.rules]]",
    'id = "feature_psi_weekly"',
    'metric = "psi"',
    'comparator = ">"',
    "threshold = 0.2",
    'window = "7d"',
    'severity = "warning"',
    'labels = { model = "demand-forecast" }',
)
