"""Fairness without labels (monitor.metrics.fairness.selection) on COMPAS, with and
without sample weights: every rate and summary against fairlearn on the raw rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from fairlearn import metrics as flm

from monitor.core.errors import InputError
from monitor.metrics.fairness.groups import MISSING
from monitor.metrics.fairness.selection import (
    LABEL_METRICS,
    PredictionCells,
    PredictionSlice,
    predictions_from_rows,
    selection_audit,
    selection_trend,
)
from tests.metrics.fairness.test_fairness import COMPAS


@pytest.fixture(scope="module")
def compas() -> pd.DataFrame:
    frame = pd.read_csv(COMPAS)
    frame["weight"] = np.random.default_rng(3).uniform(0.5, 2.0, len(frame))
    return frame


def cells(frame: pd.DataFrame, features: list[str], *, weighted: bool) -> PredictionCells:
    """Raw rows (one per prediction, the score as a float: 1.0 is the positive "1")."""
    weight = frame["weight"] if weighted else pd.Series(1.0, index=frame.index)
    rows = [
        (*(row[f] for f in features), float(row["score"]), 1, w)
        for (_, row), w in zip(frame.iterrows(), weight, strict=True)
    ]
    return predictions_from_rows(features, rows, positive="1")


@pytest.mark.parametrize("weighted", [False, True])
def test_rates_and_parity_match_fairlearn(compas: pd.DataFrame, weighted: bool) -> None:
    weight = compas["weight"] if weighted else None
    report = selection_audit(cells(compas, ["race"], weighted=weighted), min_group_size=50)
    frame = flm.MetricFrame(
        metrics=flm.selection_rate,
        y_true=compas["score"],
        y_pred=compas["score"],
        sensitive_features=compas["race"],
        sample_params={"sample_weight": weight} if weighted else None,
    )
    assert report.rows == len(compas)
    assert {g.key[0]: g.count for g in report.groups} == compas["race"].value_counts().to_dict()
    for group in report.groups:
        assert group.selection_rate == pytest.approx(frame.by_group[group.key[0]])
        assert group.selected == int((compas.loc[compas["race"] == group.key[0], "score"]).sum())
    assert report.selection_rate == pytest.approx(frame.overall)
    # fairlearn's names: over all groups, the small ones (Native American: 18 rows) too
    small = {g.key[0] for g in report.groups if g.small}
    assert small and (compas["race"].isin(small)).sum() < 50 * len(small)
    for name, function in (
        ("demographic_parity_difference", flm.demographic_parity_difference),
        ("demographic_parity_ratio", flm.demographic_parity_ratio),
    ):
        expected = function(
            compas["score"],
            compas["score"],
            sensitive_features=compas["race"],
            sample_weight=weight,
        )
        assert getattr(report, name) == pytest.approx(expected)
    judged = compas[~compas["race"].isin(small)]
    expected = flm.demographic_parity_difference(
        judged["score"],
        judged["score"],
        sensitive_features=judged["race"],
        sample_weight=judged["weight"] if weighted else None,
    )
    assert report.judged_parity_difference == pytest.approx(expected)
    assert report.judged_groups == len(report.groups) - len(small)


def test_reference_rules_and_the_screen(compas: pd.DataFrame) -> None:
    data = cells(compas, ["race"], weighted=False)
    rates = compas.groupby("race")["score"].mean()
    counts = compas["race"].value_counts()
    judged = [g for g in counts.index if counts[g] >= 50]
    largest = selection_audit(data)
    assert largest.reference_group == (counts[judged].idxmax(),)
    best = selection_audit(data, reference="best")
    assert best.reference_group == (rates[judged].idxmax(),)
    overall = selection_audit(data, reference="overall", tau=0.9)
    assert overall.reference_group is None
    for group in overall.groups:
        ratio = rates[group.key[0]] / compas["score"].mean()
        assert group.disparity == pytest.approx(ratio)
        assert group.fails_screen == (not group.small and (ratio < 0.9 or ratio > 1 / 0.9))
    assert overall.four_fifths_passed is (not any(g.fails_screen for g in overall.groups))
    named = selection_audit(data, reference="Caucasian")
    assert named.reference_group == ("Caucasian",)
    assert named.reference_value() == pytest.approx(rates["Caucasian"])
    with pytest.raises(InputError, match="not found"):
        selection_audit(data, reference="Martian")


def test_bootstrap_is_seeded_and_brackets_the_values(compas: pd.DataFrame) -> None:
    data = cells(compas, ["sex"], weighted=False)
    first = selection_audit(data, bootstrap=300, seed=4)
    assert first == selection_audit(data, bootstrap=300, seed=4)
    for group in first.groups:
        assert group.ci is not None and group.selection_rate is not None
        assert group.ci[0] <= group.selection_rate <= group.ci[1]
    low, high = first.ci["demographic_parity_difference"] or (np.nan, np.nan)
    assert low <= (first.demographic_parity_difference or np.nan) <= high


def test_intersections_missing_values_and_skipped_rows() -> None:
    rows: list[tuple[Any, ...]] = [
        ("a", "x", 1, 3, 3.0),
        ("a", "x", "0", 1, 1.0),
        ("a", None, True, 2, 2.0),  # canonical "true" is not the positive "1"
        (None, "y", 1.0, 4, 4.0),
        ("b", "y", None, 5, 5.0),  # no prediction: skipped
    ]
    data = predictions_from_rows(["f", "g"], rows, positive="1")
    assert data.skipped_rows == 5 and data.total_rows == 10
    report = selection_audit(data, min_group_size=0)
    rates = {g.key: g.selection_rate for g in report.groups}
    assert rates == {("a", "x"): 0.75, ("a", MISSING): 0.0, (MISSING, "y"): 1.0}
    assert report.demographic_parity_difference == 1.0
    assert report.demographic_parity_ratio == 0.0


def test_bad_options_and_empty_tables() -> None:
    empty = PredictionCells(("f",), (), (), (), ())
    with pytest.raises(InputError, match="no predictions"):
        selection_audit(empty)
    data = predictions_from_rows(["f"], [("a", "1", 60, 60.0)], positive="1")
    with pytest.raises(InputError, match="tau"):
        selection_audit(data, tau=1.5)
    assert "selection_rate" not in LABEL_METRICS and "tpr" in LABEL_METRICS


def test_trend_per_slice_matches_pandas(compas: pd.DataFrame) -> None:
    slices = [
        PredictionSlice(
            None, str(sex), cells(compas[compas["sex"] == sex], ["race"], weighted=False)
        )
        for sex in sorted(compas["sex"].unique())
    ]
    window = selection_audit(cells(compas, ["race"], weighted=False))
    assert window.reference_group is not None
    reference = window.reference_group[0]
    trend = selection_trend(slices, reference_group=window.reference_group, min_group_size=50)
    assert trend.metric == "selection_rate"
    expected: dict[tuple[str, str], tuple[float, int]] = {
        (str(sex), str(race)): (float(part["score"].mean()), len(part))
        for (sex, race), part in compas.groupby(["sex", "race"])
    }
    assert len(trend.points) == len(expected)
    for point in trend.points:
        mean, size = expected[(str(point.version), point.key[0])]
        assert point.value == pytest.approx(mean)
        assert (point.count, point.small) == (size, size < 50)
        assert point.disparity == pytest.approx(mean / expected[(str(point.version), reference)][0])
    for piece in trend.slices:
        failing = {
            p.key
            for p in trend.points
            if p.version == piece.version
            and not p.small
            and p.key != window.reference_group
            and p.disparity is not None
            and (p.disparity < 0.8 or p.disparity > 1.25)
        }
        assert set(piece.failing_groups) == failing
