"""One version judged on its own traffic, and the healthy version to roll back to.

On the demo: v3 of credit-risk is a 10% canary that selects women at about five times the
rate of men (docs/demo-data.md); its checks and metrics are compared with sklearn,
fairlearn and numpy on the raw rows and the reference file. The rules are checked one by
one on synthetic metrics.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from monitor.core.catalog import Window
from monitor.core.config import Settings, Thresholds, load_settings
from monitor.core.store import LogStore
from monitor.ops.registry.health import (
    HealthyVersion,
    VersionCheck,
    check,
    check_all,
    check_version,
    healthy_before,
    last_healthy,
    worst_version,
)
from monitor.ops.registry.version_fairness import FeatureScreen, Screen
from tests.performance_truth import labeled_predictions
from tests.registry_support import (
    accuracy,
    between,
    f1,
    labeled_in,
    p95,
    raw_predictions,
    reference_rows,
    selection_screen,
    version_metrics,
)

CREDIT = "credit-risk"
WEEK = dt.timedelta(days=7)
SENSITIVE = ("gender", "age_group")


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
    return labeled_predictions(demo_dir, CREDIT, SENSITIVE)


@pytest.fixture(scope="module")
def week(raw: pd.DataFrame) -> Window:
    end = raw[raw["model_id"] == CREDIT]["timestamp"].max().to_pydatetime()
    return Window.ending_at(end, WEEK)


@pytest.fixture(scope="module")
def checks(store: LogStore, settings: Settings, week: Window) -> tuple[VersionCheck, ...]:
    return check_all(store, settings, CREDIT, week)


# -- the demo's canary, against the raw rows -----------------------------------------------


def test_v3_is_rejected_on_its_own_traffic(
    checks: tuple[VersionCheck, ...],
    week: Window,
    raw: pd.DataFrame,
    labeled: pd.DataFrame,
    demo_dir: Path,
    settings: Settings,
) -> None:
    v3 = checks[-1]
    assert (v3.version, v3.verdict, v3.metrics.window) == ("v3", "reject", week)
    found = {c.name: c for c in v3.checks}
    limits = settings.thresholds

    # accuracy against the model's baseline (the reference file's accuracy)
    reference = reference_rows(demo_dir, CREDIT)
    baseline = float((reference["truth"] == reference["prediction"]).mean())
    value, labels = accuracy(labeled, "v3", week.start, week.end)
    assert found["accuracy"].value == f"{value:.3f} ({labels:,} labels)"
    assert found["accuracy"].limit == f"baseline {baseline:.3f}, at most 5.0 points worse"
    assert found["accuracy"].outcome == ("failed" if baseline - value > 0.05 else "passed")

    # error rate and p95 of v3's own predictions
    rows = between(
        raw[(raw["model_id"] == CREDIT) & (raw["version"] == "v3")], week.start, week.end
    )
    assert found["error rate"].value == f"{(rows['status'] == 'error').mean():.2%}"
    assert found["latency p95"].value == f"{p95(rows['latency_ms']):,.0f} ms"
    assert found["error rate"].outcome == found["latency p95"].outcome == "passed"

    # fairness: women selected at about five times the rate of men; not so in the reference
    own = labeled_in(labeled, "v3", week.start, week.end)
    group, largest, ratio = selection_screen(own, "gender")
    _, _, on_reference = selection_screen(reference, "gender")
    folded, reference_folded = min(ratio, 1 / ratio), min(on_reference, 1 / on_reference)
    assert (group, largest) == ("female", "male") and ratio > 3
    assert reference_folded >= limits.fairness_tau
    gender = found["fairness (gender)"]
    assert gender.outcome == "failed"
    assert gender.value == f"{folded:.2f} (selection rate of female {ratio:.2f}x male's)"
    assert gender.limit == f"at least 0.80; reference dataset {reference_folded:.2f}"
    assert gender.finding in v3.failed and gender.finding in v3.summary
    assert v3.summary.startswith("v3: reject — ")
    (screen,) = [s for s in v3.metrics.screens if s.feature == "gender"]
    assert screen.version.ratio == pytest.approx(ratio)
    assert screen.reference.fairness_ratio == pytest.approx(reference_folded)

    # the other metrics are evidence beside their baseline, not checks (F1 by sklearn)
    measures = {m.name: m for m in v3.metrics.measures}
    assert measures["f1"].value == pytest.approx(f1(own))
    assert measures["f1"].baseline == pytest.approx(f1(reference))
    assert "accuracy" not in measures

    document = v3.to_document()
    assert (document["version"], document["verdict"]) == ("v3", "reject")
    assert document["failed"] == list(v3.failed)
    assert document["metrics"]["fairness_screens"][0]["feature"] == "gender"


def test_a_gap_the_reference_has_too_is_a_note(
    checks: tuple[VersionCheck, ...], demo_dir: Path, settings: Settings
) -> None:
    """age_group fails the screen on the reference file itself: not held against v1/v2."""
    _, _, ratio = selection_screen(reference_rows(demo_dir, CREDIT), "age_group")
    assert min(ratio, 1 / ratio) < settings.thresholds.fairness_tau
    v1, v2, _ = checks
    for found in (v1, v2):
        assert found.verdict == "healthy", found.problems
        age = next(c for c in found.checks if c.name == "fairness (age_group)")
        if age.outcome == "note":
            assert "the reference dataset fails the screen too" in age.finding
            assert age.finding in found.notes
        else:
            assert age.outcome == "passed"


def test_healthy_before_agrees_with_last_healthy(
    checks: tuple[VersionCheck, ...], store: LogStore, settings: Settings, week: Window
) -> None:
    """The same versions and reasons (sums in DuckDB may differ in the last bits)."""

    def seen(found: HealthyVersion) -> tuple[str | None, object]:
        return (None if found.found is None else found.found.version), found.rejected

    for version in ("v1", "v2", "v3"):
        lazy = last_healthy(store, settings, CREDIT, version, week)
        assert seen(healthy_before(checks, version)) == seen(lazy)
    assert seen(healthy_before(checks, "v3")) == ("v2", ())
    assert seen(healthy_before(checks, "v1")) == (None, ())
    one = check(store, settings, CREDIT, "v3", week)
    assert one.verdict == checks[-1].verdict and one.failed == checks[-1].failed


def test_the_worst_version_serving_is_the_default(checks: tuple[VersionCheck, ...]) -> None:
    assert worst_version(checks, current="v2", serving=["v2", "v3"]) == "v3"
    assert worst_version(checks, current="v2", serving=["v1", "v2"]) == "v2"  # v3 not serving


# -- the rules, one by one -----------------------------------------------------------------

LIMITS = Thresholds()


def screen(passed: bool | None, ratio: float | None, *, reference: bool | None) -> FeatureScreen:
    own = Screen(passed, "selection_rate", "male", "female", ratio)
    ref = Screen(reference, "selection_rate", "male", "female", None if reference is None else 0.9)
    return FeatureScreen("gender", 0.8, own, ref)


def test_a_healthy_version() -> None:
    found = check_version(version_metrics(), LIMITS)
    assert (found.verdict, found.failed, found.missing) == ("healthy", (), ())
    assert found.summary == "a: healthy — every check passed on its own traffic"
    assert [c.name for c in found.checks] == ["accuracy", "error rate", "latency p95"]


@pytest.mark.parametrize(
    ("changes", "verdict", "words"),
    [
        ({"value": 0.80}, "reject", "accuracy 0.800 of a is 6.0 points worse than the baseline"),
        ({"errors": 600}, "reject", "error rate 6.00% is above 5.00%"),
        ({"latency_p95_ms": 900.0}, "reject", "latency p95 900 ms is above 500 ms"),
        ({"screens": (screen(False, 5.0, reference=True),)}, "reject", "fairness ratio 0.20"),
        ({"screens": (screen(False, 5.0, reference=None),)}, "reject", "could not be screened"),
        (
            {"metric": "mae", "higher_is_better": False, "value": 10.6, "model_baseline": 10.0},
            "reject",
            "mae 10.600 of a is 0.6 worse than the baseline 10.000 (allowed: 0.5)",
        ),
        ({"value": None, "labeled": 0}, "inconclusive", "no accuracy"),
        ({"labeled": 40}, "inconclusive", "only 40 labels"),
        ({"model_baseline": None}, "inconclusive", "no baseline"),
        ({"predictions": 0, "errors": 0}, "inconclusive", "a served no predictions"),
    ],
)
def test_each_rule(changes: dict[str, object], verdict: str, words: str) -> None:
    found = check_version(version_metrics("a", **changes), LIMITS)
    assert found.verdict == verdict
    reasons = found.failed if verdict == "reject" else found.missing
    assert any(words in r for r in reasons), reasons
    assert found.summary.startswith(f"a: {verdict} — ") and words in found.summary


def test_what_is_not_held_against_a_version() -> None:
    both = check_version(version_metrics(screens=(screen(False, 5.0, reference=False),)), LIMITS)
    assert both.verdict == "healthy" and "reference dataset fails the screen too" in both.notes[0]
    unjudged = check_version(version_metrics(screens=(screen(None, None, reference=True),)), LIMITS)
    assert unjudged.verdict == "healthy" and "not judged" in unjudged.notes[0]
    no_latency = check_version(version_metrics(latency_p95_ms=None), LIMITS)
    assert no_latency.verdict == "healthy" and "no latency logged" in no_latency.notes[0]
    passing = check_version(version_metrics(screens=(screen(True, 0.95, reference=True),)), LIMITS)
    assert passing.verdict == "healthy" and passing.checks[-1].outcome == "passed"


def test_the_worst_version_fails_the_most_checks() -> None:
    def made(version: str, **changes: object) -> VersionCheck:
        return check_version(version_metrics(version, **changes), LIMITS)

    found = [made("v1", value=0.5, errors=600), made("v2", value=0.5), made("v3"), made("v4")]
    assert worst_version(found, current="v4", serving=["v1", "v2", "v3", "v4"]) == "v1"
    assert worst_version(found, current="v4", serving=["v2", "v3", "v4"]) == "v2"
    assert worst_version(found, current="v4", serving=["v3", "v4"]) == "v4"
    assert healthy_before(found, "v4").found == found[2].metrics
    assert healthy_before(found, "v3").rejected == (
        ("v2", found[1].problems),
        ("v1", found[0].problems),
    )
