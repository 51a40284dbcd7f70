"""Labeled predictions read straight from the log files with pyarrow and json, following
docs/log-format.md, never through monitor.core.store: the independent side of the
performance tests.

Rules applied here: a JSONL line counts when it is a JSON object with the required
fields and a readable timestamp; `X.jsonl` is ignored when `X.parquet` sits next to it;
the latest feedback record (by timestamp) of a prediction wins over earlier ones and
over an inline label; values compare by canonical text (1.0 -> "1", true -> "true").
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

PREDICTION_COLUMNS = [
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
]


def canonical(value: Any) -> str | None:
    """The canonical text of a logged value (docs/log-format.md, "Values")."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def _timestamp(raw: Any) -> pd.Timestamp | None:
    try:
        if isinstance(raw, bool):
            return None
        if isinstance(raw, int | float):
            return pd.Timestamp(round(raw * 1000), unit="us", tz="UTC")
        if isinstance(raw, str):
            stamp = pd.Timestamp(raw)
            return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    except (ValueError, OverflowError):
        return None
    return None


def _files(root: Path) -> list[Path]:
    found: list[Path] = []
    for partition in sorted(root.glob("date=*")):
        files = [p for p in sorted(partition.iterdir()) if not p.name.startswith(".")]
        parquet_stems = {p.stem for p in files if p.suffix == ".parquet"}
        for path in files:
            if path.suffix == ".parquet" or (
                path.suffix == ".jsonl" and path.stem not in parquet_stems
            ):
                found.append(path)
    return found


def _jsonl(path: Path) -> list[dict[str, Any]]:
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def read_predictions(data_dir: Path, features: tuple[str, ...] = ()) -> pd.DataFrame:
    """Prediction records; `features` adds those feature keys as columns of that name."""
    frames = []
    for path in _files(data_dir / "logs" / "predictions"):
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            names = [c for c in PREDICTION_COLUMNS if c in table.column_names]
            frame = table.select(names).to_pandas()
            for key in features:
                column = f"features.{key}"
                frame[key] = table[column].to_pylist() if column in table.column_names else None
            frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
            frames.append(frame)
            continue
        rows = []
        for r in _jsonl(path):
            stamp = _timestamp(r.get("timestamp"))
            if not r.get("prediction_id") or not r.get("model_id") or stamp is None:
                continue
            probability = r.get("probability")
            rows.append(
                {
                    "prediction_id": r["prediction_id"],
                    "timestamp": stamp,
                    "model_id": r["model_id"],
                    "model_version": r.get("model_version"),
                    "prediction": canonical(r.get("prediction")),
                    "probability": probability if not isinstance(probability, dict) else None,
                    "probabilities": json.dumps(probability)
                    if isinstance(probability, dict)
                    else None,
                    "latency_ms": r.get("latency_ms"),
                    "status": r.get("status"),
                    "error": r.get("error"),
                    "label": canonical(r.get("label")),
                }
                | {
                    key: (r.get("features") or {}).get(key)
                    if isinstance(r.get("features"), dict)
                    else None
                    for key in features
                }
            )
        frames.append(pd.DataFrame(rows, columns=[*PREDICTION_COLUMNS, *features]))
    frame = pd.concat(frames, ignore_index=True)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    status = frame["status"].where(
        frame["status"].notna(), frame["error"].notna().map({True: "error", False: "ok"})
    )
    frame["status"] = status.str.lower()
    result: pd.DataFrame = frame
    return result


def read_feedback(data_dir: Path) -> pd.DataFrame:
    frames = []
    for path in _files(data_dir / "logs" / "feedback"):
        if path.suffix == ".parquet":
            frame = pq.read_table(path, columns=["prediction_id", "timestamp", "label"]).to_pandas()
            frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
            frames.append(frame)
            continue
        rows = []
        for r in _jsonl(path):
            stamp = _timestamp(r.get("timestamp"))
            label = canonical(r.get("label"))
            if not r.get("prediction_id") or stamp is None or label is None:
                continue
            rows.append({"prediction_id": r["prediction_id"], "timestamp": stamp, "label": label})
        frames.append(pd.DataFrame(rows, columns=["prediction_id", "timestamp", "label"]))
    frame = pd.concat(frames, ignore_index=True)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    result: pd.DataFrame = frame
    return result


def labeled_predictions(
    data_dir: Path, model_id: str, features: tuple[str, ...] = ()
) -> pd.DataFrame:
    """The model's ok predictions with their label (latest feedback, else inline), the
    version ('' when none), `day` (UTC) and the feature columns asked for."""
    predictions = read_predictions(data_dir, features)
    rows = predictions[
        (predictions["model_id"] == model_id)
        & (predictions["status"] == "ok")
        & predictions["prediction"].notna()
    ].copy()
    feedback = read_feedback(data_dir).sort_values("timestamp", kind="stable")
    latest = feedback.groupby("prediction_id")["label"].last()
    rows["truth"] = (
        rows["prediction_id"]
        .map(latest)
        .where(rows["prediction_id"].isin(latest.index), rows["label"])
    )
    rows["probability"] = pd.to_numeric(rows["probability"], errors="coerce")
    rows["version"] = rows["model_version"].fillna("")
    rows["day"] = rows["timestamp"].dt.floor("D")
    return rows.reset_index(drop=True)
