"""Prediction records read straight from the log files (pyarrow and json, following
docs/log-format.md, never through monitor.core.store), and numbers computed from them with
pandas, numpy, sklearn and fairlearn: the independent side of the model-version tests;
and alert rows for linking rollback marks to."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import fairlearn.metrics as fm
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import sklearn.metrics as skm

from monitor.core.catalog import Window
from monitor.core.state import StateStore, dumps, to_text, utc_now
from monitor.findings.status import Status
from monitor.ops.registry.version_metrics import VersionMetrics
from tests.performance_truth import _files, _jsonl, _timestamp, canonical

COLUMNS = ["timestamp", "model_id", "model_version", "status", "error", "latency_ms"]


def raw_predictions(data_dir: Path) -> pd.DataFrame:
    """Every valid prediction record: timestamp (UTC), model_id, version ('' when none),
    status (ok/error, as the log format defines it) and latency_ms."""
    frames = []
    for path in _files(data_dir / "logs" / "predictions"):
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            frame = table.select([c for c in COLUMNS if c in table.column_names]).to_pandas()
            frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
            frames.append(frame.reindex(columns=COLUMNS))
            continue
        rows: list[dict[str, Any]] = []
        for record in _jsonl(path):
            stamp = _timestamp(record.get("timestamp"))
            if not record.get("prediction_id") or not record.get("model_id") or stamp is None:
                continue
            rows.append({c: record.get(c) for c in COLUMNS} | {"timestamp": stamp})
        frames.append(pd.DataFrame(rows, columns=COLUMNS))
    frame = pd.concat(frames, ignore_index=True)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    frame["version"] = frame["model_version"].fillna("")
    status = frame["status"].where(
        frame["status"].notna(), frame["error"].notna().map({True: "error", False: "ok"})
    )
    frame["status"] = status.str.lower()
    frame["latency_ms"] = pd.to_numeric(frame["latency_ms"], errors="coerce")
    result: pd.DataFrame = frame
    return result


def between(rows: pd.DataFrame, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """Rows with start <= timestamp <= end."""
    stamps = rows["timestamp"]
    return rows[(stamps >= pd.Timestamp(start)) & (stamps <= pd.Timestamp(end))]


def shared_period(rows: pd.DataFrame, first: str, second: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The later first and the earlier last timestamp of two versions."""
    a, b = rows[rows["version"] == first], rows[rows["version"] == second]
    return (
        max(a["timestamp"].min(), b["timestamp"].min()),
        min(a["timestamp"].max(), b["timestamp"].max()),
    )


def p95(latencies: pd.Series) -> float:
    """numpy's default (linear) percentile, as DuckDB's quantile_cont."""
    return float(np.percentile(latencies.dropna().to_numpy(dtype=float), 95))


def accuracy(
    labeled: pd.DataFrame, version: str, start: dt.datetime, end: dt.datetime
) -> tuple[float, int]:
    """sklearn's accuracy of a version's labeled ok predictions in [start, end] (rows from
    `tests.performance_truth.labeled_predictions`: the latest feedback wins), and the
    number of labels."""
    rows = between(labeled[labeled["version"] == version], start, end)
    rows = rows[rows["truth"].notna()]
    truth, predicted = rows["truth"].map(canonical), rows["prediction"].map(canonical)
    return float(skm.accuracy_score(truth, predicted)), len(rows)


def labeled_in(
    labeled: pd.DataFrame, version: str, start: dt.datetime, end: dt.datetime
) -> pd.DataFrame:
    """A version's labeled ok predictions in [start, end] (rows of
    `tests.performance_truth.labeled_predictions`), with `truth` and `prediction` as
    canonical text."""
    rows = between(labeled[labeled["version"] == version], start, end)
    rows = rows[rows["truth"].notna()].copy()
    rows["truth"], rows["prediction"] = (
        rows["truth"].map(canonical),
        rows["prediction"].map(canonical),
    )
    return rows


def reference_rows(data_dir: Path, model_id: str) -> pd.DataFrame:
    """The model's reference file (label/prediction as canonical text as `truth` and
    `prediction`, plus the feature columns)."""
    rows: pd.DataFrame = pq.read_table(data_dir / "reference" / f"{model_id}.parquet").to_pandas()
    rows["truth"], rows["prediction"] = (
        rows["label"].map(canonical),
        rows["prediction"].map(canonical),
    )
    return rows


def f1(rows: pd.DataFrame, positive: str = "1") -> float:
    """sklearn's F1 of `prediction` against `truth` (rows from `labeled_in` / `reference_rows`)."""
    return float(skm.f1_score(rows["truth"], rows["prediction"], pos_label=positive))


def selection_screen(
    rows: pd.DataFrame,
    feature: str,
    *,
    positive: str = "1",
    min_size: int = 50,
    min_class: int = 10,
) -> tuple[str, str, float]:
    """The four-fifths screen by hand, with fairlearn's selection rate per group: groups
    with fewer than `min_size` rows or `min_class` labels of either class are not judged;
    the reference is the largest judged group. Returns the judged group furthest from it
    (by min(r, 1/r)), the reference group and the ratio of their selection rates."""
    truth, predicted = rows["truth"] == positive, rows["prediction"] == positive
    frame = fm.MetricFrame(
        metrics=fm.selection_rate, y_true=truth, y_pred=predicted, sensitive_features=rows[feature]
    )
    rates = frame.by_group
    sizes = rows.groupby(feature).size()
    positives = truth.groupby(rows[feature]).sum()
    judged = [
        g
        for g in sizes.index
        if sizes[g] >= min_size and min_class <= positives[g] <= sizes[g] - min_class
    ]
    reference = max(judged, key=lambda g: sizes[g])
    ratios = {g: float(rates[g] / rates[reference]) for g in judged if g != reference}
    worst = min(ratios, key=lambda g: min(ratios[g], 1 / ratios[g]))
    return str(worst), str(reference), ratios[worst]


def insert_alert(state: StateStore, model_id: str, *, alert_state: str = "firing") -> int:
    """An alert row as the alerts engine would write it; columns this test does not care
    about get a placeholder of their type (the alerts table belongs to monitor.ops.alerts)."""
    columns = state.read("PRAGMA table_info(alerts)")
    values: dict[str, Any] = {}
    for column in columns:
        if column["pk"] or not column["notnull"] or column["dflt_value"] is not None:
            continue
        kind = str(column["type"]).upper()
        values[column["name"]] = 0 if ("INT" in kind or "REAL" in kind) else "x"
    values |= {
        "fingerprint": f"test-{model_id}-{uuid.uuid4().hex}",
        "rule_id": "accuracy_drop",
        "severity": "critical",
        "labels": dumps({"model": model_id}),
        "state": alert_state,
        "summary": f"accuracy of {model_id} dropped",
        "last_evaluated_at": to_text(utc_now()),
    }
    if "model_id" in {c["name"] for c in columns}:
        values["model_id"] = model_id
    names = list(values)
    sql = (
        "INSERT INTO alerts ("
        + ", ".join(names)
        + ") VALUES ("
        + ", ".join("?" for _ in names)
        + ")"
    )
    with state.transaction() as tx:
        return int(tx.execute(sql, [values[n] for n in names]).lastrowid or 0)


OK = Status("ok", "fine")
WINDOW = Window(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 1, 2, tzinfo=dt.UTC))


def version_metrics(version: str = "a", **changes: object) -> VersionMetrics:
    """A healthy version's measurements with `changes`, for the verdict rules' tests."""
    base = VersionMetrics(
        version=version,
        window=WINDOW,
        predictions=10_000,
        errors=10,
        latency_p95_ms=100.0,
        metric="accuracy",
        value=0.85,
        estimated=False,
        labeled=5_000,
        higher_is_better=True,
        model_baseline=0.86,
        performance=OK,
        drift=OK,
        drift_share=0.0,
        fairness=OK,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]
