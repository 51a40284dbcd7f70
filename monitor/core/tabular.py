# ruff: noqa: S608  (SQL built only from constants and quote_identifier; values are parameters)
"""Tables to compare: a file, a model's logs in a window, a model's reference dataset.

Each becomes a `Relation`: the text of one SELECT (values bound as parameters) whose
columns have safe aliases (`c0`, `c1`, ... for features; `t_prediction`, `t_score`,
`t_label` for the model's outputs and labels; `t_time` for log timestamps), plus what
each alias means (its presented name and type). Downstream SQL (drift, quality,
fairness) only ever sees these aliases, so hostile column names are quoted exactly once,
here. Log features ("features.<key>") are presented by their plain key.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import duckdb

from monitor.core import views
from monitor.core.catalog import Window
from monitor.core.config import ModelConfig, reference_file
from monitor.core.errors import InputError
from monitor.core.reconcile import Reconciled
from monitor.core.sqlutil import quote_identifier

SqlType = Literal["DOUBLE", "BOOLEAN", "VARCHAR"]
Role = Literal["prediction", "score", "label"]
ROLES: tuple[Role, ...] = ("prediction", "score", "label")
FILE_FORMATS = {".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".jsonl": "json"}
FILE_FORMATS |= {".ndjson": "json", ".json": "json"}
_NUMERIC_TYPES = (
    "DOUBLE",
    "FLOAT",
    "REAL",
    "INTEGER",
    "BIGINT",
    "SMALLINT",
    "TINYINT",
    "HUGEINT",
    "UBIGINT",
    "UINTEGER",
    "USMALLINT",
    "UTINYINT",
    "UHUGEINT",
    "DECIMAL",
)


class Runner(Protocol):
    """Where SQL runs: a `LogStore`, or a `FileDatabase` for files outside a data dir."""

    def execute(
        self, sql: str, params: Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]: ...

    def fetch_arrays(self, sql: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]: ...


class FileDatabase:
    """An in-memory DuckDB connection for comparing files (the CLI's file form)."""

    def __init__(self) -> None:
        self._con = duckdb.connect(":memory:")
        self._con.execute("SET GLOBAL TimeZone = 'UTC'")
        self._con.execute(views.MACROS)
        self._lock = threading.Lock()
        self._tables = 0

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        cursor = self._con.cursor()
        try:
            return cursor.execute(sql, dict(params or {})).fetchall()
        finally:
            cursor.close()

    def fetch_arrays(self, sql: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        cursor = self._con.cursor()
        try:
            arrays: dict[str, Any] = cursor.execute(sql, dict(params or {})).fetchnumpy()
            return arrays
        finally:
            cursor.close()

    def materialize(self, select: str, params: Mapping[str, Any]) -> str:
        """Copy a (slow to parse) CSV/JSON read into an in-memory table; returns its name."""
        with self._lock:
            self._tables += 1
            name = f"_file_{self._tables}"
        cursor = self._con.cursor()
        try:
            cursor.execute("CREATE TABLE " + name + " AS " + select, dict(params))
        finally:
            cursor.close()
        return name

    def close(self) -> None:
        self._con.close()


@dataclass(frozen=True)
class TabColumn:
    name: str
    """The name shown to users (a log feature's plain key)."""
    alias: str
    """The safe column name in the relation's SELECT."""
    sql_type: SqlType
    source_type: str
    """The type as read (e.g. BIGINT, DECIMAL(10,2)); `sql_type` is what it is cast to."""


@dataclass(frozen=True)
class Relation:
    label: str
    sql: str
    params: Mapping[str, Any]
    features: tuple[TabColumn, ...]
    targets: Mapping[Role, TabColumn] = field(default_factory=dict)
    time_alias: str | None = None
    cache_key: str = ""
    """Changes when the data may have changed (file path + mtime, or store version + window)."""
    unsupported: tuple[tuple[str, str], ...] = ()
    """Columns left out: (name, type), e.g. dates, lists."""
    kinds: Mapping[str, str] = field(default_factory=dict)
    """Kind overrides from config (feature name -> numeric / categorical / binary)."""
    id_alias: str | None = None
    """The prediction id column (logs), for duplicate checks."""
    schema: tuple[Reconciled, ...] = ()
    """Its pair's columns read two ways, and how each is compared (tabular_reconcile)."""
    reconciled: bool = False
    """Cast to the types decided with the other side of its pair."""

    def feature(self, name: str) -> TabColumn | None:
        for column in self.features:
            if column.name == name:
                return column
        return None


def normalize_type(source_type: str) -> SqlType | None:
    upper = source_type.upper()
    if upper == "BOOLEAN":
        return "BOOLEAN"
    if upper == "VARCHAR" or upper.startswith("ENUM"):
        return "VARCHAR"
    if any(upper == t or upper.startswith(t + "(") for t in _NUMERIC_TYPES):
        return "DOUBLE"
    return None


def _cast(source: str, source_type: str, sql_type: SqlType) -> str:
    column = quote_identifier(source)
    if source_type.upper() == sql_type:
        return column
    return f"TRY_CAST({column} AS {sql_type})"


def _text(expr: str, sql_type: SqlType) -> str:
    """Canonical text of a prediction/label value (1.0 -> '1'), as the log views hold it."""
    if sql_type == "DOUBLE":
        return f"monitor_number_text(CAST({expr} AS DOUBLE))"
    return f"CAST({expr} AS VARCHAR)"


def _describe(runner: Runner, select: str, params: Mapping[str, Any]) -> list[tuple[str, str]]:
    rows = runner.execute("DESCRIBE " + select, params)
    return [(str(r[0]), str(r[1])) for r in rows]


def file_relation(
    runner: Runner,
    path: Path,
    *,
    features: Sequence[str] | None = None,
    model: ModelConfig | None = None,
    time: str | None = None,
) -> Relation:
    """A CSV, Parquet or JSONL file. With `model`, its label/prediction/score columns are
    targets rather than features, and its `feature_kinds` apply. `time`: a date or time
    column read as the rows' time `t_time` (naive = UTC; NULL where text is not a time)."""
    path = Path(path)
    fmt = FILE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"{path}: unknown file type (use .csv, .parquet or .jsonl)")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    reader = {
        "csv": "read_csv($r_path)",
        "parquet": "read_parquet($r_path)",
        "json": "read_json($r_path, format='newline_delimited')",
    }[fmt]
    params: dict[str, Any] = {"r_path": str(path)}
    source = f"SELECT * FROM {reader}"
    try:
        if fmt != "parquet" and isinstance(runner, FileDatabase):
            source = "SELECT * FROM " + runner.materialize(source, params)
            params = {}
        described = _describe(runner, source, params)
        rows = runner.execute(select_sql(["count(*)"], source), params)[0][0]
    except duckdb.Error as exc:
        message = " ".join(str(exc).split())[:300]
        raise InputError(f"{path}: cannot read it as {fmt.upper()}: {message}") from None
    if not described:
        raise InputError(f"{path}: no columns")
    if not rows:
        raise InputError(f"{path}: the file holds no rows")
    stat = path.stat()
    key = hashlib.sha256(f"{path.resolve()}|{stat.st_mtime_ns}|{stat.st_size}".encode()).hexdigest()
    roles: dict[str, Role] = {}
    if model is not None:
        roles = {model.label_column: "label", model.prediction_column: "prediction"}
        if model.score_column:
            roles[model.score_column] = "score"
    wanted = None if features is None else list(features)
    if wanted is not None:
        missing = [f for f in wanted if f not in {name for name, _ in described}]
        if missing:
            raise InputError(f"{path}: no column {missing[0]!r}")
    selected: list[str] = []
    columns: list[TabColumn] = []
    targets: dict[Role, TabColumn] = {}
    unsupported: list[tuple[str, str]] = []
    for name, source_type in described:
        if name == time:
            selected.append(f"TRY_CAST({quote_identifier(name)} AS TIMESTAMPTZ) AS t_time")
            continue
        sql_type = normalize_type(source_type)
        role = roles.get(name)
        if role is not None and sql_type is not None:
            alias = f"t_{role}"
            expr = _cast(name, source_type, sql_type)
            if role != "score" and model is not None and model.task != "regression":
                expr, sql_type = _text(expr, sql_type), "VARCHAR"
            selected.append(f"{expr} AS {alias}")
            targets[role] = TabColumn(name, alias, sql_type, source_type)
            continue
        if wanted is not None and name not in wanted:
            continue
        if role is not None:
            continue
        if sql_type is None:
            unsupported.append((name, source_type))
            continue
        alias = f"c{len(columns)}"
        selected.append(f"{_cast(name, source_type, sql_type)} AS {alias}")
        columns.append(TabColumn(name, alias, sql_type, source_type))
    if not selected:
        raise InputError(f"{path}: no columns of a supported type (numbers, text, booleans)")
    sql = "SELECT " + ", ".join(selected) + f" FROM ({source})"
    kinds = dict(model.feature_kinds) if model is not None else {}
    time_alias = None if time is None else "t_time"
    return Relation(
        str(path), sql, params, tuple(columns), targets, time_alias, key, tuple(unsupported), kinds
    )


def reference_relation(runner: Runner, model: ModelConfig) -> Relation:
    """The model's reference (training) dataset from config (InputError naming the
    setting when the file is missing: `config.reference_file`)."""
    return file_relation(runner, reference_file(model), model=model)


class LogRunner(Runner, Protocol):
    """A runner over the log views (a `LogStore`)."""

    @property
    def version(self) -> str: ...

    @property
    def features(self) -> tuple[views.FeatureColumn, ...]: ...


def log_relation(
    store: LogRunner,
    model: ModelConfig,
    window: Window,
    versions: Sequence[str] = (),
    *,
    labels: bool = False,
    features: Sequence[str] | None = None,
) -> Relation:
    """One model's predictions in a window (both ends inclusive). Features that hold no
    value for this model in the window (other models' features) are left out. With
    `labels`, reads the `labeled` view (joins the feedback) to add the label."""
    params: dict[str, Any] = {
        "r_model": model.id,
        "r_start": window.start,
        "r_end": window.end,
        "r_versions": list(versions) if versions else None,
    }
    where = (
        " WHERE model_id = $r_model AND timestamp BETWEEN $r_start AND $r_end"
        " AND ($r_versions IS NULL OR list_contains($r_versions, coalesce(model_version, '')))"
    )
    candidates = [
        f for f in store.features if features is None or f.key in features or f.column in features
    ]
    present: list[views.FeatureColumn] = []
    if candidates:
        counts = store.execute(
            "SELECT "
            + ", ".join(f"count({quote_identifier(f.column)})" for f in candidates)
            + " FROM predictions"
            + where,
            params,
        )[0]
        present = [f for f, n in zip(candidates, counts, strict=True) if n]
    columns = tuple(
        TabColumn(f.key, f"c{i}", _sql_type(f.sql_type), f.sql_type) for i, f in enumerate(present)
    )
    regression = model.task == "regression"
    targets: dict[Role, TabColumn] = {
        "prediction": TabColumn(
            "prediction",
            "t_prediction",
            "DOUBLE" if regression else "VARCHAR",
            "DOUBLE" if regression else "VARCHAR",
        ),
        "score": TabColumn("probability", "t_score", "DOUBLE", "DOUBLE"),
    }
    selected = [
        f"{quote_identifier(f.column)} AS {c.alias}" for f, c in zip(present, columns, strict=True)
    ]
    selected += [
        ("prediction_value" if regression else "prediction") + " AS t_prediction",
        "probability AS t_score",
        "timestamp AS t_time",
        "prediction_id AS t_id",
    ]
    if labels:
        targets["label"] = TabColumn(
            "label", "t_label", "DOUBLE" if regression else "VARCHAR", "VARCHAR"
        )
        selected.append(("label_value" if regression else "label") + " AS t_label")
    view = "labeled" if labels else "predictions"
    sql = "SELECT " + ", ".join(selected) + f" FROM {view}" + where
    label = f"{model.id} logs {window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC"
    key = f"{store.version}|{model.id}|{window.start.isoformat()}|{window.end.isoformat()}|"
    key += ",".join(versions) + f"|{labels}"
    return Relation(
        label, sql, params, columns, targets, "t_time", key, (), dict(model.feature_kinds), "t_id"
    )


def _sql_type(view_type: str) -> SqlType:
    found = normalize_type(view_type)
    return found if found is not None else "VARCHAR"


def select_sql(expressions: Sequence[str], source: str) -> str:
    """SELECT the expressions (built from aliases and constants) over a subquery."""
    return "SELECT " + ", ".join(expressions) + " FROM (" + source + ")"


def rows(runner: Runner, relation: Relation) -> int:
    count: int = runner.execute(select_sql(["count(*)"], relation.sql), relation.params)[0][0]
    return count


TARGET_NAMES: dict[Role, str] = {
    "prediction": "prediction",
    "score": "probability",
    "label": "label",
}


def targets_relation(relation: Relation, task: str) -> Relation:
    """The same rows with the model's outputs and labels as the columns to compare
    (named prediction, probability, label on every side), for prediction/label drift."""
    columns = tuple(
        TabColumn(TARGET_NAMES[role], column.alias, column.sql_type, column.source_type)
        for role, column in sorted(relation.targets.items())
    )
    kind = {"binary": "binary", "multiclass": "categorical"}.get(task, "numeric")
    kinds = {"prediction": kind, "label": kind, "probability": "numeric"}
    return Relation(
        relation.label,
        relation.sql,
        relation.params,
        columns,
        {},
        relation.time_alias,
        relation.cache_key + "|targets",
        (),
        kinds,
        relation.id_alias,
    )
