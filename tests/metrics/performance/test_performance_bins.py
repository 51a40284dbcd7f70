"""Score binning in SQL: reliability-curve bins exactly as sklearn's, and the binned ROC
AUC against sklearn's exact one (its error stays within the reported bound)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_auc_score

from monitor.core import schema
from monitor.core.catalog import Window
from monitor.core.config import ModelConfig
from monitor.core.scope import Scope
from monitor.core.store import LogStore
from monitor.metrics.performance.groups import GroupPerformance
from monitor.queries.performance_report import performance
from tests.logwriter import prediction, write_jsonl, write_parquet

START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
WINDOW = Window(START, START + dt.timedelta(days=1))
MODEL = ModelConfig(id="m", task="binary", positive_label="1")


def whole_window(data_dir: Path) -> GroupPerformance:
    overall = performance(LogStore(data_dir), MODEL, Scope.of(MODEL, WINDOW), bucket=None).overall()
    assert overall is not None
    return overall


def write_scores(data_dir: Path, scores: np.ndarray, labels: np.ndarray) -> None:
    n = len(scores)
    columns: dict[str, list[object]] = {
        name: [None] * n for name in schema.PREDICTION_BASE_SCHEMA.names
    }
    columns |= {
        "prediction_id": [f"p{i}" for i in range(n)],
        "timestamp": [START + dt.timedelta(seconds=i % 80_000) for i in range(n)],
        "model_id": ["m"] * n,
        "model_version": ["v1"] * n,
        "prediction": [str(int(s >= 0.5)) for s in scores],
        "probability": scores.tolist(),
        "status": ["ok"] * n,
        "label": [str(int(v)) for v in labels],
    }
    table = pa.Table.from_pydict(columns, schema=schema.PREDICTION_BASE_SCHEMA)
    write_parquet(data_dir, "predictions", "2026-11-01", "p.parquet", table)


def test_reliability_bins_follow_sklearn_at_the_edges(tmp_path: Path) -> None:
    edges = [i / 10 for i in range(11)] + [
        i * 0.1 for i in range(11)
    ]  # 0.3 and 0.30000000000000004
    scores = [*edges, 1e-12, 0.05, 0.5, 0.5000000001, 0.9999999, 0.45, 0.55, 0.7, 0.7]
    labels = [i % 2 for i in range(len(scores))]
    write_jsonl(
        tmp_path,
        "predictions",
        "2026-11-01",
        "p.jsonl",
        [
            prediction(
                f"e{i}",
                (START + dt.timedelta(minutes=i)).isoformat(),
                probability=s,
                prediction=int(s >= 0.5),
                label=y,
            )
            for i, (s, y) in enumerate(zip(scores, labels, strict=True))
        ],
    )
    prob_true, prob_pred = calibration_curve(labels, scores, n_bins=10)
    curve = whole_window(tmp_path).calibration
    assert [b.count for b in curve] == [
        int(c) for c in np.bincount(np.searchsorted(np.linspace(0, 1, 11)[1:-1], scores)) if c
    ]
    assert [b.observed.value for b in curve] == pytest.approx(list(prob_true), abs=1e-15)
    assert [b.mean_score for b in curve] == pytest.approx(list(prob_pred), abs=1e-15)


def _population(kind: str, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    labels = (rng.random(n) < 0.3).astype(int)
    if kind == "spread":  # scores over the whole range
        scores = 1 / (1 + np.exp(-(rng.normal(0, 1.5, n) + 1.2 * labels)))
    elif kind == "overconfident":  # crowded within 0.001 of 0 and 1
        scores = 1 / (1 + np.exp(-(rng.normal(0, 6, n) + 4 * labels)))
    else:  # "rounded": two decimals, so many exact ties
        scores = np.round(1 / (1 + np.exp(-(rng.normal(0, 1, n) + labels))), 2)
    return np.round(scores, 6), labels


@pytest.mark.parametrize("kind", ["spread", "overconfident", "rounded"])
def test_binned_auc_is_within_its_bound_of_sklearn(tmp_path: Path, kind: str) -> None:
    scores, labels = _population(kind, np.random.default_rng(4), 20_000)
    write_scores(tmp_path, scores, labels)
    group = whole_window(tmp_path)
    auc = group.metrics["roc_auc"]
    exact = roc_auc_score(labels, scores)
    assert auc.value is not None and group.auc_bound is not None
    assert abs(auc.value - exact) <= group.auc_bound + 1e-12
    assert abs(auc.value - exact) < 5e-4, (kind, auc.value, exact, group.auc_bound)
    assert auc.low is not None and auc.high is not None and auc.low < exact < auc.high
