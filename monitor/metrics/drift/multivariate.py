"""Multivariate drift: can a classifier tell reference rows from current rows?

A seeded sample of each side (at most `SAMPLE_ROWS` rows, fetched by
`monitor.queries.drift_multivariate`) is encoded (numbers as they are, categories as
codes; missing stays missing) and a gradient-boosted tree classifier is cross-validated
(stratified 5 folds). The ROC AUC of its out-of-fold scores is about 0.5 when the sides
look alike. Drift when the AUC reaches `AUC_THRESHOLD` and is significantly above 0.5
(one-sided Mann-Whitney U test on the same scores, which is the AUC's own test).
Features that drive it: permutation importance (drop in AUC) on a held-out 30%.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from scipy import stats
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
from threadpoolctl import threadpool_limits

from monitor.metrics.drift.registry import Kind

SAMPLE_ROWS: Final = 4_000
AUC_THRESHOLD: Final = 0.55
SEED: Final = 7
MAX_CODES: Final = 250


@dataclass(frozen=True)
class MultivariateDrift:
    auc: float | None
    p_value: float | None
    threshold: float
    drifted: bool
    reference_rows: int
    current_rows: int
    importances: tuple[tuple[str, float], ...]
    """(feature, mean drop in AUC when the feature is shuffled), largest first."""
    status: str


def encode(
    reference: Mapping[str, Any], current: Mapping[str, Any], kinds: Mapping[str, Kind]
) -> tuple[NDArray[np.float64], NDArray[np.int64], list[bool]]:
    """Feature matrix (reference rows first), labels (1 = current) and which columns are
    categorical. Keys of `kinds` are the columns, in order."""
    columns: list[NDArray[np.float64]] = []
    categorical: list[bool] = []
    for name, kind in kinds.items():
        ref, cur = reference[name], current[name]
        if kind == "numeric":
            col = np.concatenate(
                [np.ma.filled(np.ma.asarray(ref, dtype=np.float64), np.nan),
                 np.ma.filled(np.ma.asarray(cur, dtype=np.float64), np.nan)]
            )  # fmt: skip
            categorical.append(False)
        else:
            raw = np.concatenate([np.ma.filled(ref, None), np.ma.filled(cur, None)])
            labels = sorted({str(v) for v in raw if v is not None})
            codes = {label: float(min(i, MAX_CODES)) for i, label in enumerate(labels)}
            col = np.array([np.nan if v is None else codes[str(v)] for v in raw], np.float64)
            categorical.append(True)
        columns.append(col)
    n_ref = len(next(iter(reference.values()))) if reference else 0
    n_cur = len(next(iter(current.values()))) if current else 0
    matrix = np.column_stack(columns) if columns else np.empty((n_ref + n_cur, 0))
    target = np.concatenate([np.zeros(n_ref, np.int64), np.ones(n_cur, np.int64)])
    return matrix, target, categorical


def _model(categorical: list[bool]) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        max_iter=40,
        learning_rate=0.1,
        max_leaf_nodes=15,
        categorical_features=np.array(categorical, dtype=bool) if any(categorical) else None,
        random_state=SEED,
    )


def domain_classifier(
    matrix: NDArray[np.float64],
    target: NDArray[np.int64],
    categorical: list[bool],
    names: Sequence[str],
) -> MultivariateDrift:
    """Cross-validated AUC of telling current (1) from reference (0) rows."""
    n_ref, n_cur = int((target == 0).sum()), int((target == 1).sum())
    if min(n_ref, n_cur) < 20 or matrix.shape[1] == 0:
        return MultivariateDrift(
            None, None, AUC_THRESHOLD, False, n_ref, n_cur, (), "not enough data"
        )
    # One OpenMP thread: on a busy 2-core machine, spinning worker threads made the fits
    # up to 10x slower; single-threaded they take about the same time every run.
    with threadpool_limits(limits=1):
        return _fit(matrix, target, categorical, names, n_ref, n_cur)


def _fit(
    matrix: NDArray[np.float64],
    target: NDArray[np.int64],
    categorical: list[bool],
    names: Sequence[str],
    n_ref: int,
    n_cur: int,
) -> MultivariateDrift:
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    scores = cross_val_predict(
        _model(categorical), matrix, target, cv=folds, method="predict_proba"
    )[:, 1]
    auc = float(roc_auc_score(target, scores))
    p_value = float(
        stats.mannwhitneyu(scores[target == 1], scores[target == 0], alternative="greater").pvalue
    )
    train_x, test_x, train_y, test_y = train_test_split(
        matrix, target, test_size=0.3, stratify=target, random_state=SEED
    )
    fitted = _model(categorical).fit(train_x, train_y)
    result = permutation_importance(
        fitted, test_x, test_y, scoring="roc_auc", n_repeats=3, random_state=SEED
    )
    importances = sorted(
        ((str(n), float(v)) for n, v in zip(names, result.importances_mean, strict=True)),
        key=lambda item: -item[1],
    )
    drifted = auc >= AUC_THRESHOLD and p_value < 0.05
    return MultivariateDrift(
        auc, p_value, AUC_THRESHOLD, drifted, n_ref, n_cur, tuple(importances), "ok"
    )


def domain_drift(
    reference: Mapping[str, Any], current: Mapping[str, Any], kinds: Mapping[str, Kind]
) -> MultivariateDrift:
    """Domain-classifier drift of two samples (column name -> values; numbers with NaN or
    masked for missing, else text or None) over the columns of `kinds`."""
    matrix, target, categorical = encode(reference, current, kinds)
    return domain_classifier(matrix, target, categorical, list(kinds))
