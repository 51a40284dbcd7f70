"""Experiment: does calibrating P(label | features, score) instead of P(label | score)
keep the label-free estimate right under covariate shift? (issue 13)

Usage:
    python benchmarks/estimate_features_experiment.py [--demo]

Per chunk it computes the realized accuracy, precision, recall, F1 and ROC AUC
(scikit-learn), the product's score-only estimate (`fit_calibrator` + `estimate_binary`,
isotonic), and a feature-aware estimate: a HistGradientBoostingClassifier of the label
on the model's inputs and its score (categories natively), fitted on the labeled
reference, its output recalibrated by isotonic regression fitted on the reference's
out-of-fold outputs; the expected confusion matrix and ROC AUC come from the per-row
probabilities as in CBPE, the band from the Poisson-binomial label noise plus the
estimator's own error measured on held-out reference folds
(`estimation_bands.held_out_errors`). Prints coverage of the 95% band, mean band width
and mean absolute error per metric for both.

Data: NannyML's car-loan data (reference 50,000 rows, analysis 10 chunks of 5,000 in id
order); with --demo also the demo's credit-risk model (its reference against each day
of its labeled v1 predictions, features from the `labeled` view).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn import metrics as skm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.metrics.intervals import CONFIDENCE, z_value  # noqa: E402
from monitor.metrics.performance.estimation import (  # noqa: E402
    BINARY_METRICS,
    _values_and_noise,
    estimate_binary,
    fit_calibrator,
)
from monitor.metrics.performance.estimation_bands import (  # noqa: E402
    ChunkOutcome,
    HeldOutErrors,
    band,
    held_out_errors,
)
from monitor.metrics.performance.estimation_features import (  # noqa: E402
    categorical_mask,
    encode,
    learn_codings,
)
from tests.binary_estimate_support import distinct_cells  # noqa: E402

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
CAR_FEATURES = (
    "car_value",
    "salary_range",
    "debt_to_income_ratio",
    "loan_length",
    "repaid_loan_on_prev_car",
    "size_of_downpayment",
    "driver_tenure",
)
TREES: dict[str, Any] = {"max_iter": 200, "learning_rate": 0.1, "early_stopping": False}
OOF_FOLDS = 5


@dataclass(frozen=True)
class Window:
    features: pd.DataFrame
    scores: FloatArray
    labels: IntArray
    predicted: IntArray


def realized(w: Window) -> dict[str, float]:
    return {
        "accuracy": float(skm.accuracy_score(w.labels, w.predicted)),
        "precision": float(skm.precision_score(w.labels, w.predicted)),
        "recall": float(skm.recall_score(w.labels, w.predicted)),
        "f1": float(skm.f1_score(w.labels, w.predicted)),
        "roc_auc": float(skm.roc_auc_score(w.labels, w.scores)),
    }


# ---------------------------------------------------------------- feature-aware model
def _trees(categorical: npt.NDArray[np.bool_], seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    mask = np.append(categorical, False)  # the score is the last column
    return HistGradientBoostingClassifier(
        categorical_features=mask if mask.any() else None, random_state=seed, **TREES
    )


class FeatureCalibrator:
    """P(label | features, score): gradient-boosted trees, then isotonic on their
    out-of-fold outputs (`isotonic=False`: the trees' output as it is)."""

    def __init__(
        self,
        matrix: FloatArray,
        outcomes: FloatArray,
        categorical: Any,
        *,
        isotonic: bool = True,
        seed: int = 0,
    ) -> None:
        from sklearn.isotonic import IsotonicRegression

        self.model = _trees(categorical, seed).fit(matrix, outcomes.astype(int))
        self.isotonic = None
        if isotonic:
            out_of_fold = np.empty(len(outcomes))
            rng = np.random.default_rng(seed)
            parts = np.array_split(rng.permutation(len(outcomes)), OOF_FOLDS)
            for i, held in enumerate(parts):
                train = np.concatenate([p for j, p in enumerate(parts) if j != i])
                fold = _trees(categorical, seed).fit(matrix[train], outcomes[train].astype(int))
                out_of_fold[held] = fold.predict_proba(matrix[held])[:, 1]
            self.isotonic = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(
                out_of_fold, outcomes
            )

    def apply(self, matrix: FloatArray) -> FloatArray:
        raw = self.model.predict_proba(matrix)[:, 1]
        if self.isotonic is None:
            return np.asarray(raw, dtype=np.float64)
        return np.asarray(self.isotonic.predict(raw), dtype=np.float64)


def feature_matrix(features: pd.DataFrame, scores: FloatArray, codings: Any) -> FloatArray:
    return np.column_stack([encode(features, codings).matrix, scores])


def fold_estimator(
    matrix: FloatArray,
    outcomes: FloatArray,
    predicted: npt.NDArray[np.bool_],
    categorical: Any,
    isotonic: bool,
) -> Any:
    scores = matrix[:, -1]

    def run(train: IntArray, chunks: Sequence[IntArray]) -> list[ChunkOutcome]:
        calibrator = FeatureCalibrator(
            matrix[train], outcomes[train], categorical, isotonic=isotonic
        )
        found: list[ChunkOutcome] = []
        for chunk in chunks:
            ones = np.ones(len(chunk))
            p = calibrator.apply(matrix[chunk])
            est, noise = _values_and_noise(p, ones, predicted[chunk], scores[chunk])
            real, _ = _values_and_noise(outcomes[chunk], ones, predicted[chunk], scores[chunk])
            found.append({k: (est[k], real[k], noise[k]) for k in est})
        return found

    return run


def feature_estimate(
    calibrator: FeatureCalibrator,
    held_out: HeldOutErrors | None,
    matrix: FloatArray,
    predicted: npt.NDArray[np.bool_],
) -> dict[str, tuple[float, float, float]]:
    p = calibrator.apply(matrix)
    ones = np.ones(len(p))
    values, noise = _values_and_noise(p, ones, predicted, matrix[:, -1])
    z = z_value(CONFIDENCE)
    out = {}
    for name in BINARY_METRICS:
        excess = held_out.excess(name) if held_out is not None else 0.0
        m = band(values[name], noise[name] + excess, len(p), z)
        assert m.value is not None and m.low is not None and m.high is not None
        out[name] = (m.value, m.low, m.high)
    return out


# ---------------------------------------------------------------- comparison
def summarize(rows: dict[str, list[tuple[float, float, float, float]]]) -> dict[str, str]:
    """rows per metric: (realized, value, low, high) per chunk."""
    out = {}
    for name, found in rows.items():
        a = np.array(found)
        inside = int(((a[:, 2] <= a[:, 0]) & (a[:, 0] <= a[:, 3])).sum())
        width = float((a[:, 3] - a[:, 2]).mean())
        mae = float(np.abs(a[:, 1] - a[:, 0]).mean())
        out[name] = f"{inside}/{len(a)} | {width:.4f} | {mae:.4f}"
    return out


def run(name: str, reference: Window, windows: list[Window], folds_repeats: int) -> None:
    print(f"\n## {name}: reference {len(reference.scores)} rows, {len(windows)} chunks")
    started = time.perf_counter()
    score_only = fit_calibrator(
        reference.scores,
        reference.labels.astype(np.float64),
        predicted=reference.predicted == 1,
    )
    score_seconds = time.perf_counter() - started
    codings = learn_codings(reference.features)
    categorical = categorical_mask(codings)
    ref_matrix = feature_matrix(reference.features, reference.scores, codings)
    outcomes = reference.labels.astype(np.float64)
    variants: dict[str, Any] = {}
    for isotonic in (False, True):
        started = time.perf_counter()
        calibrator = FeatureCalibrator(ref_matrix, outcomes, categorical, isotonic=isotonic)
        held_out = held_out_errors(
            len(outcomes),
            fold_estimator(ref_matrix, outcomes, reference.predicted == 1, categorical, isotonic),
            repeats=folds_repeats,
        )
        seconds = time.perf_counter() - started
        label = "features+isotonic" if isotonic else "features (trees only)"
        variants[label] = (calibrator, held_out, seconds)
    print(
        f"fit seconds: score-only {score_seconds:.1f}; "
        + "; ".join(f"{k} {v[2]:.1f}" for k, v in variants.items())
    )
    for label, (_, held_out, _) in variants.items():
        if held_out is not None:
            print(
                f"{label} held-out excess sd: "
                + ", ".join(
                    f"{e.metric} {np.sqrt(max(held_out.excess(e.metric), 0)):.4f} "
                    f"(bias {e.bias:+.4f})"
                    for e in held_out.errors
                )
            )
    tables: dict[str, dict[str, list[tuple[float, float, float, float]]]] = {
        k: {m: [] for m in BINARY_METRICS} for k in ("score-only", *variants)
    }
    print("\nper chunk (realized / score-only / features+isotonic), p-bar vs label rate:")
    for i, w in enumerate(windows):
        truth = realized(w)
        est = estimate_binary(distinct_cells(w.scores, w.predicted == 1), score_only)
        for m in BINARY_METRICS:
            metric = est.metrics[m]
            assert metric.value is not None and metric.low is not None
            assert metric.high is not None
            tables["score-only"][m].append((truth[m], metric.value, metric.low, metric.high))
        matrix = feature_matrix(w.features, w.scores, codings)
        for label, (calibrator, held_out, _) in variants.items():
            for m, (v, lo, hi) in feature_estimate(
                calibrator, held_out, matrix, w.predicted == 1
            ).items():
                tables[label][m].append((truth[m], v, lo, hi))
        p = variants["features+isotonic"][0].apply(matrix)
        print(
            f"chunk {i}: "
            + "  ".join(
                f"{m} {truth[m]:.4f}/{tables['score-only'][m][-1][1]:.4f}/"
                f"{tables['features+isotonic'][m][-1][1]:.4f}"
                for m in BINARY_METRICS
            )
            + f"  p-bar {p.mean():.4f} rate {w.labels.mean():.4f}"
            + f"  score-PSI {est.score_shift:.2f}"
        )
    print("\n| metric | " + " | ".join(f"{k}: inside, width, MAE" for k in tables) + " |")
    print("|---|" + "---|" * len(tables))
    summaries = {k: summarize(v) for k, v in tables.items()}
    for m in BINARY_METRICS:
        print(f"| {m} | " + " | ".join(summaries[k][m] for k in tables) + " |")


def side_check(reference: Window, windows: list[Window], label: str) -> None:
    """Is P(label | features, score) the reference's in `windows`? Out-of-fold log-loss on
    the windows' rows of trees fitted on reference + windows, without and with a 0/1
    column saying which side a row is from: the column helps only if the relation moved."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    codings = learn_codings(reference.features)
    ref = feature_matrix(reference.features, reference.scores, codings)
    cur = np.vstack([feature_matrix(w.features, w.scores, codings) for w in windows])
    labels = np.concatenate([reference.labels, *(w.labels for w in windows)])
    side = np.r_[np.zeros(len(ref)), np.ones(len(cur))]
    losses = []
    for with_side in (False, True):
        matrix = np.vstack([ref, cur])
        categorical = categorical_mask(codings)
        if with_side:
            matrix, categorical = np.column_stack([matrix, side]), np.append(categorical, False)
        folds = StratifiedKFold(5, shuffle=True, random_state=0)
        p = cross_val_predict(
            _trees(categorical, 0), matrix, labels, cv=folds, method="predict_proba"
        )[:, 1]
        losses.append(skm.log_loss(labels[len(ref) :], p[len(ref) :]))
    print(
        f"{label}: out-of-fold log-loss on its {len(cur)} rows, without the side column "
        f"{losses[0]:.4f}, with it {losses[1]:.4f} (difference x rows: "
        f"{(losses[0] - losses[1]) * len(cur):.0f} nats)"
    )


# ---------------------------------------------------------------- data
def car_loan() -> tuple[Window, list[Window]]:
    from tests.binary_estimate_support import CAR_LOAN_CHUNK
    from tests.binary_estimate_support import car_loan as read

    reference, analysis = read()

    def window(frame: pd.DataFrame) -> Window:
        return Window(
            frame.loc[:, list(CAR_FEATURES)].reset_index(drop=True),
            np.asarray(frame.y_pred_proba, dtype=np.float64),
            np.asarray(frame.repaid == 1, dtype=np.int64),
            np.asarray(frame.y_pred, dtype=np.int64),
        )

    chunks = [
        analysis.iloc[i : i + CAR_LOAN_CHUNK] for i in range(0, len(analysis), CAR_LOAN_CHUNK)
    ]
    return window(reference), [window(c) for c in chunks]


def demo(folder: Path) -> tuple[Window, list[Window]]:
    from monitor.core.schema import feature_column
    from monitor.core.sqlutil import quote_identifier
    from monitor.core.store import LogStore
    from monitor.demo import generate_demo
    from monitor.demo.spec import CREDIT

    generate_demo(folder, days=30, predictions=200_000)
    names = [n for n, _ in CREDIT.features]
    store = LogStore(folder)
    try:
        columns = ", ".join(
            f"{quote_identifier(feature_column(n))} AS {quote_identifier(n)}" for n in names
        )
        rows = store.fetch_arrays(
            f"SELECT timestamp, prediction, probability, label, {columns} FROM labeled "  # noqa: S608 (quoted identifiers)
            "WHERE model_id = 'credit-risk' AND model_version = 'v1' AND status = 'ok' "
            "AND label IS NOT NULL AND probability IS NOT NULL ORDER BY timestamp"
        )
    finally:
        store.close()
    frame = pd.DataFrame({k: np.asarray(v) for k, v in rows.items()})
    ref = pd.read_parquet(folder / "reference" / "credit-risk.parquet")
    reference = Window(
        ref.loc[:, names].reset_index(drop=True),
        np.asarray(ref.probability, dtype=np.float64),
        np.asarray(ref.label == 1, dtype=np.int64),
        np.asarray(ref.prediction == 1, dtype=np.int64),
    )
    day = pd.to_datetime(frame.timestamp, utc=True).dt.floor("D")
    windows = [
        Window(
            part.loc[:, names].reset_index(drop=True).astype(ref[names].dtypes.to_dict()),
            np.asarray(part.probability, dtype=np.float64),
            np.asarray(part.label.astype(str) == "1", dtype=np.int64),
            np.asarray(part.prediction.astype(str) == "1", dtype=np.int64),
        )
        for _, part in frame.groupby(day)
    ]
    return reference, windows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", action="store_true", help="also the demo's credit-risk data")
    parser.add_argument("--repeats", type=int, default=1, help="held-out fold repeats")
    args = parser.parse_args()
    reference, windows = car_loan()
    run("car-loan", reference, windows, args.repeats)
    side_check(reference, windows[:5], "car-loan first half")
    side_check(reference, windows[5:], "car-loan second half")
    if args.demo:
        with tempfile.TemporaryDirectory() as tmp:
            run("demo credit-risk (v1 days)", *demo(Path(tmp) / "demo"), args.repeats)


if __name__ == "__main__":
    main()
