"""JSONL log lines as the log views read them, in plain Python (the Spark engine's reader).

The store's views parse JSONL in DuckDB (monitor.core.views: json_transform, monitor_ts,
monitor_value_text, the validity rules); Spark executors run this module instead, on the
lines of the JSONL files, and must reach the same values. What it follows:
- a line is a record when it is a JSON object (NaN and Infinity accepted, as DuckDB does) with a
  non-empty prediction_id (and model_id; feedback: a label) and a readable timestamp:
  ISO 8601 text (no offset = UTC) or epoch milliseconds (|t| < 1e14, rounded to µs);
- text fields keep strings; numbers become their text (integers as written, other
  numbers as the shortest repr), booleans 'true'/'false', objects/arrays JSON text;
- `prediction` and `label` are canonical text (monitor.core.schema.canonical_text);
- number fields (probability, latency_ms, numeric features) take numbers, numeric text
  and booleans (1.0/0.0); boolean features take booleans and numbers (non-zero = true).
No pyspark here: the module is imported by the workers and tested without Spark.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator, Sequence
from typing import Any, Final

from monitor.core.schema import canonical_text

PREDICTION_FIELDS: Final = (
    "prediction_id",
    "timestamp",
    "model_id",
    "model_version",
    "prediction",
    "probability",
    "probabilities",
    "latency_ms",
    "status",
    "error",
    "label",
)
"""The columns of a parsed prediction (features follow), as the engine's schema lists them."""
FEEDBACK_FIELDS: Final = ("prediction_id", "timestamp", "label")
_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class _Int(int):
    raw: str


class _Float(float):
    raw: str


def _parse_int(text: str) -> _Int:
    value = _Int(text)
    value.raw = text
    return value


def _parse_float(text: str) -> _Float:
    value = _Float(text)
    value.raw = text
    return value


def loads(line: str) -> dict[str, Any] | None:
    """The JSON object on a line, or None (not JSON, or not an object)."""
    try:
        found = json.loads(
            line, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_float
        )
    except (ValueError, RecursionError):
        return None
    return found if isinstance(found, dict) else None


def text(value: Any) -> str | None:
    """A field read as VARCHAR."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return repr(float(value)) if math.isfinite(value) else getattr(value, "raw", repr(value))
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def number(value: Any) -> float | None:
    """A field read as DOUBLE."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def boolean(value: Any) -> bool | None:
    """A field read as BOOLEAN."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    return None


def value_text(value: Any) -> str | None:
    """A prediction or label as canonical text (None for objects, arrays and null)."""
    if isinstance(value, (dict, list)):
        return None
    return canonical_text(value)


def timestamp(value: Any) -> dt.datetime | None:
    """A record's time (module docstring), None when unreadable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        if not abs(value) < 1e14:
            return None
        scaled = float(value) * 1000
        micros = math.floor(scaled + 0.5) if scaled >= 0 else -math.floor(-scaled + 0.5)
        return _EPOCH + dt.timedelta(microseconds=micros)
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _feature(value: Any, sql_type: str) -> Any:
    if sql_type == "DOUBLE":
        return number(value)
    if sql_type == "BOOLEAN":
        return boolean(value)
    return text(value)


def prediction_row(line: str, features: Sequence[tuple[str, str]]) -> tuple[Any, ...] | None:
    """A valid prediction line as (PREDICTION_FIELDS..., features...), else None.
    `features`: (key, SQL type) of each feature column."""
    record = loads(line)
    if record is None:
        return None
    pid, model, moment = text(record.get("prediction_id")), text(record.get("model_id")), None
    if pid and model:
        moment = timestamp(record.get("timestamp"))
    if moment is None:
        return None
    probability = record.get("probability")
    values = record.get("features")
    found = values if isinstance(values, dict) else {}
    return (
        pid,
        moment,
        model,
        text(record.get("model_version")),
        value_text(record.get("prediction")),
        None if isinstance(probability, dict) else number(probability),
        text(probability) if isinstance(probability, dict) else None,
        number(record.get("latency_ms")),
        text(record.get("status")),
        text(record.get("error")),
        value_text(record.get("label")),
        *tuple(_feature(found.get(key), sql_type) for key, sql_type in features),
    )


def feedback_row(line: str) -> tuple[Any, ...] | None:
    """A valid feedback line as (prediction_id, timestamp, label), else None."""
    record = loads(line)
    if record is None:
        return None
    pid, label = text(record.get("prediction_id")), value_text(record.get("label"))
    moment = timestamp(record.get("timestamp")) if pid and label is not None else None
    return None if moment is None else (pid, moment, label)


def json_type(value: Any) -> str:
    """DuckDB's json_type of a parsed value."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "UBIGINT" if value >= 0 else "BIGINT"
    if isinstance(value, float):
        return "DOUBLE"
    if isinstance(value, str):
        return "VARCHAR"
    return "ARRAY" if isinstance(value, list) else "OBJECT"


def feature_types(line: str) -> Iterator[tuple[str, str]]:
    """(key, JSON type) of each feature value on a line (the store's type discovery)."""
    record = loads(line)
    values = record.get("features") if record is not None else None
    if isinstance(values, dict):
        for key, value in values.items():
            yield key, json_type(value)
