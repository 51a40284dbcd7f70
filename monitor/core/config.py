"""Settings from monitor.toml and the environment.

Lookup order for the file: an explicit path (``--config``), then ``$MONITOR_CONFIG``,
then ``./monitor.toml``, else built-in defaults. Every problem is reported as one
ConfigError naming the key, e.g.
``monitor.toml: models[2].task must be one of binary, multiclass, regression (got 'foo')``.

Paths, never against the working directory unless given on the command line:
- ``data_dir`` is relative to the config file's folder (without a file: the working
  directory). ``--data-dir``, else ``$MONITOR_DATA_DIR``, replaces it; those two are
  relative to the working directory, as any path typed in a shell.
- ``models[].reference`` is relative to the data directory in effect (after those
  overrides): reference data belongs with the logs and moves with them.
- Not configurable, always under the data directory: the logs (``logs/``), the state
  database (``state.sqlite``), uploaded datasets (``uploads/``, recorded relative to the
  state database's folder) and ``rollbacks.json``.
A missing reference file is no config error (the other views still work): `reference_file`
raises an InputError naming the key, the resolved path and what to do.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from monitor.core.errors import ConfigError, InputError

Task = Literal["binary", "multiclass", "regression"]
TASKS: Final[tuple[Task, ...]] = ("binary", "multiclass", "regression")
FEATURE_KINDS: Final = ("numeric", "categorical", "binary")
CONFIG_ENV: Final = "MONITOR_CONFIG"
DATA_DIR_ENV: Final = "MONITOR_DATA_DIR"
DEFAULT_CONFIG_NAME: Final = "monitor.toml"
DEFAULT_DATA_DIR: Final = "data"
DEFAULT_MAX_UPLOAD_MB: Final = 200
SECTIONS: Final = {"data_dir", "models", "thresholds", "alerts", "dashboard", "uploads", "exporter"}


@dataclass(frozen=True)
class Thresholds:
    """Default thresholds; alert rules and page verdicts start from these."""

    error_rate: float = 0.05
    latency_p95_ms: float = 500.0
    missing_share: float = 0.10
    new_category_share: float = 0.05
    """Values of a categorical feature that are in neither the reference nor the config."""
    psi: float = 0.2
    drift_share: float = 0.5
    accuracy_drop: float = 0.05
    fairness_tau: float = 0.8


@dataclass(frozen=True)
class ModelConfig:
    """What the monitor knows about one model beyond what its logs say."""

    id: str
    task: Task = "binary"
    positive_label: str | None = "1"
    sensitive_features: tuple[str, ...] = ()
    feature_ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    feature_categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    feature_kinds: Mapping[str, str] = field(default_factory=dict)
    """Overrides of the detected drift kind per feature: numeric, categorical or binary."""
    reference: Path | None = None
    reference_origin: str = field(default="", compare=False)
    """Where `reference` was set, for the error when the file is missing (e.g.
    `models[0].reference = "ref.parquet" in /srv/monitor.toml, relative to the data
    directory /srv/data`); empty for a model made in code. Not part of equality."""
    label_column: str = "label"
    prediction_column: str = "prediction"
    score_column: str | None = "probability"
    baseline: Mapping[str, float] = field(default_factory=dict)
    """Configured baseline per performance metric (e.g. accuracy = 0.86); where set, it
    replaces the reference dataset's value as the baseline."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    models: tuple[ModelConfig, ...] = ()
    thresholds: Thresholds = Thresholds()
    source: Path | None = None
    """The file these settings came from, or None for built-in defaults."""
    alerts: Mapping[str, Any] = field(default_factory=dict)
    """The `[alerts]` table as written (rules, webhook); see monitor.findings.rules_config."""
    exporter: Mapping[str, Any] = field(default_factory=dict)  # [exporter]: monitor.exporter
    read_only: bool = False
    """`[dashboard] read_only = true` hides every action button (acknowledge, rollback...)."""
    max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB
    """`[uploads] max_mb`: the largest dataset file accepted (Streamlit's own limit is
    server.maxUploadSize in .streamlit/config.toml; the smaller of the two applies)."""

    def model(self, model_id: str) -> ModelConfig:
        """The configured model, or defaults for a model seen only in the logs."""
        for model in self.models:
            if model.id == model_id:
                return model
        return ModelConfig(id=model_id)


def load_settings(
    config_path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    data_dir: str | Path | None = None,
) -> Settings:
    """Find, read and validate the configuration (see the module docstring for the order
    and the paths). `data_dir` (`--data-dir`) replaces the data directory, before
    `$MONITOR_DATA_DIR` and the file."""
    environ = os.environ if env is None else env
    path = _config_file(config_path, environ)
    raw: dict[str, Any] = _read_toml(path) if path is not None else {}
    base = path.parent if path is not None else Path.cwd()
    override = data_dir or environ.get(DATA_DIR_ENV)
    chosen = _resolve(Path(override), Path.cwd()) if override else None
    return parse_settings(raw, base_dir=base, source=path, data_dir=chosen)


def _config_file(explicit: str | Path | None, environ: Mapping[str, str]) -> Path | None:
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        return path
    from_env = environ.get(CONFIG_ENV)
    if from_env:
        path = Path(from_env)
        if not path.is_file():
            raise ConfigError(f"{CONFIG_ENV}={from_env} does not name an existing file")
        return path
    local = Path.cwd() / DEFAULT_CONFIG_NAME
    return local if local.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None


def parse_settings(
    raw: Mapping[str, Any],
    *,
    base_dir: Path,
    source: Path | None = None,
    data_dir: Path | None = None,
) -> Settings:
    """Validate a parsed TOML document into Settings; relative paths in it are relative
    to `base_dir` (the file's folder), references to the data directory: `data_dir`
    when given (an override), else the file's `data_dir`."""
    where = source.name if source is not None else DEFAULT_CONFIG_NAME
    _reject_unknown(raw, SECTIONS, where, "")
    configured = _resolve(Path(_get(raw, "data_dir", str, where, DEFAULT_DATA_DIR)), base_dir)
    data_dir = data_dir or configured
    models_raw = raw.get("models", [])
    if not isinstance(models_raw, list):
        raise ConfigError(f"{where}: models must be an array of tables ([[models]])")
    file = str(source.resolve()) if source is not None else where
    models = tuple(
        _parse_model(item, data_dir, where, f"models[{i}]", file)
        for i, item in enumerate(models_raw)
    )
    ids = [m.id for m in models]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ConfigError(f"{where}: models: id {duplicates[0]!r} is defined twice")
    return Settings(
        data_dir=data_dir,
        models=models,
        thresholds=_parse_thresholds(raw.get("thresholds", {}), where),
        source=source,
        alerts=_table(raw, "alerts", where),
        read_only=_parse_read_only(_table(raw, "dashboard", where), where),
        max_upload_mb=_parse_max_upload(_table(raw, "uploads", where), where),
        exporter=_table(raw, "exporter", where),
    )


def _table(raw: Mapping[str, Any], name: str, where: str) -> dict[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {name} must be a table ([{name}])")
    return value


def _parse_read_only(raw: Mapping[str, Any], where: str) -> bool:
    _reject_unknown(raw, {"read_only"}, where, "dashboard.")
    value = raw.get("read_only", False)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: dashboard.read_only must be true or false")
    return value


def _parse_max_upload(raw: Mapping[str, Any], where: str) -> int:
    _reject_unknown(raw, {"max_mb"}, where, "uploads.")
    value = raw.get("max_mb", DEFAULT_MAX_UPLOAD_MB)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where}: uploads.max_mb must be a whole number of megabytes >= 1")
    return value


def _parse_thresholds(raw: Any, where: str) -> Thresholds:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: thresholds must be a table")
    defaults = Thresholds()
    names = {f.name for f in dataclasses.fields(Thresholds)}
    _reject_unknown(raw, names, where, "thresholds.")
    values: dict[str, float] = {}
    for name in names:
        if name in raw:
            value = raw[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"{where}: thresholds.{name} must be a number")
            if not math.isfinite(value) or value < 0:
                raise ConfigError(f"{where}: thresholds.{name} must be a finite number >= 0")
            values[name] = float(value)
    return dataclasses.replace(defaults, **values)


_MODEL_KEYS: Final = {
    "id",
    "task",
    "positive_label",
    "sensitive_features",
    "feature_ranges",
    "feature_categories",
    "feature_kinds",
    "reference",
    "label_column",
    "prediction_column",
    "score_column",
    "baseline",
}


def _parse_model(raw: Any, data_dir: Path, where: str, key: str, file: str) -> ModelConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: {key} must be a table")
    _reject_unknown(raw, _MODEL_KEYS, where, f"{key}.")
    model_id = _get(raw, "id", str, where, None, key)
    if not model_id.strip():
        raise ConfigError(f"{where}: {key}.id must not be empty")
    task = _get(raw, "task", str, where, "binary", key)
    if task not in TASKS:
        raise ConfigError(f"{where}: {key}.task must be one of {', '.join(TASKS)} (got {task!r})")
    positive = raw.get("positive_label", None if task == "regression" else "1")
    if positive is not None and (
        isinstance(positive, bool) or not isinstance(positive, (str, int))
    ):
        raise ConfigError(f"{where}: {key}.positive_label must be a string or an integer")
    sensitive = raw.get("sensitive_features", [])
    if not isinstance(sensitive, list) or not all(isinstance(s, str) for s in sensitive):
        raise ConfigError(f"{where}: {key}.sensitive_features must be a list of strings")
    reference = raw.get("reference")
    if reference is not None and not isinstance(reference, str):
        raise ConfigError(f"{where}: {key}.reference must be a path string")
    score = raw.get("score_column", "probability")
    if not isinstance(score, str):
        raise ConfigError(f"{where}: {key}.score_column must be a string")
    set_at = f"{key}.reference = {reference!r} in {file}"
    return ModelConfig(
        id=model_id,
        task=task,
        positive_label=None if positive is None else str(positive),
        sensitive_features=tuple(sensitive),
        feature_ranges=_parse_ranges(raw.get("feature_ranges", {}), where, key),
        feature_categories=_parse_categories(raw.get("feature_categories", {}), where, key),
        feature_kinds=_parse_kinds(raw.get("feature_kinds", {}), where, key),
        reference=_resolve(Path(reference), data_dir) if reference else None,
        reference_origin=f"{set_at}, relative to the data directory {data_dir}"
        if reference
        else "",
        label_column=_get(raw, "label_column", str, where, "label", key),
        prediction_column=_get(raw, "prediction_column", str, where, "prediction", key),
        score_column=score or None,
        baseline=_parse_baseline(raw.get("baseline", {}), where, key),
    )


def _parse_baseline(raw: Any, where: str, key: str) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: {key}.baseline must be a table of metric = number")
    baseline: dict[str, float] = {}
    for name, value in raw.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise ConfigError(f"{where}: {key}.baseline.{name} must be a finite number")
        baseline[name] = float(value)
    return baseline


def _parse_ranges(raw: Any, where: str, key: str) -> dict[str, tuple[float, float]]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: {key}.feature_ranges must be a table")
    ranges: dict[str, tuple[float, float]] = {}
    for name, bounds in raw.items():
        ok = (
            isinstance(bounds, list)
            and len(bounds) == 2
            and all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds)
        )
        if not ok or bounds[0] > bounds[1]:
            raise ConfigError(
                f"{where}: {key}.feature_ranges.{name} must be [low, high] with low <= high"
            )
        ranges[name] = (float(bounds[0]), float(bounds[1]))
    return ranges


def _parse_categories(raw: Any, where: str, key: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: {key}.feature_categories must be a table")
    categories: dict[str, tuple[str, ...]] = {}
    for name, values in raw.items():
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ConfigError(f"{where}: {key}.feature_categories.{name} must be a list of strings")
        categories[name] = tuple(values)
    return categories


def _parse_kinds(raw: Any, where: str, key: str) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(v in FEATURE_KINDS for v in raw.values()):
        raise ConfigError(
            f"{where}: {key}.feature_kinds must map feature names to one of "
            + ", ".join(FEATURE_KINDS)
        )
    return {str(name): str(kind) for name, kind in raw.items()}


def _get(
    raw: Mapping[str, Any],
    name: str,
    kind: type[str],
    where: str,
    default: str | None,
    prefix: str = "",
) -> str:
    label = f"{prefix}.{name}" if prefix else name
    if name not in raw:
        if default is None:
            raise ConfigError(f"{where}: {label} is required")
        return default
    value = raw[name]
    if not isinstance(value, kind):
        raise ConfigError(f"{where}: {label} must be a {kind.__name__}")
    return value


def _reject_unknown(raw: Mapping[str, Any], allowed: set[str], where: str, prefix: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {prefix}{unknown[0]} (allowed: {', '.join(sorted(allowed))})"
        )


def reference_file(model: ModelConfig) -> Path:
    """The model's reference file. InputError when there is none, or when it is missing:
    which setting named it, where it resolved to and what to do."""
    if model.reference is None:
        raise InputError(f"model {model.id!r} has no reference dataset in the config")
    problem = missing_reference(model)
    if problem is not None:
        raise InputError(problem)
    return model.reference


def missing_reference(model: ModelConfig) -> str | None:
    """Why the model's configured reference file cannot be found, or None (no reference
    configured, or the file is there)."""
    path = model.reference
    if path is None or path.is_file():
        return None
    origin = f" (set by {model.reference_origin})" if model.reference_origin else ""
    return (
        f"model {model.id!r}: reference file {path} does not exist{origin}; put the file "
        "there, or point the setting at it (an absolute path, or one relative to the data "
        "directory)"
    )


def _resolve(path: Path, base: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else (base / path).resolve()
