"""Per-attribute audits on COMPAS: each attribute's result equals the audit of that
column alone, and fairlearn's MetricFrame and parity functions by that column."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from fairlearn import metrics as flm

from monitor.core.errors import InputError
from monitor.metrics.fairness.attributes import audit_attributes, passed
from monitor.metrics.fairness.audit import audit
from monitor.metrics.fairness.groups import GroupData
from monitor.queries.fairness import FileTarget, load_file, load_file_by_attribute
from tests.metrics.fairness.test_fairness import COMPAS

ATTRIBUTES = ("race", "sex", "age_cat")
FILE: dict[str, Any] = {"label": "label_value", "prediction": "score"}


@pytest.fixture(scope="module")
def compas() -> pd.DataFrame:
    return pd.read_csv(COMPAS)


@pytest.fixture(scope="module")
def tables() -> dict[str, GroupData]:
    return load_file_by_attribute(COMPAS, FileTarget(**FILE), ATTRIBUTES)


def test_each_attribute_equals_its_single_attribute_audit(tables: dict[str, GroupData]) -> None:
    audits = audit_attributes(tables, bootstrap=100, seed=3)
    assert [a.attribute for a in audits] == list(ATTRIBUTES)
    for found in audits:
        alone = audit(load_file(COMPAS, sensitive=[found.attribute], **FILE), bootstrap=100, seed=3)
        assert found.report == alone, found.attribute
        assert found.report.features == (found.attribute,)


@pytest.mark.parametrize("attribute", ["race", "sex"])
def test_each_attribute_equals_fairlearn_by_that_column(
    attribute: str, tables: dict[str, GroupData], compas: pd.DataFrame
) -> None:
    (found,) = (a for a in audit_attributes(tables) if a.attribute == attribute)
    y, p, s = compas["label_value"], compas["score"], compas[attribute]
    frame = flm.MetricFrame(
        metrics={
            "selection_rate": flm.selection_rate,
            "tpr": flm.true_positive_rate,
            "fpr": flm.false_positive_rate,
        },
        y_true=y,
        y_pred=p,
        sensitive_features=s,
    )
    assert len(found.report.groups) == len(frame.by_group)
    for group in found.report.groups:
        for name in ("selection_rate", "tpr", "fpr"):
            expected = frame.by_group.loc[group.key[0], name]
            assert group.metrics[name] == pytest.approx(expected, rel=1e-12), (group.key, name)
    summary = found.report.summary
    for name in (
        "demographic_parity_difference",
        "demographic_parity_ratio",
        "equalized_odds_difference",
        "equalized_odds_ratio",
    ):
        expected = getattr(flm, name)(y, p, sensitive_features=s)
        assert getattr(summary, name) == pytest.approx(expected, rel=1e-12), name
    # own reference group: the largest of this attribute
    assert found.report.reference_group == (s.value_counts().idxmax(),)


def test_references_per_attribute_and_errors_name_the_attribute(
    tables: dict[str, GroupData],
) -> None:
    audits = audit_attributes(tables, references={"sex": "Female"}, reference="best")
    by_name = {a.attribute: a.report for a in audits}
    assert by_name["sex"].reference_group == ("Female",)
    assert by_name["race"].reference == "best"
    assert by_name["race"].reference_group == ("African-American",)  # highest selection rate
    with pytest.raises(InputError, match=r"^sex: reference group 'Martian' not found"):
        audit_attributes(tables, references={"sex": "Martian"})
    with pytest.raises(InputError, match="'religion', which is not a sensitive attribute"):
        audit_attributes(tables, references={"religion": "x"})


def test_the_gate_over_all_attributes(tables: dict[str, GroupData]) -> None:
    """COMPAS fails the screen on race and age, passes on sex; at tau 0.35 every judged
    ratio (race: 0.356 at the lowest, age: 0.534 and 1.395) is inside the band."""
    audits = audit_attributes(tables)
    verdicts = {a.attribute: a.report.summary.four_fifths_passed for a in audits}
    assert verdicts == {"race": False, "sex": True, "age_cat": False}
    assert passed(audits) is False
    assert passed(audit_attributes(tables, tau=0.35)) is True
    assert passed(audit_attributes(tables, min_group_size=10**6)) is None
    assert passed(audit_attributes({"sex": tables["sex"]})) is True
