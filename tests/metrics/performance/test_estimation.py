"""Label-free estimation (CBPE) on generated data with a known truth.

Covariate shift: the inputs move, P(label | inputs) stays, and the model's score is a
monotone function of the true log-odds, so P(label | score) stays too: the estimate must
follow the realized metrics within its band. Label shift (P(label | inputs) changes,
inputs stay): the estimate cannot know, so it must be flagged where labels exist."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn import metrics as skm
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from monitor.core import schema
from monitor.core.catalog import Window
from monitor.core.config import ModelConfig, parse_settings
from monitor.core.errors import ConfigError
from monitor.core.scope import Scope
from monitor.core.store import LogStore
from monitor.metrics.performance.estimation import ScoreCells, estimate_binary, fit_calibrator
from monitor.metrics.performance.report import PerformanceReport
from monitor.queries.performance_reference import fit_reference
from monitor.queries.performance_report import performance
from tests.logwriter import write_parquet

START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
DAYS = 12
PER_DAY = 3000


def _sigmoid(x: np.ndarray) -> np.ndarray:
    result: np.ndarray = 1 / (1 + np.exp(-x))
    return result


@dataclass(frozen=True)
class Population:
    x1: np.ndarray
    x2: np.ndarray
    label: np.ndarray
    score: np.ndarray


def draw(rng: np.random.Generator, n: int, shift: float, label_logit: float = 0.0) -> Population:
    """Truth: logit = -1 + 1.5 x1 + x2 (+ label_logit). Score: a miscalibrated monotone
    function of the truth's logit without label_logit (the model does not see it)."""
    x1 = rng.normal(shift, 1.0 + 0.3 * shift, n)
    x2 = rng.normal(-0.5 * shift, 1.0, n)
    signal = 1.5 * x1 + x2
    label = (rng.random(n) < _sigmoid(-1 + signal + label_logit)).astype(np.int64)
    score = np.round(_sigmoid(0.3 + 2.0 * signal), 6)
    return Population(x1, x2, label, score)


def build(data_dir: Path, *, label_shift: bool) -> tuple[ModelConfig, list[Population]]:
    rng = np.random.default_rng(11)
    reference = draw(rng, 20_000, 0.0)
    pq.write_table(
        pa.table(
            {
                "x1": reference.x1,
                "x2": reference.x2,
                "label": reference.label,
                "prediction": (reference.score >= 0.5).astype(np.int64),
                "probability": reference.score,
            }
        ),
        data_dir / "reference.parquet",
    )
    days = []
    for day in range(DAYS):
        shift = 2.2 * day / (DAYS - 1)
        if label_shift:
            population = draw(rng, PER_DAY, 0.0, label_logit=-1.5 if day >= DAYS // 2 else 0.0)
        else:
            population = draw(rng, PER_DAY, shift)
        days.append(population)
        when = START + dt.timedelta(days=day)
        stamps = [when + dt.timedelta(seconds=int(s)) for s in np.linspace(0, 86_000, PER_DAY)]
        columns = {
            "prediction_id": [f"d{day}-{i}" for i in range(PER_DAY)],
            "timestamp": stamps,
            "model_id": ["cbpe"] * PER_DAY,
            "model_version": ["v1"] * PER_DAY,
            "prediction": [str(int(s >= 0.5)) for s in population.score],
            "probability": population.score,
            "probabilities": [None] * PER_DAY,
            "latency_ms": [10.0] * PER_DAY,
            "status": ["ok"] * PER_DAY,
            "error": [None] * PER_DAY,
            "request_id": [None] * PER_DAY,
            "metadata": [None] * PER_DAY,
            "label": [str(v) for v in population.label],
        }
        table = pa.Table.from_pydict(columns, schema=schema.PREDICTION_BASE_SCHEMA)
        table = table.append_column("features.x1", pa.array(population.x1))
        write_parquet(data_dir, "predictions", when.date().isoformat(), "p.parquet", table)
    model = ModelConfig(
        id="cbpe", task="binary", positive_label="1", reference=data_dir / "reference.parquet"
    )
    return model, days


def report_reference(report: PerformanceReport) -> Path:
    """Where `run` wrote the reference file of this report."""
    return REFERENCES[id(report)]


REFERENCES: dict[int, Path] = {}


def run(data_dir: Path, label_shift: bool) -> tuple[PerformanceReport, list[Population]]:
    model, days = build(data_dir, label_shift=label_shift)
    window = Window(START, START + dt.timedelta(days=DAYS) - dt.timedelta(microseconds=1))
    report = performance(LogStore(data_dir), model, Scope.of(model, window), bucket="day")
    REFERENCES[id(report)] = data_dir / "reference.parquet"
    return report, days


@pytest.fixture(scope="module")
def covariate(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[PerformanceReport, list[Population]]:
    return run(tmp_path_factory.mktemp("covariate"), label_shift=False)


def realized(population: Population) -> dict[str, float]:
    y, p = population.label, (population.score >= 0.5).astype(int)
    return {
        "accuracy": skm.accuracy_score(y, p),
        "precision": skm.precision_score(y, p),
        "recall": skm.recall_score(y, p),
        "f1": skm.f1_score(y, p),
    }


def test_estimate_tracks_realized_metrics_under_covariate_shift(
    covariate: tuple[PerformanceReport, list[Population]],
) -> None:
    report, days = covariate
    buckets = report.buckets()
    assert len(buckets) == DAYS
    truth = [realized(p) for p in days]
    accuracies = [t["accuracy"] for t in truth]
    assert max(accuracies) - min(accuracies) > 0.05  # the shift really moves accuracy
    for name in ("accuracy", "precision", "recall", "f1"):
        inside, errors = 0, []
        for bucket, expected in zip(buckets, truth, strict=True):
            assert bucket.estimated is not None
            estimate = bucket.estimated.metrics[name]
            assert estimate.value is not None and estimate.low is not None
            assert estimate.high is not None
            inside += estimate.low <= expected[name] <= estimate.high
            errors.append(abs(estimate.value - expected[name]))
        assert inside >= DAYS - 1, (name, inside)
        assert float(np.mean(errors)) < 0.015, (name, errors)
    checks = [b.estimate_check for b in buckets]
    assert sum(c is not None and c.agrees for c in checks) >= DAYS - 1


def test_estimate_does_not_follow_label_shift_and_is_flagged(tmp_path: Path) -> None:
    """Fewer defaults than the model expects from the second half on: the inputs and
    scores do not change, so the estimate cannot change; where labels exist the check
    must say so. (Without labels nothing can; see monitor.metrics.performance.estimation.)"""
    report, days = run(tmp_path, label_shift=True)
    buckets = report.buckets()
    before = [
        b.estimated.metrics["accuracy"].value or 0.0 for b in buckets[: DAYS // 2] if b.estimated
    ]
    for day, (bucket, population) in enumerate(zip(buckets, days, strict=True)):
        accuracy = realized(population)["accuracy"]
        check = bucket.estimate_check
        assert bucket.estimated is not None and check is not None
        estimate = bucket.estimated.metrics["accuracy"]
        assert estimate.value is not None and estimate.low is not None and estimate.high is not None
        assert check.realized == pytest.approx(accuracy)
        if day < DAYS // 2:
            assert check.agrees
            continue
        assert abs(estimate.value - float(np.mean(before))) < 0.02  # still the old view
        assert accuracy < estimate.low - 0.03  # the labels show the real drop
        assert not check.agrees


def test_binned_estimate_matches_the_exact_row_by_row_estimate(
    covariate: tuple[PerformanceReport, list[Population]], tmp_path: Path
) -> None:
    """The SQL bins scores (about 0.001 wide); calibrating every row instead changes the
    estimates by less than 1e-3."""
    report, days = covariate
    model = ModelConfig(
        id="cbpe", task="binary", positive_label="1", reference=tmp_path / "reference.parquet"
    )
    reference = pq.read_table(report_reference(report)).to_pandas()
    reference.to_parquet(model.reference)
    calibrator = fit_reference(LogStore(tmp_path), model).calibrator
    assert calibrator is not None
    worst = 0.0
    for bucket, population in zip(report.buckets(), days, strict=True):
        c = calibrator.apply(population.score)
        predicted = population.score >= 0.5
        tp, fp = c[predicted].sum(), (1 - c[predicted]).sum()
        fn, tn = c[~predicted].sum(), (1 - c[~predicted]).sum()
        exact = {
            "accuracy": (tp + tn) / len(c),
            "precision": tp / (tp + fp),
            "recall": tp / (tp + fn),
            "f1": 2 * tp / (2 * tp + fp + fn),
        }
        assert bucket.estimated is not None
        for name, value in exact.items():
            worst = max(worst, abs((bucket.estimated.metrics[name].value or 0) - value))
    assert worst < 1e-3, worst


def test_calibrator_is_sklearn_isotonic_and_platt() -> None:
    rng = np.random.default_rng(3)
    scores = rng.random(5000)
    outcomes = (rng.random(5000) < scores**2).astype(float)
    calibrator = fit_calibrator(scores, outcomes, replicates=5)
    grid = np.linspace(-0.1, 1.1, 777)
    isotonic = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(scores, outcomes)
    assert np.allclose(calibrator.apply(grid), isotonic.predict(grid), atol=1e-12)
    assert calibrator.apply_replicates(grid).shape == (5, len(grid))
    platt = fit_calibrator(scores, outcomes, method="platt", replicates=0)
    logit = np.log(scores / (1 - scores)).reshape(-1, 1)
    logistic = LogisticRegression(C=1e6).fit(logit, outcomes.astype(int))
    inner = np.linspace(0.01, 0.99, 99)
    expected = logistic.predict_proba(np.log(inner / (1 - inner)).reshape(-1, 1))[:, 1]
    assert np.allclose(platt.apply(inner), expected, atol=2e-3)


def test_estimate_from_cells_against_a_direct_computation() -> None:
    rng = np.random.default_rng(8)
    scores = rng.random(4000)
    outcomes = (rng.random(4000) < scores).astype(float)
    calibrator = fit_calibrator(scores, outcomes, replicates=0, folds=0)  # label noise alone
    window = rng.beta(2, 3, 3000)
    predicted = window >= 0.5
    c = calibrator.apply(window)
    exact = {
        "accuracy": (c[predicted].sum() + (1 - c[~predicted]).sum()) / len(window),
        "precision": c[predicted].mean(),
        "recall": c[predicted].sum() / c.sum(),
        "f1": 2 * c[predicted].sum() / (predicted.sum() + c.sum()),
    }
    # one cell per row: the estimate is exact
    cells = ScoreCells(np.ones(len(window)), window.copy(), predicted)
    estimate = estimate_binary(cells, calibrator)
    for name, value in exact.items():
        assert estimate.metrics[name].value == pytest.approx(value, rel=1e-12)
    # 1000 bins per predicted class, as the SQL does: off by less than 1e-3
    bins = np.minimum((window * 1000).astype(int), 999)
    count = np.zeros(2000)
    sums = np.zeros(2000)
    np.add.at(count, bins + 1000 * (~predicted), 1)
    np.add.at(sums, bins + 1000 * (~predicted), window)
    binned = estimate_binary(ScoreCells(count, sums, np.arange(2000) < 1000), calibrator)
    for name, value in exact.items():
        assert abs((binned.metrics[name].value or 0) - value) < 1e-3, name
    # the band's label-noise part: a Poisson-binomial accuracy has variance sum c(1 - c)
    q = np.where(predicted, c, 1 - c)
    sd = np.sqrt((q * (1 - q)).sum()) / len(window)
    accuracy = estimate.metrics["accuracy"]
    assert accuracy.high is not None and accuracy.low is not None
    assert (accuracy.high - accuracy.low) / 2 == pytest.approx(1.959964 * sd, rel=1e-4)


def test_no_estimate_without_reference_scores(tmp_path: Path) -> None:
    path = tmp_path / "ref.parquet"
    pq.write_table(pa.table({"label": [0, 1, 1, 0], "prediction": [0, 1, 0, 0]}), path)
    store = LogStore(tmp_path)
    fit = fit_reference(store, ModelConfig(id="x", reference=path))
    assert fit.calibrator is None and fit.estimation_note is not None
    assert fit.baseline.metrics["accuracy"].value == pytest.approx(0.75)
    missing = fit_reference(store, ModelConfig(id="x", reference=tmp_path / "nope.parquet"))
    assert missing.baseline.source is None and "does not exist" in (missing.baseline.note or "")


def test_configured_baseline_takes_precedence(tmp_path: Path) -> None:
    path = tmp_path / "ref.parquet"
    pq.write_table(
        pa.table(
            {"label": [0, 1, 1, 0], "prediction": [0, 1, 0, 0], "probability": [0.1, 0.8, 0.4, 0.3]}
        ),
        path,
    )
    settings = parse_settings(
        {"models": [{"id": "x", "reference": str(path), "baseline": {"accuracy": 0.9, "mae": 3}}]},
        base_dir=tmp_path,
    )
    baseline = fit_reference(LogStore(tmp_path), settings.model("x")).baseline
    assert baseline.source == "reference and config"
    assert baseline.metrics["accuracy"].value == 0.9  # configured, not the reference's 0.75
    assert baseline.metrics["recall"].value == pytest.approx(0.5)  # from the reference
    for bad in ("high", True, float("nan")):
        with pytest.raises(ConfigError, match=r"models\[0\]\.baseline\.accuracy"):
            parse_settings(
                {"models": [{"id": "x", "baseline": {"accuracy": bad}}]}, base_dir=tmp_path
            )
