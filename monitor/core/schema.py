"""The log record format shared by the SDK, the demo generator, compaction and the store.

Three record kinds, one JSON object per line in JSONL or one row in Parquet, stored as
``<data_dir>/logs/<kind>/date=YYYY-MM-DD/<file>.jsonl|.parquet`` where the date is
the UTC date of the record's timestamp. See docs/log-format.md for the user-facing
description; this module is its single source of truth in code.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Any, Final, Literal

import pyarrow as pa

RecordKind = Literal["predictions", "feedback", "system"]
RECORD_KINDS: Final[tuple[RecordKind, ...]] = ("predictions", "feedback", "system")

LOGS_DIR: Final = "logs"
QUARANTINE_DIR: Final = "quarantine"
PARTITION_RE: Final = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")

# Feature values become columns named "features.<key>" in Parquet files and views.
FEATURE_PREFIX: Final = "features."

STATUS_OK: Final = "ok"
STATUS_ERROR: Final = "error"

# Parquet key-value metadata written by compaction: invalid lines of the source file.
KV_INVALID_RECORDS: Final = "monitor.invalid_records"
KV_INVALID_BY_MODEL: Final = "monitor.invalid_by_model"
KV_SOURCE_FILE: Final = "monitor.source_file"

TIMESTAMP_TYPE: Final = pa.timestamp("us", tz="UTC")

PREDICTION_BASE_SCHEMA: Final = pa.schema(
    [
        ("prediction_id", pa.string()),
        ("timestamp", TIMESTAMP_TYPE),
        ("model_id", pa.string()),
        ("model_version", pa.string()),
        ("prediction", pa.string()),
        ("probability", pa.float64()),
        ("probabilities", pa.string()),
        ("latency_ms", pa.float64()),
        ("status", pa.string()),
        ("error", pa.string()),
        ("request_id", pa.string()),
        ("metadata", pa.string()),
        ("label", pa.string()),
    ]
)
"""Columns of a predictions Parquet file; feature columns "features.<key>" follow them.

`prediction` and `label` hold the canonical text of the value (see `canonical_text`);
`probabilities` and `metadata` hold JSON text.
"""

FEEDBACK_SCHEMA: Final = pa.schema(
    [("prediction_id", pa.string()), ("timestamp", TIMESTAMP_TYPE), ("label", pa.string())]
)

SYSTEM_SCHEMA: Final = pa.schema(
    [
        ("timestamp", TIMESTAMP_TYPE),
        ("host", pa.string()),
        ("cpu_percent", pa.float64()),
        ("memory_mb", pa.float64()),
        ("queue_depth", pa.float64()),
    ]
)

PARQUET_SCHEMAS: Final[dict[RecordKind, pa.Schema]] = {
    "predictions": PREDICTION_BASE_SCHEMA,
    "feedback": FEEDBACK_SCHEMA,
    "system": SYSTEM_SCHEMA,
}


def feature_column(key: str) -> str:
    """The column name under which feature `key` appears in Parquet files and views."""
    return FEATURE_PREFIX + key


def kind_dir(data_dir: Path, kind: RecordKind) -> Path:
    return data_dir / LOGS_DIR / kind


def partition_dir(data_dir: Path, kind: RecordKind, day: dt.date) -> Path:
    return kind_dir(data_dir, kind) / f"date={day.isoformat()}"


def partition_date(path: Path) -> dt.date | None:
    """The date of the partition folder a log file lives in, or None if it is not one."""
    match = PARTITION_RE.match(path.parent.name)
    if match is None:
        return None
    try:
        return dt.date.fromisoformat(match.group(1))
    except ValueError:
        return None


def canonical_text(value: Any) -> str | None:
    """Text form of a prediction or label, identical whichever way it was logged.

    Strings stay as they are, booleans become "true"/"false", integral numbers lose
    their fractional part (so a label logged as 1 matches a prediction logged as 1.0),
    other numbers use Python's shortest round-trip repr. NaN and None become None.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    number = float(value)
    if math.isnan(number):
        return None
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def json_safe(value: Any) -> Any:
    """Convert numpy scalars and non-finite floats to JSON-representable values.

    NaN and +/-inf become null: JSON has no spelling for them and a missing value is
    what they mean in a feature.
    """
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    item = getattr(value, "item", None)  # numpy scalar
    if callable(item):
        return json_safe(item())
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


def format_timestamp(epoch_seconds: float) -> str:
    """ISO 8601 in UTC with microseconds and an explicit offset, as the SDK writes it."""
    moment = dt.datetime.fromtimestamp(epoch_seconds, tz=dt.UTC)
    return moment.isoformat(timespec="microseconds")


def to_utc(moment: dt.datetime) -> dt.datetime:
    """Aware UTC datetime; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)
