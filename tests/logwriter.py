"""Test helpers that write log files by hand (plain json / pyarrow), independent of the SDK."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq


def write_jsonl(
    data_dir: Path, kind: str, day: str, name: str, lines: list[Any], *, final_newline: bool = True
) -> Path:
    """Write records (dicts JSON-encoded, strings verbatim) as one JSONL file.

    final_newline=False leaves the last line unterminated, like a writer killed mid-line."""
    folder = data_dir / "logs" / kind / f"date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    path.write_text(text + ("\n" if final_newline else ""), encoding="utf-8")
    return path


def write_parquet(data_dir: Path, kind: str, day: str, name: str, table: pa.Table) -> Path:
    folder = data_dir / "logs" / kind / f"date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    pq.write_table(table, path)
    return path


def prediction(
    pid: str, ts: str | int, *, model: str = "m", version: str = "v1", **extra: Any
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "prediction_id": pid,
        "timestamp": ts,
        "model_id": model,
        "model_version": version,
        "features": {"x": 1.0},
        "prediction": 1,
        "probability": 0.9,
        "latency_ms": 10.0,
        "status": "ok",
    }
    record.update(extra)
    return record
