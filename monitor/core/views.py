# ruff: noqa: S608  (SQL built only from constants, quote_literal and quote_identifier)
"""SQL text of the log views: one SELECT over JSONL files, one over Parquet files, per kind.

Everything here is built from constants, quoted file paths (`quote_literal`) and
quoted feature names (`quote_identifier`); no value from a user is ever spliced in.
The JSONL half parses each line once with `json_transform`, keeps lines that are valid
records and exposes the same columns, in the same order and types, as the Parquet
half, so the two can be combined with UNION ALL.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from monitor.core import schema
from monitor.core.schema import RecordKind
from monitor.core.sqlutil import literal_list, quote_identifier, quote_literal

# Scalar macros shared by every JSONL query. `t`/`v` are JSON values.
MACROS: Final = """
CREATE OR REPLACE MACRO monitor_ts(t) AS CASE
    WHEN json_type(t) = 'VARCHAR' THEN TRY_CAST(json_extract_string(t, '$') AS TIMESTAMPTZ)
    WHEN json_type(t) IN ('BIGINT', 'UBIGINT', 'DOUBLE') AND abs(TRY_CAST(t AS DOUBLE)) < 1e14
        THEN make_timestamptz(CAST(round(TRY_CAST(t AS DOUBLE) * 1000) AS BIGINT))
END;
CREATE OR REPLACE MACRO monitor_number_text(x) AS CASE
    WHEN x IS NULL OR isnan(x) THEN NULL
    WHEN x = trunc(x) AND abs(x) < 1e15 THEN CAST(CAST(x AS BIGINT) AS VARCHAR)
    ELSE CAST(x AS VARCHAR)
END;
CREATE OR REPLACE MACRO monitor_value_text(v) AS CASE json_type(v)
    WHEN 'VARCHAR' THEN json_extract_string(v, '$')
    WHEN 'BOOLEAN' THEN CAST(v AS VARCHAR)
    WHEN 'BIGINT' THEN CAST(v AS VARCHAR)
    WHEN 'UBIGINT' THEN CAST(v AS VARCHAR)
    WHEN 'DOUBLE' THEN monitor_number_text(TRY_CAST(v AS DOUBLE))
END;
"""


@dataclass(frozen=True)
class Column:
    """One column of a view: its type, how json_transform should read the raw field,
    and the SQL expression (over the transformed struct `r`) that yields the value."""

    name: str
    sql_type: str
    json_type: str
    jsonl_expr: str


def _plain(name: str, sql_type: str) -> Column:
    return Column(name, sql_type, sql_type, f"r.{name}")


TIMESTAMP_COLUMN: Final = Column("timestamp", "TIMESTAMPTZ", "JSON", "monitor_ts(r.timestamp)")

COLUMNS: Final[dict[RecordKind, tuple[Column, ...]]] = {
    "predictions": (
        _plain("prediction_id", "VARCHAR"),
        TIMESTAMP_COLUMN,
        _plain("model_id", "VARCHAR"),
        _plain("model_version", "VARCHAR"),
        Column("prediction", "VARCHAR", "JSON", "monitor_value_text(r.prediction)"),
        Column(
            "probability",
            "DOUBLE",
            "JSON",
            "CASE WHEN json_type(r.probability) <> 'OBJECT' "
            "THEN TRY_CAST(r.probability AS DOUBLE) END",
        ),
        Column(
            "probabilities",
            "VARCHAR",
            "JSON",
            "CASE WHEN json_type(r.probability) = 'OBJECT' THEN CAST(r.probability AS VARCHAR) END",
        ),
        _plain("latency_ms", "DOUBLE"),
        _plain("status", "VARCHAR"),
        _plain("error", "VARCHAR"),
        _plain("request_id", "VARCHAR"),
        Column("metadata", "VARCHAR", "JSON", "CAST(r.metadata AS VARCHAR)"),
        Column("label", "VARCHAR", "JSON", "monitor_value_text(r.label)"),
    ),
    "feedback": (
        _plain("prediction_id", "VARCHAR"),
        TIMESTAMP_COLUMN,
        Column("label", "VARCHAR", "JSON", "monitor_value_text(r.label)"),
    ),
    "system": (
        TIMESTAMP_COLUMN,
        _plain("host", "VARCHAR"),
        _plain("cpu_percent", "DOUBLE"),
        _plain("memory_mb", "DOUBLE"),
        _plain("queue_depth", "DOUBLE"),
    ),
}

# A JSONL line is a valid record when these hold (over the transformed struct `r`).
VALIDITY: Final[dict[RecordKind, str]] = {
    "predictions": "length(r.prediction_id) > 0 AND length(r.model_id) > 0 "
    "AND monitor_ts(r.timestamp) IS NOT NULL",
    "feedback": "length(r.prediction_id) > 0 AND monitor_ts(r.timestamp) IS NOT NULL "
    "AND monitor_value_text(r.label) IS NOT NULL",
    "system": "monitor_ts(r.timestamp) IS NOT NULL",
}


@dataclass(frozen=True)
class FeatureColumn:
    """A feature key and the typed column it is exposed as."""

    key: str
    column: str
    sql_type: str


def _transform_structure(kind: RecordKind, features: Sequence[FeatureColumn]) -> str:
    structure: dict[str, object] = {c.name: c.json_type for c in COLUMNS[kind]}
    if kind == "predictions" and features:
        structure["features"] = {f.key: f.sql_type for f in features}
    return json.dumps(structure, ensure_ascii=False)


def parsed_jsonl_sql(
    kind: RecordKind, files: Sequence[str], features: Sequence[FeatureColumn]
) -> str:
    """Every line of the files: source file, the parsed struct `r` (NULL when the line is not
    a JSON object) and `valid` (never NULL)."""
    structure = quote_literal(_transform_structure(kind, features))
    return (
        "SELECT source_file, r, coalesce(" + VALIDITY[kind] + ", false) AS valid FROM ("
        "SELECT filename AS source_file, CASE WHEN json_type(json) = 'OBJECT' "
        "THEN json_transform(json, " + structure + ") END AS r "
        "FROM read_json_objects(" + literal_list(list(files)) + ", "
        "format='newline_delimited', ignore_errors=true, filename=true))"
    )


def jsonl_select(kind: RecordKind, files: Sequence[str], features: Sequence[FeatureColumn]) -> str:
    columns = [f"{c.jsonl_expr} AS {c.name}" for c in COLUMNS[kind]]
    columns.append("source_file")
    if kind == "predictions":
        columns += [
            f"r.features.{quote_identifier(f.key)} AS {quote_identifier(f.column)}"
            for f in features
        ]
    return (
        "SELECT " + ", ".join(columns) + " FROM (" + parsed_jsonl_sql(kind, files, features) + ") "
        "WHERE valid"
    )


def parquet_select(
    kind: RecordKind,
    files: Sequence[str],
    available: Mapping[str, ParquetColumn],
    features: Sequence[FeatureColumn],
) -> str:
    """Select the canonical columns from Parquet files; a column no file has reads as NULL.

    `available` maps lower-cased column names present in the files to what they hold. A
    column that already has the wanted type in every file is selected as it is, so DuckDB
    can push filters on it (time windows) into the Parquet scan and skip row groups.
    """
    columns: list[str] = []
    wanted = [(c.name, c.sql_type) for c in COLUMNS[kind]]
    wanted_features = [(f.column, f.sql_type) for f in features] if kind == "predictions" else []
    for name, sql_type in wanted:
        columns.append(_parquet_column(name, name, sql_type, available))
    columns.append("filename AS source_file")
    for name, sql_type in wanted_features:
        columns.append(_parquet_column(name, name, sql_type, available))
    return (
        "SELECT " + ", ".join(columns) + " FROM read_parquet(" + literal_list(list(files)) + ", "
        "union_by_name=true, filename=true)"
    )


@dataclass(frozen=True)
class ParquetColumn:
    name: str
    """The spelling found in the files."""
    sql_type: str | None
    """The DuckDB type, when every file that has the column agrees on it."""


def _parquet_column(
    source: str, alias: str, sql_type: str, available: Mapping[str, ParquetColumn]
) -> str:
    found = available.get(source.lower())
    if found is None:
        value = f"NULL::{sql_type}"
    elif found.sql_type == sql_type:
        value = quote_identifier(found.name)
    else:
        value = f"TRY_CAST({quote_identifier(found.name)} AS {sql_type})"
    return f"{value} AS {quote_identifier(alias)}"


def empty_select(kind: RecordKind, features: Sequence[FeatureColumn]) -> str:
    columns = [f"NULL::{c.sql_type} AS {c.name}" for c in COLUMNS[kind]]
    columns.append("NULL::VARCHAR AS source_file")
    if kind == "predictions":
        columns += [f"NULL::{f.sql_type} AS {quote_identifier(f.column)}" for f in features]
    return "SELECT " + ", ".join(columns) + " WHERE false"


def view_sql(kind: RecordKind, parts: Sequence[str]) -> str:
    """CREATE VIEW text for a kind over the UNION ALL of its parts (JSONL, Parquet)."""
    union = " UNION ALL ".join(f"({p})" for p in parts)
    if kind == "predictions":
        body = (
            "SELECT * REPLACE (lower(coalesce(status, CASE WHEN error IS NOT NULL "
            "THEN 'error' ELSE 'ok' END)) AS status), "
            "TRY_CAST(prediction AS DOUBLE) AS prediction_value FROM (" + union + ")"
        )
    elif kind == "system":
        body = "SELECT * REPLACE (coalesce(host, 'unknown') AS host) FROM (" + union + ")"
    else:
        body = union
    return f"CREATE OR REPLACE VIEW {kind} AS " + body


LABELED_VIEW: Final = """
CREATE OR REPLACE VIEW labeled AS
WITH latest AS (
    SELECT prediction_id, arg_max(label, timestamp) AS label, max(timestamp) AS label_timestamp
    FROM feedback GROUP BY prediction_id
)
SELECT p.* REPLACE (coalesce(l.label, p.label) AS label),
       TRY_CAST(coalesce(l.label, p.label) AS DOUBLE) AS label_value,
       l.label_timestamp,
       CASE WHEN l.label IS NOT NULL THEN 'feedback'
            WHEN p.label IS NOT NULL THEN 'inline' END AS label_source
FROM predictions AS p LEFT JOIN latest AS l USING (prediction_id)
"""


def feature_keys_sql(files: Sequence[str]) -> str:
    """Feature keys per JSONL prediction file: (file, key, JSON type of the value, count).

    Objects with duplicate keys cannot become a MAP and are left out of the discovery."""
    return (
        "SELECT filename, e.key, json_type(e.value) AS type, count(*) AS n FROM ("
        "SELECT filename, unnest(map_entries(TRY_CAST(json -> 'features' AS MAP(VARCHAR, JSON)))) "
        "AS e FROM read_json_objects(" + literal_list(list(files)) + ", "
        "format='newline_delimited', ignore_errors=true, filename=true) "
        "WHERE json_type(json -> 'features') = 'OBJECT') GROUP BY ALL ORDER BY ALL"
    )


def jsonl_table(kind: RecordKind) -> str:
    """The in-memory table holding the parsed valid records of a kind's JSONL files."""
    return f"_jsonl_{kind}"


def jsonl_table_select(kind: RecordKind) -> str:
    return f"SELECT * FROM {jsonl_table(kind)}"


def create_jsonl_table_sql(
    kind: RecordKind, files: Sequence[str], features: Sequence[FeatureColumn]
) -> str:
    select = jsonl_select(kind, files, features) if files else empty_select(kind, features)
    return f"CREATE OR REPLACE TABLE {jsonl_table(kind)} AS " + select


def delete_from_jsonl_table_sql(kind: RecordKind) -> str:
    """Remove the rows of the files in the $files parameter (changed or gone)."""
    return f"DELETE FROM {jsonl_table(kind)} WHERE list_contains($files, source_file)"


def insert_into_jsonl_table_sql(
    kind: RecordKind, files: Sequence[str], features: Sequence[FeatureColumn]
) -> str:
    return f"INSERT INTO {jsonl_table(kind)} BY NAME " + jsonl_select(kind, files, features)


def slices_sql(relation: str, *, only_files: bool) -> str:
    """Predictions per (source file, model, version) with their time extent. With
    only_files, restricted to the files in the $files parameter."""
    where = "WHERE list_contains($files, source_file) " if only_files else ""
    return (
        "SELECT source_file, model_id, coalesce(model_version, '') AS model_version, "
        "count(*) AS n, min(timestamp) AS first_seen, max(timestamp) AS last_seen "
        f"FROM {relation} {where}GROUP BY ALL ORDER BY ALL"
    )


def invalid_counts_sql(kind: RecordKind, files: Sequence[str]) -> str:
    """Per JSONL file with invalid lines: (source_file, invalid lines, {model_id: invalid lines
    that still name it}, [model_ids of the file's valid records]). See `attribute_invalid`."""
    model = "r.model_id" if kind == "predictions" else "NULL::VARCHAR"
    return (
        f"SELECT source_file, count(*) FILTER (WHERE NOT valid) AS invalid, "
        f"histogram({model}) FILTER (WHERE NOT valid AND {model} IS NOT NULL) AS named, "
        f"list(DISTINCT {model}) FILTER (WHERE valid AND {model} IS NOT NULL) AS models "
        "FROM (" + parsed_jsonl_sql(kind, files, ()) + ") "
        "GROUP BY source_file HAVING count(*) FILTER (WHERE NOT valid) > 0 ORDER BY source_file"
    )


def attribute_invalid(
    invalid: int, named: Mapping[str, int] | None, models: Sequence[str] | None
) -> dict[str, int]:
    """Invalid lines per model: those that still name their model_id, plus the unreadable
    rest when every valid record of the file belongs to one model (a writer per model)."""
    by_model = {str(m): int(n) for m, n in (named or {}).items()}
    rest = invalid - sum(by_model.values())
    if rest > 0 and models is not None and len(models) == 1:
        by_model[models[0]] = by_model.get(models[0], 0) + rest
    return by_model


NUMERIC_MAJORITY: Final = 0.9
"""A feature is numeric when at least this share of its non-null values are numbers: a few
stray strings in a numeric feature are type violations (read as NULL), not a new type."""


def feature_type(type_counts: Mapping[str, int]) -> str:
    """The column type for a feature from how often its values take each JSON type."""
    counts = {t: n for t, n in type_counts.items() if t and t != "NULL" and n > 0}
    total = sum(counts.values())
    numeric = sum(n for t, n in counts.items() if t in ("BIGINT", "UBIGINT", "DOUBLE"))
    if total == 0 or numeric >= NUMERIC_MAJORITY * total:
        return "DOUBLE"
    if counts.keys() == {"BOOLEAN"}:
        return "BOOLEAN"
    return "VARCHAR"


def add_type_count(
    counts: dict[str, dict[str, int]], key: str, json_type: str | None, n: int
) -> None:
    """Accumulate one (key, JSON type, count) row of `feature_keys_sql` into `counts`."""
    by_type = counts.setdefault(key, {})
    name = json_type or "NULL"
    by_type[name] = by_type.get(name, 0) + int(n)


def unify_types(a: str | None, b: str) -> str:
    return b if a is None or a == b else "VARCHAR"


def feature_columns(types: Mapping[str, str]) -> list[FeatureColumn]:
    """Feature columns sorted by key; keys equal but for case keep the first spelling."""
    chosen: dict[str, FeatureColumn] = {}
    for key in sorted(types):
        if "\x00" in key or key.lower() in chosen:
            continue
        chosen[key.lower()] = FeatureColumn(key, schema.feature_column(key), types[key])
    return list(chosen.values())
