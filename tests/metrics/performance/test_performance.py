"""Performance on the demo logs against scikit-learn on the same rows, read independently
(tests/performance_truth.py reads the files with pyarrow and json)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from monitor.cli.main import main
from monitor.core import catalog
from monitor.core.catalog import Window
from monitor.core.config import Settings, load_settings
from monitor.core.scope import Scope
from monitor.core.store import LogStore
from monitor.metrics.performance.groups import GroupPerformance
from monitor.metrics.performance.report import PerformanceReport
from monitor.metrics.performance.segments import MISSING, OTHER
from monitor.queries.performance_reference import fit_reference
from monitor.queries.performance_report import headline, performance
from monitor.queries.performance_segments import segments
from tests.performance_truth import labeled_predictions

CREDIT = "credit-risk"
DEMAND = "demand-forecast"


@pytest.fixture(scope="module")
def store(demo_dir: Path) -> LogStore:
    return LogStore(demo_dir)


@pytest.fixture(scope="module")
def settings(demo_dir: Path) -> Settings:
    return load_settings(demo_dir / "monitor.toml")


def whole_window(store: LogStore, model_id: str) -> Window:
    info = next(m for m in catalog.inventory(store) if m.model_id == model_id)
    return Window(info.first_seen, info.last_seen)


def scope_of(
    settings: Settings, model_id: str, window: Window, versions: tuple[str, ...] = ()
) -> Scope:
    return Scope.of(settings.model(model_id), window, versions)


def by_day_version(rows: pd.DataFrame) -> dict[tuple[dt.datetime, str], pd.DataFrame]:
    """Rows per (UTC day, version), with plain datetime keys as the report has."""
    return {
        (pd.Timestamp(str(key[0])).to_pydatetime(), str(key[1])): part
        for key, part in rows.groupby(["day", "version"])
    }


def by_day(rows: pd.DataFrame) -> dict[dt.datetime, pd.DataFrame]:
    return {pd.Timestamp(str(key[0])).to_pydatetime(): part for key, part in rows.groupby(["day"])}


def by_version(rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {str(key[0]): part for key, part in rows.groupby(["version"])}


def must(group: GroupPerformance | None) -> GroupPerformance:
    assert group is not None
    return group


def bucket_at(report: PerformanceReport, day: dt.datetime) -> GroupPerformance:
    return next(g for g in report.buckets() if g.start == day)


def starts(report: PerformanceReport) -> list[tuple[dt.datetime, GroupPerformance]]:
    return [(g.start, g) for g in report.buckets() if g.start is not None]


@pytest.fixture(scope="module")
def credit_rows(demo_dir: Path) -> pd.DataFrame:
    return labeled_predictions(demo_dir, CREDIT)


@pytest.fixture(scope="module")
def credit_report(store: LogStore, settings: Settings) -> PerformanceReport:
    scope = scope_of(settings, CREDIT, whole_window(store, CREDIT))
    return performance(store, settings.model(CREDIT), scope, bucket="day")


def test_binary_metrics_per_day_and_version_match_sklearn(
    credit_report: PerformanceReport, credit_rows: pd.DataFrame
) -> None:
    checked = 0
    groups = {(g.start, g.version): g for g in credit_report.groups}
    for key, rows in by_day_version(credit_rows).items():
        group = groups[key]
        assert group.predictions == len(rows)
        labeled = rows[rows["truth"].notna()]
        assert group.labeled == len(labeled)
        if len(labeled) == 0:
            assert group.metrics == {}
            continue
        y = (labeled["truth"] == "1").to_numpy()
        pred = (labeled["prediction"] == "1").to_numpy()
        score = labeled["probability"].to_numpy(dtype=float)
        m = group.metrics
        assert m["accuracy"].value == pytest.approx(skm.accuracy_score(y, pred), abs=1e-12)
        assert m["accuracy"].n == len(labeled)
        if pred.any():
            assert m["precision"].value == pytest.approx(skm.precision_score(y, pred), abs=1e-12)
        else:
            assert m["precision"].value is None
        if y.any():
            assert m["recall"].value == pytest.approx(skm.recall_score(y, pred), abs=1e-12)
            assert m["f1"].value == pytest.approx(skm.f1_score(y, pred), abs=1e-12)
        if y.any() and not y.all():
            auc = skm.roc_auc_score(y, score)
            assert group.auc_bound is not None
            assert abs(m["roc_auc"].value - auc) <= group.auc_bound + 1e-12
            assert abs(m["roc_auc"].value - auc) < 2e-3
            assert m["log_loss"].value == pytest.approx(
                skm.log_loss(y, score, labels=[False, True]), rel=1e-9
            )
        expected = skm.confusion_matrix(labeled["truth"], labeled["prediction"], labels=["0", "1"])
        assert group.confusion is not None
        assert group.confusion.classes == ("0", "1")
        assert np.array_equal(group.confusion.array(), expected)
        checked += 1
    assert checked >= 15


def test_pooled_groups_and_coverage(
    credit_report: PerformanceReport, credit_rows: pd.DataFrame
) -> None:
    for day, rows in by_day(credit_rows).items():
        group = bucket_at(credit_report, day)
        labeled = rows[rows["truth"].notna()]
        assert (group.predictions, group.labeled) == (len(rows), len(labeled))
        assert group.coverage == pytest.approx(len(labeled) / len(rows))
        if len(labeled):
            assert group.metrics["accuracy"].value == pytest.approx(
                (labeled["truth"] == labeled["prediction"]).mean()
            )
    for version, rows in by_version(credit_rows).items():
        assert must(credit_report.overall(version)).predictions == len(rows)
    overall = credit_report.overall()
    assert overall is not None and overall.predictions == len(credit_rows)


def test_calibration_curve_matches_sklearn(
    credit_report: PerformanceReport, credit_rows: pd.DataFrame
) -> None:
    for version, rows in by_version(credit_rows).items():
        labeled = rows[rows["truth"].notna() & rows["probability"].notna()]
        group = must(credit_report.overall(version))
        prob_true, prob_pred = calibration_curve(
            labeled["truth"] == "1", labeled["probability"], n_bins=10
        )
        assert [b.observed.value for b in group.calibration] == pytest.approx(prob_true, abs=1e-12)
        assert [b.mean_score for b in group.calibration] == pytest.approx(prob_pred, abs=1e-12)


def test_confidence_quantiles_and_entropy_match_numpy(
    credit_report: PerformanceReport, credit_rows: pd.DataFrame
) -> None:
    for day, rows in by_day(credit_rows).items():
        group = bucket_at(credit_report, day)
        p = rows["probability"].to_numpy(dtype=float)
        confidence = np.where(rows["prediction"] == "1", p, 1 - p)
        expected = np.quantile(confidence, [0.1, 0.25, 0.5, 0.75, 0.9])
        assert group.confidence is not None
        # order statistics are placed inside their 0.001-wide score bins
        assert np.abs(np.array(group.confidence) - expected).max() < 1e-3
        with np.errstate(divide="ignore", invalid="ignore"):
            entropy = -np.nan_to_num(p * np.log2(p)) - np.nan_to_num((1 - p) * np.log2(1 - p))
        assert group.entropy_mean == pytest.approx(entropy.mean(), rel=1e-9)


def test_regression_metrics_per_day_and_version_match_sklearn(
    store: LogStore, settings: Settings, demo_dir: Path
) -> None:
    rows = labeled_predictions(demo_dir, DEMAND)
    scope = scope_of(settings, DEMAND, whole_window(store, DEMAND))
    report = performance(store, settings.model(DEMAND), scope, bucket="day")
    groups = {(g.start, g.version): g for g in report.groups}
    checked = 0
    for key, part in by_day_version(rows).items():
        group = groups[key]
        labeled = part[part["truth"].notna()]
        assert (group.predictions, group.labeled) == (len(part), len(labeled))
        if len(labeled) < 2:
            continue
        y = labeled["truth"].astype(float).to_numpy()
        yhat = labeled["prediction"].astype(float).to_numpy()
        m = group.metrics
        assert m["mae"].value == pytest.approx(skm.mean_absolute_error(y, yhat), rel=1e-9)
        assert m["rmse"].value == pytest.approx(skm.root_mean_squared_error(y, yhat), rel=1e-9)
        assert m["r2"].value == pytest.approx(skm.r2_score(y, yhat), rel=1e-9)
        assert m["residual_mean"].value == pytest.approx(np.mean(y - yhat), rel=1e-9, abs=1e-9)
        assert m["residual_std"].value == pytest.approx(np.std(y - yhat), rel=1e-9)
        checked += 1
    assert checked >= 10
    v1, v2 = must(report.overall("v1")).metrics["mae"], must(report.overall("v2")).metrics["mae"]
    assert v1.value is not None and v2.value is not None and v2.value < v1.value


def test_reference_baseline_matches_sklearn(
    store: LogStore, settings: Settings, demo_dir: Path
) -> None:
    import pyarrow.parquet as pq

    reference = pq.read_table(demo_dir / "reference" / f"{CREDIT}.parquet").to_pandas()
    fit = fit_reference(store, settings.model(CREDIT))
    assert fit.baseline.source == "reference"
    assert fit.baseline.reference_rows == len(reference)
    y, pred = reference["label"] == 1, reference["prediction"] == 1
    base = fit.baseline.metrics
    assert base["accuracy"].value == pytest.approx(skm.accuracy_score(y, pred))
    assert base["f1"].value == pytest.approx(skm.f1_score(y, pred))
    assert abs(base["roc_auc"].value - skm.roc_auc_score(y, reference["probability"])) < 1e-3
    regression = fit_reference(store, settings.model(DEMAND)).baseline.metrics
    demand = pq.read_table(demo_dir / "reference" / f"{DEMAND}.parquet").to_pandas()
    assert regression["mae"].value == pytest.approx(
        skm.mean_absolute_error(demand["label"], demand["prediction"])
    )


def _manifest_window(demo_dir: Path, name: str) -> Window:
    manifest = json.loads((demo_dir / "demo_manifest.json").read_text())
    problem = next(p for p in manifest["problems"] if p["name"] == name)
    end = dt.datetime.fromisoformat(problem["end"]) - dt.timedelta(microseconds=1)
    return Window(dt.datetime.fromisoformat(problem["start"]), end)


def test_demo_canary_v3_is_found_worse_than_v2_on_the_same_days(
    store: LogStore, settings: Settings, demo_dir: Path
) -> None:
    window = _manifest_window(demo_dir, "canary_regression")
    scope = scope_of(settings, CREDIT, window)
    report = performance(store, settings.model(CREDIT), scope, bucket="day")
    v2, v3 = report.overall("v2"), report.overall("v3")
    assert v2 is not None and v3 is not None
    a2, a3 = v2.metrics["accuracy"], v3.metrics["accuracy"]
    assert a3.n >= 100
    assert a2.value is not None and a3.value is not None
    assert a2.value - a3.value > 0.04, (a2, a3)
    assert a3.high is not None and a2.low is not None and a3.high < a2.low  # bands apart


def test_demo_label_shift_breaks_the_estimate_and_is_flagged(
    credit_report: PerformanceReport, demo_dir: Path
) -> None:
    window = _manifest_window(demo_dir, "label_shift")
    during = [g for start, g in starts(credit_report) if window.start <= start <= window.end]
    assert during
    for group in during:
        check = group.estimate_check
        assert check is not None and not check.agrees
        assert check.estimated.value is not None and check.realized < check.estimated.value - 0.05


def test_unlabeled_tail_shows_estimates_only(
    credit_report: PerformanceReport, demo_dir: Path
) -> None:
    window = _manifest_window(demo_dir, "unlabeled_tail")
    tail = [g for start, g in starts(credit_report) if start >= window.start]
    assert len(tail) == 2
    for group in tail:
        assert group.labeled == 0 and group.predictions > 0
        assert group.metrics == {}
        assert group.estimated is not None
        accuracy = group.estimated.metrics["accuracy"]
        assert accuracy.value is not None and accuracy.low is not None
        assert accuracy.low < accuracy.value < (accuracy.high or 0)


def test_cli_json(demo_dir: Path, credit_rows: pd.DataFrame) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor.cli",
            "--config",
            str(demo_dir / "monitor.toml"),
            "performance",
            "--model",
            CREDIT,
            "--since",
            "2000-01-01",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    assert document["task"] == "binary"
    assert document["baseline"]["source"] == "reference"
    buckets = document["buckets"]
    days = by_day(credit_rows)
    assert len(buckets) == len(days)
    for bucket in buckets:
        rows = days[dt.datetime.fromisoformat(bucket["start"])]
        labeled = rows[rows["truth"].notna()]
        assert bucket["predictions"] == len(rows) and bucket["labeled"] == len(labeled)
        assert bucket["estimated"]["metrics"]["accuracy"]["value"] is not None
        if len(labeled) == 0:
            assert bucket["metrics"] is None
            continue
        accuracy = bucket["metrics"]["accuracy"]
        assert accuracy["value"] == pytest.approx(
            (labeled["truth"] == labeled["prediction"]).mean()
        )
        base = document["baseline"]["metrics"]["accuracy"]["value"]
        assert accuracy["delta"] == pytest.approx(accuracy["value"] - base)
        assert accuracy["low"] < accuracy["value"] < accuracy["high"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--model", "nope"], "no predictions logged for model 'nope'"),
        (["--model", CREDIT, "--version", "v9"], "no version 'v9'"),
        (["--model", CREDIT, "--since", "2026-11-20", "--until", "2026-11-01"], "--since"),
        (["--model", CREDIT, "--bucket", "year"], "invalid choice"),
    ],
)
def test_cli_bad_input_exits_2(
    demo_dir: Path, arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--config", str(demo_dir / "monitor.toml"), "performance", *arguments, "--json"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], lines


def test_segments_match_pandas(store: LogStore, settings: Settings, demo_dir: Path) -> None:
    rows = labeled_predictions(demo_dir, CREDIT, ("employment_type", "income"))
    scope = scope_of(settings, CREDIT, whole_window(store, CREDIT))
    model = settings.model(CREDIT)
    report = segments(store, model, scope, feature="employment_type")
    assert report.metric == "error_rate"
    expected = rows.groupby(rows["employment_type"].fillna(MISSING))
    assert {s.label for s in report.segments} == set(expected.groups)
    for segment in report.segments:
        part = expected.get_group(segment.label)
        labeled = part[part["truth"].notna()]
        wrong = int((labeled["truth"] != labeled["prediction"]).sum())
        assert (segment.predictions, segment.labeled) == (len(part), len(labeled))
        interval = stats.binomtest(wrong, len(labeled)).proportion_ci(method="wilson")
        assert segment.error.value == pytest.approx(wrong / len(labeled))
        assert (segment.error.low, segment.error.high) == pytest.approx(
            (interval.low, interval.high)
        )
    numeric = segments(store, model, scope, feature="income")
    edges = np.quantile(rows["income"].dropna().astype(float), [0.2, 0.4, 0.6, 0.8])
    index = np.searchsorted(edges, rows["income"].astype(float), side="right")
    assert [s.predictions for s in numeric.segments] == np.bincount(index).tolist()
    top = segments(store, model, scope, feature="employment_type", top=2)
    assert top.segments[-1].label == OTHER
    assert sum(s.predictions for s in top.segments) == len(rows)


def test_regression_bands_match_scipy(store: LogStore, settings: Settings, demo_dir: Path) -> None:
    rows = labeled_predictions(demo_dir, DEMAND)
    labeled = rows[rows["truth"].notna()]
    errors = labeled["truth"].astype(float).to_numpy() - labeled["prediction"].astype(float)
    e = np.asarray(errors, dtype=float)
    scope = scope_of(settings, DEMAND, whole_window(store, DEMAND))
    report = performance(store, settings.model(DEMAND), scope, bucket=None)
    m = must(report.overall()).metrics
    mae = stats.norm.interval(0.95, loc=np.abs(e).mean(), scale=stats.sem(np.abs(e)))
    assert (m["mae"].low, m["mae"].high) == pytest.approx(mae, rel=1e-9)
    mse = stats.norm.interval(0.95, loc=(e**2).mean(), scale=stats.sem(e**2))
    assert (m["rmse"].low, m["rmse"].high) == pytest.approx(np.sqrt(mse), rel=1e-9)
    mean = stats.norm.interval(0.95, loc=e.mean(), scale=stats.sem(e))
    assert (m["residual_mean"].low, m["residual_mean"].high) == pytest.approx(mean, rel=1e-9)


def test_headline_for_the_overview(
    store: LogStore, settings: Settings, demo_dir: Path, credit_rows: pd.DataFrame
) -> None:
    import pyarrow.parquet as pq

    reference = pq.read_table(demo_dir / "reference" / f"{CREDIT}.parquet").to_pandas()
    baseline = skm.accuracy_score(reference["label"], reference["prediction"])
    window = whole_window(store, CREDIT)
    credit = settings.model(CREDIT)
    found = headline(store, credit, scope_of(settings, CREDIT, window))
    labeled = credit_rows[credit_rows["truth"].notna()]
    assert (found.metric, found.label, found.estimated) == ("accuracy", "Accuracy", False)
    assert found.value == pytest.approx(skm.accuracy_score(labeled["truth"], labeled["prediction"]))
    assert (found.labeled, found.predictions) == (len(labeled), len(credit_rows))
    assert found.baseline == pytest.approx(baseline) and found.baseline_source == "reference"
    assert found.value is not None and found.delta == pytest.approx(found.value - baseline)
    assert found.low is not None and found.high is not None
    assert found.low < found.value < found.high

    last_day = Window.ending_at(window.end, dt.timedelta(days=1))
    unlabeled = headline(store, credit, scope_of(settings, CREDIT, last_day))
    assert unlabeled.estimated and unlabeled.labeled == 0 and unlabeled.value is not None
    scope = scope_of(settings, CREDIT, last_day)
    overall = must(performance(store, credit, scope, bucket=None).overall())
    assert overall.estimated is not None
    assert unlabeled.value == overall.estimated.metrics["accuracy"].value

    v3 = headline(store, credit, scope_of(settings, CREDIT, window, ("v3",)))
    assert v3.predictions == int((credit_rows["version"] == "v3").sum())

    rows = labeled_predictions(demo_dir, DEMAND)
    labeled = rows[rows["truth"].notna()]
    scope = scope_of(settings, DEMAND, whole_window(store, DEMAND))
    demand = headline(store, settings.model(DEMAND), scope)
    assert (demand.metric, demand.label, demand.higher_is_better) == ("mae", "MAE", False)
    assert demand.value == pytest.approx(
        skm.mean_absolute_error(labeled["truth"].astype(float), labeled["prediction"].astype(float))
    )
    assert not demand.estimated
