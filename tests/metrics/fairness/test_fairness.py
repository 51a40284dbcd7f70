"""The fairness engine on real data (Aequitas' COMPAS and Adult), checked against
scikit-learn's confusion_matrix and fairlearn's own functions on the raw rows."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fairlearn import metrics as flm
from sklearn.metrics import confusion_matrix, mean_absolute_error, mean_squared_error

from monitor.core.errors import InputError
from monitor.metrics.fairness.audit import FairnessReport, audit
from monitor.metrics.fairness.bootstrap import JUDGED_SUMMARY
from monitor.metrics.fairness.groups import MISSING, GroupData, cells_from_arrays
from monitor.queries.fairness import load_file
from monitor.reports.fairness_export import report_csv, report_document, to_json
from monitor.ui.charts.fairness import groups_figure
from tests.conftest import REPO_ROOT

DATASETS = REPO_ROOT / "tests" / "data"  # copies of the shared data sets, see README
COMPAS = DATASETS / "compas_for_aequitas.csv"
ADULT = DATASETS / "adult_rf_binary.csv"
RATES = (
    *("selection_rate", "ppr", "accuracy", "tpr", "fpr", "fnr", "tnr"),
    *("precision", "npv", "fdr", "for", "prevalence"),
)
"""Every binary metric; `ppr` (a share of the whole table's predicted positives) is
checked in test_ppr.py, the others by `expected_rates`."""


@pytest.fixture(scope="module")
def compas() -> pd.DataFrame:
    return pd.read_csv(COMPAS)


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    return pd.read_csv(ADULT)


def expected_rates(y: Any, p: Any, weight: Any = None) -> dict[str, float | None]:
    """Every rate by hand from scikit-learn's confusion matrix."""
    tn, fp, fn, tp = confusion_matrix(y, p, labels=[0, 1], sample_weight=weight).ravel()

    def div(a: float, b: float) -> float | None:
        return None if b == 0 else a / b

    n = tn + fp + fn + tp
    return {
        "selection_rate": div(tp + fp, n),
        "accuracy": div(tp + tn, n),
        "tpr": div(tp, tp + fn),
        "fpr": div(fp, fp + tn),
        "fnr": div(fn, tp + fn),
        "tnr": div(tn, fp + tn),
        "precision": div(tp, tp + fp),
        "npv": div(tn, tn + fn),
        "fdr": div(fp, tp + fp),
        "for": div(fn, tn + fn),
        "prevalence": div(tp + fn, n),
    }


def assert_rates(actual: Any, expected: dict[str, float | None]) -> None:
    for name, value in expected.items():
        if value is None:
            assert actual[name] is None, name
        else:
            assert actual[name] == pytest.approx(value, rel=1e-12, abs=1e-12), name


def load(source: str, frame: pd.DataFrame, path: Path, sensitive: Sequence[str]) -> GroupData:
    if source == "file":
        return load_file(path, label="label_value", prediction="score", sensitive=sensitive)
    return cells_from_arrays(
        y_true=frame["label_value"], y_pred=frame["score"], sensitive_features=frame[sensitive]
    )


CASES = [
    ("compas", ["race"]),
    ("compas", ["race", "sex"]),
    ("compas", ["age_cat"]),
    ("adult", ["race"]),
    ("adult", ["gender", "race"]),
    ("adult", ["education"]),
]


@pytest.mark.parametrize("source", ["file", "arrays"])
@pytest.mark.parametrize(("name", "sensitive"), CASES)
def test_every_group_metric_equals_a_confusion_matrix_by_hand(
    name: str, sensitive: list[str], source: str, compas: pd.DataFrame, adult: pd.DataFrame
) -> None:
    frame = compas if name == "compas" else adult
    report = audit(load(source, frame, COMPAS if name == "compas" else ADULT, sensitive))
    assert report.rows == len(frame)
    expected_groups = frame.groupby(sensitive)
    assert len(report.groups) == expected_groups.ngroups
    for group in report.groups:
        rows = expected_groups.get_group(group.key)
        assert group.count == len(rows)
        assert group.positives == int((rows["label_value"] == 1).sum())
        assert group.negatives == int((rows["label_value"] == 0).sum())
        assert_rates(group.metrics, expected_rates(rows["label_value"], rows["score"]))
    assert_rates(report.overall, expected_rates(frame["label_value"], frame["score"]))


def fairlearn_summary(frame: pd.DataFrame, sensitive: Sequence[str]) -> dict[str, float]:
    y, p, s = frame["label_value"], frame["score"], frame[list(sensitive)]
    return {
        "demographic_parity_difference": flm.demographic_parity_difference(
            y, p, sensitive_features=s
        ),
        "demographic_parity_ratio": flm.demographic_parity_ratio(y, p, sensitive_features=s),
        "equalized_odds_difference": flm.equalized_odds_difference(y, p, sensitive_features=s),
        "equalized_odds_ratio": flm.equalized_odds_ratio(y, p, sensitive_features=s),
        "equal_opportunity_difference": flm.equal_opportunity_difference(
            y, p, sensitive_features=s
        ),
    }


def assert_summary(
    report: FairnessReport, expected: dict[str, float], *, judged: bool = False
) -> None:
    for name, value in expected.items():
        field = JUDGED_SUMMARY[name] if judged else name
        assert getattr(report.summary, field) == pytest.approx(value, rel=1e-12), field


@pytest.mark.parametrize(
    ("name", "sensitive"), [("compas", ["race"]), ("adult", ["race"]), ("adult", ["gender"])]
)
def test_summary_equals_fairlearn_on_all_groups(
    name: str, sensitive: list[str], compas: pd.DataFrame, adult: pd.DataFrame
) -> None:
    frame = compas if name == "compas" else adult
    data = load("file", frame, COMPAS if name == "compas" else ADULT, sensitive)
    report = audit(data, min_group_size=0, min_class_count=0)
    assert report.summary.judged_groups == frame.groupby(sensitive).ngroups
    assert_summary(report, fairlearn_summary(frame, sensitive))
    tpr = [g.metrics["tpr"] or 0.0 for g in report.groups]
    assert report.summary.equal_opportunity_difference == pytest.approx(max(tpr) - min(tpr))


@pytest.mark.parametrize(("name", "sensitive"), CASES)
def test_summary_equals_fairlearn_on_the_judged_groups(
    name: str, sensitive: list[str], compas: pd.DataFrame, adult: pd.DataFrame
) -> None:
    frame = compas if name == "compas" else adult
    report = audit(load("arrays", frame, COMPAS, sensitive))
    judged = {g.key for g in report.groups if not g.small}
    keys = pd.MultiIndex.from_frame(frame[sensitive].astype(str))
    assert_summary(
        report, fairlearn_summary(frame[keys.isin(list(judged))], sensitive), judged=True
    )


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("sensitive", [["race"], ["race", "sex"]])
def test_fairlearn_named_fields_equal_fairlearn_over_all_groups(
    sensitive: list[str], weighted: bool, compas: pd.DataFrame, tmp_path: Path
) -> None:
    """Issue 13: with the default thresholds (small groups not judged), every field named
    after a fairlearn function still equals that function over all groups."""
    frame = compas.copy()
    frame["w"] = np.random.default_rng(13).uniform(0.2, 3.0, len(frame))
    path = tmp_path / "compas.parquet"
    frame.to_parquet(path)
    weight = "w" if weighted else None
    data = load_file(
        path, label="label_value", prediction="score", sensitive=sensitive, weight=weight
    )
    report = audit(data)
    assert report.summary.judged_groups < len(report.groups)  # small groups exist
    y, p, s = frame["label_value"], frame["score"], frame[sensitive]
    sample_weight = frame["w"] if weighted else None
    for name in JUDGED_SUMMARY:
        expected = getattr(flm, name)(y, p, sensitive_features=s, sample_weight=sample_weight)
        assert getattr(report.summary, name) == pytest.approx(expected, rel=1e-9, abs=1e-9), name
    if sensitive == ["race"] and not weighted:
        assert report.summary.demographic_parity_difference == pytest.approx(0.457, abs=1e-3)
        assert report.summary.judged_parity_difference == pytest.approx(0.379, abs=1e-3)


def test_small_groups_are_flagged_and_left_out_of_verdicts(compas: pd.DataFrame) -> None:
    report = audit(load("file", compas, COMPAS, ["race"]))
    small = {g.key[0]: g for g in report.groups if g.small}
    assert set(small) == {"Asian", "Native American"}
    assert small["Asian"].count == 32 and small["Native American"].count == 18
    assert small["Asian"].small_reason == "32 rows < 50"
    assert report.summary.judged_groups == 4
    # Asian's ratio (0.43) is far below tau, but a group of 32 is not judged.
    assert (small["Asian"].disparity["selection_rate"] or 1.0) < 0.8
    assert not small["Asian"].fails_screen
    assert ("Asian",) not in report.summary.failing_groups
    # with a lower bar Asian is judged and fails
    lowered = audit(load("file", compas, COMPAS, ["race"]), min_group_size=20, min_class_count=5)
    assert ("Asian",) in lowered.summary.failing_groups
    assert ("Native American",) not in {g.key for g in lowered.groups if not g.small}


def test_too_few_positive_labels_flag_a_group(adult: pd.DataFrame) -> None:
    report = audit(load("arrays", adult, ADULT, ["race"]))
    other = next(g for g in report.groups if g.key == ("Other",))
    assert other.count == 73 and other.positives == 8
    assert other.small and other.small_reason == "8 positive labels < 10"


@pytest.mark.parametrize("reference", ["largest", "best", "overall", "Caucasian"])
def test_disparity_to_each_kind_of_reference_and_the_screen(
    reference: str, compas: pd.DataFrame
) -> None:
    report = audit(load("file", compas, COMPAS, ["race"]), reference=reference, tau=0.8)
    rates = compas.assign(selected=compas["score"] == 1).groupby("race")["selected"].mean()
    sizes = compas.groupby("race").size()
    judged = [r for r in rates.index if sizes[r] >= 50]
    reference_name: str | None = {
        "largest": str(sizes[judged].idxmax()),
        "best": str(rates[judged].idxmax()),
        "overall": None,
        "Caucasian": "Caucasian",
    }[reference]
    expected_ref = (
        (compas["score"] == 1).mean() if reference_name is None else rates[reference_name]
    )
    assert report.reference_group == (None if reference_name is None else (reference_name,))
    expected_failing = {
        r for r in judged if r != reference_name and not 0.8 <= rates[r] / expected_ref <= 1.25
    }
    assert expected_failing  # COMPAS has a real gap whatever the reference
    for group in report.groups:
        ratio = rates[group.key[0]] / expected_ref
        assert group.disparity["selection_rate"] == pytest.approx(ratio)
        assert group.fails_screen == (group.key[0] in expected_failing), group.key
    assert {k[0] for k in report.summary.failing_groups} == expected_failing
    assert report.summary.four_fifths_passed is False


def test_reference_by_name_for_intersections_and_unknown_names(compas: pd.DataFrame) -> None:
    data = load("file", compas, COMPAS, ["race", "sex"])
    report = audit(data, reference="Caucasian & Male")
    assert report.reference_group == ("Caucasian", "Male")
    with pytest.raises(InputError, match="not found"):
        audit(data, reference="Martian")


def test_missing_sensitive_values_form_their_own_group(
    compas: pd.DataFrame, tmp_path: Path
) -> None:
    frame = compas.copy()
    frame.loc[frame.index[:150], "race"] = np.nan
    path = tmp_path / "with_missing.csv"
    frame.to_csv(path, index=False)
    for data in (
        load_file(path, label="label_value", prediction="score", sensitive=["race"]),
        cells_from_arrays(
            y_true=frame["label_value"], y_pred=frame["score"], sensitive_features=frame[["race"]]
        ),
    ):
        report = audit(data)
        assert report.rows == len(frame)
        missing = next(g for g in report.groups if g.key == (MISSING,))
        rows = frame[frame["race"].isna()]
        assert missing.count == 150
        assert_rates(missing.metrics, expected_rates(rows["label_value"], rows["score"]))


def test_bootstrap_is_seeded_and_contains_the_point_estimate(compas: pd.DataFrame) -> None:
    data = load("file", compas, COMPAS, ["race"])
    first = audit(data, bootstrap=400, seed=11)
    assert audit(data, bootstrap=400, seed=11) == first
    other = audit(data, bootstrap=400, seed=12)
    assert other.groups[0].ci != first.groups[0].ci
    for group in first.groups:
        for name in RATES:
            interval, value = group.ci[name], group.metrics[name]
            assert interval is not None and value is not None, (group.key, name)
            assert interval[0] <= value <= interval[1], (group.key, name)
    for name, interval in first.summary.ci.items():
        assert interval is not None
        assert interval[0] <= getattr(first.summary, name) <= interval[1], name


def test_bootstrap_interval_width_matches_the_binomial_standard_error(
    compas: pd.DataFrame,
) -> None:
    """Resampling cells must behave like resampling rows: for a large group the 95%
    interval of the selection rate is about ±1.96 binomial standard errors."""
    report = audit(load("arrays", compas, COMPAS, ["race"]), bootstrap=2000, seed=5)
    for group in report.groups:
        if group.count < 600:
            continue
        p = group.metrics["selection_rate"]
        assert p is not None
        interval = group.ci["selection_rate"]
        assert interval is not None
        expected = 2 * 1.96 * math.sqrt(p * (1 - p) / group.count)
        assert interval[1] - interval[0] == pytest.approx(expected, rel=0.12), group.key


def test_sample_weights_match_weighted_confusion_matrices(
    adult: pd.DataFrame, tmp_path: Path
) -> None:
    frame = adult.copy()
    frame["w"] = np.random.default_rng(3).uniform(0.2, 3.0, len(frame))
    path = tmp_path / "weighted.parquet"
    frame.to_parquet(path)
    data = load_file(
        path, label="label_value", prediction="score", sensitive=["gender"], weight="w"
    )
    report = audit(data, min_group_size=0)
    for group in report.groups:
        rows = frame[frame["gender"] == group.key[0]]
        assert_rates(group.metrics, expected_rates(rows["label_value"], rows["score"], rows["w"]))
        assert group.count == len(rows)
    dp = flm.demographic_parity_difference(
        frame["label_value"],
        frame["score"],
        sensitive_features=frame["gender"],
        sample_weight=frame["w"],
    )
    assert report.summary.demographic_parity_difference == pytest.approx(dp)


def test_score_and_threshold_equal_the_prediction_column(compas: pd.DataFrame) -> None:
    by_prediction = audit(load("file", compas, COMPAS, ["sex"]))
    by_score = audit(
        load_file(COMPAS, label="label_value", score="score", threshold=0.5, sensitive=["sex"])
    )
    assert by_score.groups == by_prediction.groups


def test_regression_mae_and_rmse_per_group_match_scikit_learn(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    n = 3000
    frame = pd.DataFrame(
        {
            "region": rng.choice(["north", "south", "east"], n),
            "y": rng.gamma(2.0, 10.0, n),
            "w": rng.uniform(0.5, 2.0, n),
        }
    )
    frame["yhat"] = frame["y"] * rng.normal(1.0, 0.2, n) + (frame["region"] == "east") * 3.0
    frame.loc[frame.index[:40], "region"] = None
    path = tmp_path / "demand.jsonl"
    frame.to_json(path, orient="records", lines=True)
    data = load_file(
        path, label="y", prediction="yhat", sensitive=["region"], weight="w", task="regression"
    )
    report = audit(data, reference="best")
    assert report.task == "regression" and report.metric == "mae"
    for group in report.groups:
        mask = (
            frame["region"].isna() if group.key == (MISSING,) else frame["region"] == group.key[0]
        )
        rows = frame[mask]
        assert group.count == len(rows)
        mae = mean_absolute_error(rows["y"], rows["yhat"], sample_weight=rows["w"])
        rmse = math.sqrt(mean_squared_error(rows["y"], rows["yhat"], sample_weight=rows["w"]))
        assert group.metrics["mae"] == pytest.approx(mae, rel=1e-9)
        assert group.metrics["rmse"] == pytest.approx(rmse, rel=1e-9)
    best = min((g for g in report.groups if not g.small), key=lambda g: g.metrics["mae"] or 0)
    assert report.reference_group == best.key
    assert ("east",) in report.summary.failing_groups
    assert report.summary.demographic_parity_difference is None


def test_non_binary_labels_are_refused(compas: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="not binary"):
        load_file(COMPAS, label="race", prediction="score", sensitive=["sex"])
    with pytest.raises(InputError, match="not binary"):
        cells_from_arrays(
            y_true=compas["age_cat"], y_pred=compas["score"], sensitive_features=compas[["sex"]]
        )
    with pytest.raises(InputError, match="positive label"):
        cells_from_arrays(
            y_true=compas["sex"],
            y_pred=compas["score"],
            sensitive_features=compas[["race"]],
        )


def test_parquet_and_jsonl_read_like_csv(compas: pd.DataFrame, tmp_path: Path) -> None:
    compas.to_parquet(tmp_path / "compas.parquet")
    compas.to_json(tmp_path / "compas.jsonl.gz", orient="records", lines=True)
    expected = audit(load("file", compas, COMPAS, ["race", "sex"]))
    for name in ("compas.parquet", "compas.jsonl.gz"):
        data = load_file(
            tmp_path / name, label="label_value", prediction="score", sensitive=["race", "sex"]
        )
        assert audit(data) == expected, name


def test_csv_and_json_exports_hold_the_report(compas: pd.DataFrame) -> None:
    report = audit(load("file", compas, COMPAS, ["race", "sex"]), bootstrap=50)
    exported = pd.read_csv(io.StringIO(report_csv(report)), keep_default_na=False)
    assert len(exported) == len(report.groups)
    for group, (_, row) in zip(report.groups, exported.iterrows(), strict=True):
        assert (row["race"], row["sex"]) == group.key
        assert row["count"] == group.count and bool(row["small"]) == group.small
        for name in RATES:
            value = group.metrics[name]
            assert (None if row[name] == "" else float(row[name])) == pytest.approx(value), name
            interval = group.ci[name]
            exported_interval = (row[f"ci_low_{name}"], row[f"ci_high_{name}"])
            if interval is None:
                assert exported_interval == ("", ""), name
            else:
                assert tuple(float(v) for v in exported_interval) == pytest.approx(interval)
    document = json.loads(to_json(report_document(report)))
    assert document["groups"][0]["selection_rate"] == report.groups[0].metrics["selection_rate"]
    assert document["summary"]["four_fifths_passed"] is report.summary.four_fifths_passed


def test_group_chart_shows_the_report(compas: pd.DataFrame) -> None:
    report = audit(load("file", compas, COMPAS, ["race"]), bootstrap=100, tau=0.8)
    figure = groups_figure(report, "selection_rate")
    bars = figure.data[0]
    assert list(bars.x) == [g.label for g in report.groups]
    assert list(bars.y) == [g.metrics["selection_rate"] for g in report.groups]
    for group, minus, plus in zip(
        report.groups, bars.error_y.arrayminus, bars.error_y.array, strict=True
    ):
        low, high = group.ci["selection_rate"] or (0.0, 0.0)
        value = group.metrics["selection_rate"] or 0.0
        assert (value - minus, value + plus) == pytest.approx((low, high))
    reference = (compas["score"][compas["race"] == "African-American"] == 1).mean()
    band = figure.layout.shapes[0]
    assert (band.y0, band.y1) == pytest.approx((0.8 * reference, reference / 0.8))
