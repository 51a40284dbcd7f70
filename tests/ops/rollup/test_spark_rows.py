"""The Spark engine's JSONL reader (plain Python) reads lines as the DuckDB views do: same
valid records, same values, on lines made to be awkward."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from monitor.core.store import LogStore
from monitor.ops.rollup import spark_rows
from tests.logwriter import write_jsonl

AWKWARD_VALUES: list[Any] = [1, 1.0, 0.5, 1e-05, 1.5e20, -3, "0.5", "abc", True, False, None]
TIMES: list[Any] = [
    "2026-11-02T10:00:00+00:00",
    "2026-11-02 10:00:00",
    "2026-11-02T12:00:00+02:00",
    "2026-11-02T10:00:00.123456Z",
    "2026-11-02",
    1_793_613_600_000,
    1_793_613_600_000.4,
    "2026-13-45T25:61:00",
    "not a time",
    True,
]


def _lines() -> list[object]:
    lines: list[object] = []
    for i, value in enumerate(AWKWARD_VALUES):
        lines.append(
            {
                "prediction_id": f"v{i}",
                "timestamp": "2026-11-02T10:00:00+00:00",
                "model_id": "m",
                "model_version": value if i % 3 == 0 else "v1",
                "prediction": value,
                "label": value,
                "probability": value if i % 2 else {"a": 0.25, "b": 0.75},
                "latency_ms": value,
                "status": value if i % 4 == 0 else None,
                "error": "boom" if i == 5 else None,
                "features": {
                    "num": value if i in (1, 3, 5) else 2.5,  # read as DOUBLE
                    "mostly_num": "12" if i == 7 else float(i),  # DOUBLE: 10 of 11 numbers
                    "txt": value,  # mixed: VARCHAR
                    "flag": value if isinstance(value, bool) else i % 2 == 0,  # BOOLEAN
                },
            }
        )
    for i, moment in enumerate(TIMES):
        lines.append({"prediction_id": f"t{i}", "timestamp": moment, "model_id": "m"})
    lines += [
        "not json",
        '{"prediction_id": "cut", "timest',
        '{"prediction_id": "nan", "timestamp": "2026-11-02", "model_id": "m", "x": NaN}',
        {"prediction_id": "", "timestamp": "2026-11-02", "model_id": "m"},
        {"prediction_id": "no-model", "timestamp": "2026-11-02"},
        {"prediction_id": 17, "timestamp": "2026-11-02", "model_id": "m", "prediction": [1]},
        [1, 2, 3],
    ]
    return lines


def test_prediction_lines_read_as_the_views_read_them(tmp_path: Path) -> None:
    lines = _lines()
    path = write_jsonl(tmp_path, "predictions", "2026-11-02", "awkward.jsonl", lines)
    store = LogStore(tmp_path)
    try:
        types = {f.key: f.sql_type for f in store.features}
        assert types == {
            "num": "DOUBLE",
            "mostly_num": "DOUBLE",
            "txt": "VARCHAR",
            "flag": "BOOLEAN",
        }
        features = [(f.key, f.sql_type) for f in store.features]
        columns = [*spark_rows.PREDICTION_FIELDS, *(f.column for f in store.features)]
        quoted = ", ".join('"' + c + '"' for c in columns)
        expected = {
            row[0]: row
            for row in store.execute(f"SELECT {quoted} FROM {views_table()} ORDER BY prediction_id")
        }
    finally:
        store.close()
    text = path.read_text(encoding="utf-8").splitlines()
    parsed = [spark_rows.prediction_row(line, features) for line in text]
    found = {row[0]: row for row in parsed if row is not None}
    assert sorted(found) == sorted(expected)
    assert len(expected) == len(AWKWARD_VALUES) + 9  # 7 readable times, NaN, id 17
    for pid, row in expected.items():
        assert _comparable(found[pid]) == _comparable(row), pid


def views_table() -> str:
    """The in-memory table the store parses JSONL prediction files into."""
    from monitor.core.views import jsonl_table

    return jsonl_table("predictions")


def _comparable(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Timestamps as UTC instants; JSON text of objects parsed (key order and spacing aside)."""
    out: list[Any] = []
    for value in row:
        if isinstance(value, dt.datetime):
            value = value.astimezone(dt.UTC)
        elif isinstance(value, str) and value.startswith("{"):
            value = json.loads(value)
        out.append(value)
    return tuple(out)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"prediction_id": "a", "timestamp": "2026-11-02", "label": 1.0}', "1"),
        ('{"prediction_id": "a", "timestamp": "2026-11-02", "label": true}', "true"),
        ('{"prediction_id": "a", "timestamp": "2026-11-02", "label": null}', None),
        ('{"prediction_id": "a", "timestamp": "bad", "label": 1}', None),
        ('{"timestamp": "2026-11-02", "label": 1}', None),
    ],
)
def test_feedback_lines(line: str, expected: str | None) -> None:
    row = spark_rows.feedback_row(line)
    assert (row[2] if row is not None else None) == expected
