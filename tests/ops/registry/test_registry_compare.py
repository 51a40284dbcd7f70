"""Version comparison, the canary verdict and "healthy" versions.

On the demo: v3 of credit-risk is a canary with an accuracy regression (docs/demo-data.md);
its numbers are checked against sklearn and numpy on the raw rows. The verdict rules are
checked one by one on synthetic metrics.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import sklearn.metrics as skm

from monitor.core.catalog import Window
from monitor.core.config import Settings, Thresholds, load_settings
from monitor.core.errors import InputError
from monitor.core.store import LogStore
from monitor.findings.status import Status
from monitor.ops.registry.compare import CanaryThresholds, compare, judge
from monitor.ops.registry.health import health_problems, last_healthy
from tests.performance_truth import labeled_predictions
from tests.registry_support import (
    accuracy,
    between,
    p95,
    raw_predictions,
    shared_period,
    version_metrics,
)

CREDIT, DEMAND = "credit-risk", "demand-forecast"
WEEK = dt.timedelta(days=7)


@pytest.fixture(scope="module")
def store(demo_dir: Path) -> LogStore:
    return LogStore(demo_dir)


@pytest.fixture(scope="module")
def settings(demo_dir: Path) -> Settings:
    return load_settings(demo_dir / "monitor.toml", env={})


@pytest.fixture(scope="module")
def raw(demo_dir: Path) -> pd.DataFrame:
    return raw_predictions(demo_dir)


@pytest.fixture(scope="module")
def labeled(demo_dir: Path) -> pd.DataFrame:
    return labeled_predictions(demo_dir, CREDIT)


def whole(raw: pd.DataFrame, model_id: str) -> Window:
    rows = raw[raw["model_id"] == model_id]
    return Window(rows["timestamp"].min().to_pydatetime(), rows["timestamp"].max().to_pydatetime())


def last_week(raw: pd.DataFrame, model_id: str) -> Window:
    return Window.ending_at(whole(raw, model_id).end, WEEK)


def reference_accuracy(demo_dir: Path) -> float:
    reference = pq.read_table(demo_dir / "reference" / f"{CREDIT}.parquet").to_pandas()
    return float(skm.accuracy_score(reference["label"], reference["prediction"]))


# -- the demo's canary ---------------------------------------------------------------------


def test_canary_v3_is_rejected_for_its_accuracy(
    store: LogStore, settings: Settings, raw: pd.DataFrame, labeled: pd.DataFrame
) -> None:
    credit = raw[raw["model_id"] == CREDIT]
    result = compare(store, settings, CREDIT, "v2", "v3", whole(raw, CREDIT))
    start, end = shared_period(credit, "v2", "v3")
    assert result.same_period
    assert result.baseline.window == result.candidate.window == Window(start, end)
    for metrics in (result.baseline, result.candidate):
        rows = between(credit[credit["version"] == metrics.version], start, end)
        assert metrics.predictions == len(rows)
        assert metrics.errors == int((rows["status"] == "error").sum())
        assert metrics.latency_p95_ms == pytest.approx(p95(rows["latency_ms"]))
        expected, labels = accuracy(labeled, metrics.version, start, end)
        assert (metrics.metric, metrics.estimated, metrics.labeled) == ("accuracy", False, labels)
        assert metrics.value == pytest.approx(expected, abs=1e-12)
    base, cand = result.baseline.value, result.candidate.value
    assert base is not None and cand is not None
    drop = base - cand
    assert drop > settings.thresholds.accuracy_drop  # the injected regression
    assert result.verdict == "reject"
    (reason,) = [r for r in result.reasons if r.startswith("accuracy")]
    assert f"{drop * 100:.1f} points worse than v2's {base:.3f}" in reason
    assert result.candidate.fairness.state == "alert" and "gender" in (
        result.candidate.fairness.summary
    )
    document = result.to_document()
    assert document["verdict"] == "reject" and document["candidate"]["value"] == cand
    assert document["thresholds"]["accuracy_drop"] == settings.thresholds.accuracy_drop


def test_versions_that_never_served_together_are_inconclusive(
    store: LogStore, settings: Settings, raw: pd.DataFrame
) -> None:
    demand = raw[raw["model_id"] == DEMAND]
    window = whole(raw, DEMAND)
    result = compare(store, settings, DEMAND, "v1", "v2", window)
    assert (result.verdict, result.same_period) == ("inconclusive", False)
    assert result.reasons == ("v1 and v2 did not serve at the same time in this window",)
    own = compare(store, settings, DEMAND, "v1", "v2", window, apart="own_windows")
    assert own.notes[0].endswith("each is measured over its own window")
    for metrics in (own.baseline, own.candidate):
        rows = demand[demand["version"] == metrics.version]
        assert metrics.predictions == len(rows)
        assert metrics.metric == "mae" and not metrics.higher_is_better


def test_compare_refusals(store: LogStore, settings: Settings, raw: pd.DataFrame) -> None:
    window = whole(raw, CREDIT)
    with pytest.raises(InputError, match="two different versions"):
        compare(store, settings, CREDIT, "v2", "v2", window)
    with pytest.raises(InputError, match="no version 'v4'"):
        compare(store, settings, CREDIT, "v2", "v4", window)
    with pytest.raises(InputError, match="unknown model"):
        compare(store, settings, "nope", "v1", "v2", window)


# -- the last healthy version --------------------------------------------------------------


def test_last_healthy_before_the_canary_is_v2(
    store: LogStore, settings: Settings, raw: pd.DataFrame, labeled: pd.DataFrame, demo_dir: Path
) -> None:
    window = last_week(raw, CREDIT)
    found = last_healthy(store, settings, CREDIT, "v3", window)
    assert found.found is not None and found.rejected == ()
    v2 = found.found
    assert (v2.version, v2.window) == ("v2", window)
    rows = between(
        raw[(raw["model_id"] == CREDIT) & (raw["version"] == "v2")], window.start, window.end
    )
    value, labels = accuracy(labeled, "v2", window.start, window.end)
    baseline = reference_accuracy(demo_dir)
    assert v2.value == pytest.approx(value, abs=1e-12) and v2.labeled == labels
    assert v2.model_baseline == pytest.approx(baseline)
    limits = settings.thresholds
    assert baseline - value <= limits.accuracy_drop
    assert (rows["status"] == "error").mean() <= limits.error_rate
    assert p95(rows["latency_ms"]) <= limits.latency_p95_ms


def test_last_healthy_looks_back_past_the_window(
    store: LogStore, settings: Settings, raw: pd.DataFrame
) -> None:
    """v1 stopped serving before the last week: it is judged over a week ending at its
    last prediction."""
    found = last_healthy(store, settings, CREDIT, "v2", last_week(raw, CREDIT))
    assert found.found is not None and found.found.version == "v1"
    v1 = raw[(raw["model_id"] == CREDIT) & (raw["version"] == "v1")]
    end = v1["timestamp"].max().to_pydatetime()
    assert found.found.window == Window(end - WEEK, end)
    assert found.found.predictions == len(between(v1, end - WEEK, end))
    assert last_healthy(store, settings, CREDIT, "v1", last_week(raw, CREDIT)).found is None


def test_an_unhealthy_newer_version_is_skipped(
    store: LogStore, settings: Settings, raw: pd.DataFrame
) -> None:
    strict = dataclasses.replace(settings, thresholds=Thresholds(accuracy_drop=0.0))
    found = last_healthy(store, strict, CREDIT, "v3", last_week(raw, CREDIT))
    versions = [v for v, _ in found.rejected]
    assert versions[0] == "v2"
    assert "worse than the baseline" in found.rejected[0][1][0]
    assert found.found is None or found.found.version == "v1"


# -- the verdict, check by check -----------------------------------------------------------


LIMITS = CanaryThresholds()


def test_equal_versions_are_promoted() -> None:
    assert judge(version_metrics("a"), version_metrics("b"), LIMITS) == ("promote", (), ())


@pytest.mark.parametrize(
    ("candidate", "verdict", "words"),
    [
        ({"value": 0.79}, "reject", "6.0 points worse than a's 0.850 (allowed: 5.0 points)"),
        ({"value": 0.81}, "promote", None),
        ({"value": 0.805, "model_baseline": 0.90}, "reject", "below the floor 0.850"),
        ({"latency_p95_ms": 125.0}, "reject", "latency p95 125 ms is 25% above a's 100 ms"),
        ({"latency_p95_ms": 115.0}, "promote", None),
        ({"errors": 100}, "reject", "error rate 1.00% is 10.0x a's 0.10%"),
        ({"errors": 40}, "promote", None),  # 4x, but only 0.3 points more
        ({"predictions": 50, "errors": 0}, "inconclusive", "b has 50 predictions"),
        ({"value": None, "labeled": 0}, "inconclusive", "no accuracy"),
        ({"labeled": 40}, "inconclusive", "only 40 labels"),
        ({"labeled": 40, "estimated": True}, "promote", None),
        ({"fairness": Status("alert", "four-fifths screen failed for gender")}, "reject", "gender"),
    ],
)
def test_each_check(candidate: dict[str, object], verdict: str, words: str | None) -> None:
    found, reasons, _ = judge(version_metrics("a"), version_metrics("b", **candidate), LIMITS)
    assert found == verdict, reasons
    if words is None:
        assert reasons == ()
    else:
        assert any(words in r for r in reasons), reasons


def test_a_failed_check_wins_over_missing_data_but_lists_it() -> None:
    found, reasons, _ = judge(
        version_metrics("a", labeled=10), version_metrics("b", value=0.6), LIMITS
    )
    assert found == "reject"
    assert any("below the floor" in r for r in reasons)
    assert any("only 10 labels" in r for r in reasons)


def test_fairness_failing_for_both_is_a_note_not_a_reason() -> None:
    failing = Status("alert", "four-fifths screen failed for age_group")
    found, reasons, notes = judge(
        version_metrics("a", fairness=failing), version_metrics("b", fairness=failing), LIMITS
    )
    assert (found, reasons) == ("promote", ())
    assert notes and "both versions fail" in notes[0]


def test_error_metrics_are_judged_downwards_and_relatively() -> None:
    regression = {"metric": "mae", "higher_is_better": False, "model_baseline": None}
    base = version_metrics("a", value=10.0, **regression)
    assert judge(base, version_metrics("b", value=10.4, **regression), LIMITS)[0] == "promote"
    found, reasons, _ = judge(base, version_metrics("b", value=10.6, **regression), LIMITS)
    assert found == "reject" and "0.6 worse than a's 10.000 (allowed: 0.5)" in reasons[0]
    ceiling = CanaryThresholds(accuracy_floor=10.2)
    found, reasons, _ = judge(base, version_metrics("b", value=10.3, **regression), ceiling)
    assert found == "reject" and "above the ceiling 10.200" in reasons[0]


def test_health_problems() -> None:
    limits = Thresholds()
    assert health_problems(version_metrics("a"), limits) == ()
    assert "worse than the baseline" in health_problems(version_metrics("a", value=0.80), limits)[0]
    assert "error rate" in health_problems(version_metrics("a", errors=600), limits)[0]
    assert "latency p95" in health_problems(version_metrics("a", latency_p95_ms=900.0), limits)[0]
    assert "no baseline" in health_problems(version_metrics("a", model_baseline=None), limits)[0]
    assert (
        "served no predictions" in health_problems(version_metrics("a", predictions=0), limits)[0]
    )
