"""The rollup tables: their Arrow schemas, where their files go, and the one normalisation
both engines' results pass through before they are written (same columns, types and row
order, whichever engine computed them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

import pyarrow as pa
import pyarrow.compute as pc

TableName = Literal["traffic", "labels", "regression", "features", "fairness"]
TABLES: Final[tuple[TableName, ...]] = ("traffic", "labels", "regression", "features", "fairness")
LABEL_TABLES: Final[frozenset[TableName]] = frozenset(("labels", "regression", "fairness"))
"""Tables that read the feedback (late labels rebuild them)."""
ROLLUPS_DIR: Final = "rollups"
FILE_NAME: Final = "part.parquet"
FORMAT_VERSION: Final = 1

_TIME = pa.timestamp("us", tz="UTC")
_KEYS = [("model_id", pa.string()), ("model_version", pa.string()), ("hour", _TIME)]

SCHEMAS: Final[dict[TableName, pa.Schema]] = {
    "traffic": pa.schema(
        [
            *_KEYS,
            ("predictions", pa.int64()),
            ("errors", pa.int64()),
            ("latency_count", pa.int64()),
            ("latency_sum", pa.float64()),
            ("latency_min", pa.float64()),
            ("latency_max", pa.float64()),
            ("first_seen", _TIME),
            ("last_seen", _TIME),
            (
                "latency_histogram",
                pa.list_(pa.struct([("bucket", pa.int32()), ("n", pa.int64())])),
            ),
        ]
    ),
    "labels": pa.schema(
        [
            *_KEYS,
            ("prediction", pa.string()),
            ("label", pa.string()),
            ("ubin", pa.int32()),
            ("lbin", pa.int32()),
            ("n", pa.int64()),
            ("score_sum", pa.float64()),
            ("loss_sum", pa.float64()),
            ("loss_sq_sum", pa.float64()),
            ("entropy_sum", pa.float64()),
            ("entropy_n", pa.int64()),
        ]
    ),
    "regression": pa.schema(
        [
            *_KEYS,
            ("predictions", pa.int64()),
            ("labeled", pa.int64()),
            ("residual_sum", pa.float64()),
            ("residual_abs_sum", pa.float64()),
            ("residual_sq_sum", pa.float64()),
            ("residual_p4_sum", pa.float64()),
            ("label_sum", pa.float64()),
            ("label_sq_sum", pa.float64()),
        ]
    ),
    "features": pa.schema(
        [
            *_KEYS,
            ("feature", pa.string()),
            ("kind", pa.string()),
            ("bin", pa.int32()),
            ("category", pa.string()),
            ("missing", pa.bool_()),
            ("n", pa.int64()),
            ("value_sum", pa.float64()),
            ("value_min", pa.float64()),
            ("value_max", pa.float64()),
        ]
    ),
    "fairness": pa.schema(
        [
            *_KEYS,
            ("attribute", pa.string()),
            ("group_value", pa.string()),
            ("prediction", pa.string()),
            ("label", pa.string()),
            ("n", pa.int64()),
            ("labeled", pa.int64()),
            ("abs_error_sum", pa.float64()),
            ("squared_error_sum", pa.float64()),
        ]
    ),
}

SORT_KEYS: Final[dict[TableName, tuple[str, ...]]] = {
    "traffic": ("model_id", "model_version", "hour"),
    "labels": ("model_id", "model_version", "hour", "prediction", "label", "ubin", "lbin"),
    "regression": ("model_id", "model_version", "hour"),
    "features": ("model_id", "model_version", "hour", "feature", "missing", "bin", "category"),
    "fairness": ("model_id", "model_version", "hour", "attribute", "group_value", "prediction"),
}


def relative_path(table: TableName, day: dt.date) -> str:
    """Where a day's file of a table lives, relative to the data directory."""
    return f"{ROLLUPS_DIR}/{table}/date={day.isoformat()}/{FILE_NAME}"


def from_rows(table: TableName, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """A table of the rollup's schema from rows (dicts keyed by column name)."""
    schema = SCHEMAS[table]
    columns = {f.name: [row.get(f.name) for row in rows] for f in schema}
    return pa.table(columns, schema=schema)


def normalize(table: TableName, found: pa.Table) -> pa.Table:
    """The columns of the schema, in its order and types, rows sorted by the table's keys
    (the label column too, so equal aggregates give equal files)."""
    schema = SCHEMAS[table]
    columns = [found.column(f.name).cast(f.type) for f in schema]
    ordered = pa.table(columns, schema=schema)
    keys = [(k, "ascending") for k in SORT_KEYS[table]]
    if table == "fairness":
        keys.append(("label", "ascending"))
    return ordered.sort_by([(k, o) for k, o in keys]) if ordered.num_rows else ordered


def combine(table: TableName, parts: Sequence[pa.Table]) -> pa.Table:
    """Parts (e.g. one per model) as one normalised table."""
    if not parts:
        return empty(table)
    return normalize(table, pa.concat_tables([normalize(table, p) for p in parts]))


def empty(table: TableName) -> pa.Table:
    return SCHEMAS[table].empty_table()


def drop_unlogged_features(found: pa.Table, declared: frozenset[str]) -> pa.Table:
    """Leave out the features a model logged no value for in these rows, unless the
    reference or the config names them (those keep their missing counts)."""
    if not found.num_rows:
        return found
    present = pc.invert(found.column("missing"))
    logged = set(pc.unique(pc.filter(found.column("feature"), present)).to_pylist())
    keep = logged | set(declared)
    mask = pc.is_in(found.column("feature"), value_set=pa.array(sorted(keep), pa.string()))
    return found.filter(mask)
