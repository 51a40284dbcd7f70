"""Aequitas' `ppr` (a group's share of all predicted positives) and `ppr_disparity` (its
ppr / the reference group's) on COMPAS, against the definition written independently
in pandas: for every group of every attribute, in the audit, the trend, the label-free
selection audit, the bootstrap and the exports."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from monitor.metrics.fairness.audit import audit
from monitor.metrics.fairness.groups import Slice
from monitor.metrics.fairness.selection import predictions_from_rows, selection_audit
from monitor.metrics.fairness.trend import trend
from monitor.queries.fairness import load_file
from monitor.reports.fairness_export import report_csv, report_document, to_json
from tests.metrics.fairness.test_fairness import COMPAS

ATTRIBUTES = ("race", "sex", "age_cat")
TOLERANCE = 1e-12


@pytest.fixture(scope="module")
def compas() -> pd.DataFrame:
    return pd.read_csv(COMPAS)


def aequitas_ppr(frame: pd.DataFrame, by: str | list[str], weight: str | None = None) -> pd.Series:
    """Aequitas' definition: predicted positives of the group / all predicted positives
    (weighted: the weights of the rows predicted positive)."""
    selected = (frame["score"] == 1).astype(float)
    if weight is not None:
        selected = selected * frame[weight]
    positives = selected.groupby([frame[c] for c in ([by] if isinstance(by, str) else by)]).sum()
    return positives / positives.sum()


@pytest.mark.parametrize("attribute", ATTRIBUTES)
def test_ppr_and_its_disparity_equal_aequitas_for_every_group(
    attribute: str, compas: pd.DataFrame
) -> None:
    report = audit(
        load_file(COMPAS, label="label_value", prediction="score", sensitive=[attribute])
    )
    expected = aequitas_ppr(compas, attribute)
    # the reference (largest judged group), found in pandas
    reference = str(compas[attribute].value_counts().idxmax())
    assert report.reference_group == (reference,)
    assert {g.key[0] for g in report.groups} == set(expected.index)
    for group in report.groups:
        value = expected[group.key[0]]
        assert group.metrics["ppr"] == pytest.approx(value, rel=TOLERANCE, abs=TOLERANCE)
        disparity = value / expected[reference]
        assert group.disparity["ppr"] == pytest.approx(disparity, rel=TOLERANCE, abs=TOLERANCE)
    total = sum(g.metrics["ppr"] or 0.0 for g in report.groups)
    assert total == pytest.approx(1.0, abs=TOLERANCE)
    assert report.overall["ppr"] == 1.0  # all predicted positives over themselves


def test_ppr_of_intersections_and_with_weights(compas: pd.DataFrame, tmp_path: Path) -> None:
    frame = compas.copy()
    frame["w"] = np.random.default_rng(21).uniform(0.2, 3.0, len(frame))
    path = tmp_path / "compas.parquet"
    frame.to_parquet(path)
    for weight in (None, "w"):
        report = audit(
            load_file(
                path,
                label="label_value",
                prediction="score",
                sensitive=["race", "sex"],
                weight=weight,
            )
        )
        expected = aequitas_ppr(frame, ["race", "sex"], weight)
        assert len(report.groups) == len(expected) == 12
        for group in report.groups:
            assert group.metrics["ppr"] == pytest.approx(
                expected[group.key], rel=TOLERANCE, abs=TOLERANCE
            )
        assert sum(g.metrics["ppr"] or 0.0 for g in report.groups) == pytest.approx(1.0)


def test_the_screen_on_ppr_is_aequitas_statistical_parity(compas: pd.DataFrame) -> None:
    """--metric ppr: a judged group fails when ppr_disparity is outside [tau, 1/tau]."""
    report = audit(
        load_file(COMPAS, label="label_value", prediction="score", sensitive=["age_cat"]),
        metric="ppr",
    )
    expected = aequitas_ppr(compas, "age_cat")
    disparity = expected / expected["25 - 45"]
    failing = {g for g, d in disparity.items() if not 0.8 <= d <= 1.25}
    assert failing == {"Greater than 45", "Less than 25"}
    assert {k[0] for k in report.summary.failing_groups} == failing


def test_ppr_per_slice_of_the_trend(compas: pd.DataFrame, tmp_path: Path) -> None:
    """Each slice's ppr is a share of that slice's predicted positives."""
    slices = []
    for band in ("Less than 25", "25 - 45"):
        path = tmp_path / f"{band}.csv"
        compas[compas["age_cat"] == band].to_csv(path, index=False)
        data = load_file(path, label="label_value", prediction="score", sensitive=["sex"])
        slices.append(Slice(None, band, data))
    found = trend(slices, metric="ppr", reference_group=("Male",))
    for point in found.points:
        rows = compas[compas["age_cat"] == point.version]
        expected = aequitas_ppr(rows, "sex")
        assert point.value == pytest.approx(expected[point.key[0]], rel=TOLERANCE)
        assert point.disparity == pytest.approx(
            expected[point.key[0]] / expected["Male"], rel=TOLERANCE
        )


def test_ppr_without_labels(compas: pd.DataFrame) -> None:
    counts = compas.groupby(["race", "score"]).size().reset_index(name="n")
    columns = (counts["race"].tolist(), counts["score"].tolist(), counts["n"].tolist())
    rows = [(race, int(p), int(n), float(n)) for race, p, n in zip(*columns, strict=True)]
    data = predictions_from_rows(["race"], rows, positive="1")
    report = selection_audit(data)
    expected = aequitas_ppr(compas, "race")
    for group in report.groups:
        assert group.ppr == pytest.approx(expected[group.key[0]], rel=TOLERANCE, abs=TOLERANCE)


def test_ppr_in_the_bootstrap_and_the_exports(compas: pd.DataFrame) -> None:
    report = audit(
        load_file(COMPAS, label="label_value", prediction="score", sensitive=["race"]),
        bootstrap=300,
        seed=4,
    )
    expected = aequitas_ppr(compas, "race")
    for group in report.groups:
        interval = group.ci["ppr"]
        assert interval is not None and interval[0] <= expected[group.key[0]] <= interval[1]
    assert report.overall_ci["ppr"] == (1.0, 1.0)
    exported = pd.read_csv(io.StringIO(report_csv(report)))
    assert exported["ppr"].to_numpy() == pytest.approx(expected.to_numpy(), rel=TOLERANCE)
    reference = expected["African-American"]
    assert exported["disparity_ppr"].to_numpy() == pytest.approx(
        (expected / reference).to_numpy(), rel=TOLERANCE
    )
    document = json.loads(to_json(report_document(report)))
    assert [g["ppr"] for g in document["groups"]] == pytest.approx(list(expected), rel=TOLERANCE)
