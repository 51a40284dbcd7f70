"""Findings: one evaluation of every rule, the severity policy, and the words a person
reads, on the demo logs; rates checked against fairlearn and scikit-learn on the raw
log files (read without monitor.core.store)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from fairlearn.metrics import selection_rate
from sklearn.metrics import f1_score

from monitor.core.config import Settings, Thresholds, load_settings
from monitor.core.errors import ConfigError
from monitor.core.store import LogStore
from monitor.findings.evaluate import evaluate
from monitor.findings.model import Findings
from monitor.findings.rules import SeverityPolicy, default_rules
from monitor.findings.rules_config import alerts_config
from tests.queries.test_fairness_logs import as_float, raw_labeled


@pytest.fixture(scope="module")
def store(demo_dir: Path) -> LogStore:
    return LogStore(demo_dir)


@pytest.fixture(scope="module")
def settings(demo_dir: Path) -> Settings:
    return load_settings(demo_dir / "monitor.toml", env={})


@pytest.fixture(scope="module")
def found(store: LogStore, settings: Settings) -> Findings:
    return evaluate(store, settings, dt.datetime.now(dt.UTC))


def test_default_severity_policy_escalates_where_the_effect_is_large() -> None:
    t = Thresholds()
    rules = {r.id: r for r in default_rules(t)}
    assert rules["f1_drop"].critical == pytest.approx(2 * t.accuracy_drop)
    assert rules["accuracy_drop"].critical == pytest.approx(2 * t.accuracy_drop)
    assert rules["latency_p95"].critical == pytest.approx(2 * t.latency_p95_ms)
    assert rules["error_rate"].critical == pytest.approx(5 * t.error_rate)
    assert rules["fairness_ratio"].critical == 0.5
    assert rules["feature_psi"].critical is None and rules["dataset_drift"].critical is None
    f1 = rules["f1_drop"]
    assert f1.severity_of(0.06) == "warning" and f1.severity_of(0.11) == "critical"
    fair = rules["fairness_ratio"]
    assert fair.severity_of(0.645) == "warning" and fair.severity_of(0.2) == "critical"
    stricter = {r.id: r for r in default_rules(t, SeverityPolicy(factor=3.0))}
    assert stricter["f1_drop"].critical == pytest.approx(3 * t.accuracy_drop)


def _with_alerts(settings: Settings, alerts: dict[str, Any]) -> Settings:
    return dataclasses.replace(settings, alerts=alerts)


def test_severity_config_moves_with_the_threshold_and_can_be_switched_off(
    settings: Settings,
) -> None:
    config = alerts_config(settings)  # the demo sets latency_p95's threshold to 250 ms
    latency = config.rule("latency_p95")
    assert latency is not None and latency.threshold == 250 and latency.critical == 500
    custom = _with_alerts(
        settings,
        {
            "severity": {"disparity_ratio": 0.4},
            "rules": [{"id": "f1_drop", "critical": False}, {"id": "error_rate", "critical": 0.5}],
        },
    )
    rules = {r.id: r for r in alerts_config(custom).rules}
    assert rules["fairness_ratio"].critical == 0.4
    assert rules["f1_drop"].critical is None and rules["error_rate"].critical == 0.5
    for bad, message in (
        ({"severity": {"factor": -1}}, "alerts.severity.factor must be a positive number"),
        ({"severity": {"nope": 1}}, "alerts.severity"),
        ({"rules": [{"id": "f1_drop", "critical": "high"}]}, "critical must be a number"),
    ):
        with pytest.raises(ConfigError, match=message):
            alerts_config(_with_alerts(settings, bad))


def test_the_canary_is_judged_on_its_own_traffic_and_named_first(
    demo_dir: Path, found: Findings
) -> None:
    problems = found.problems()
    assert problems, "the demo injects problems"
    worst = problems[0]
    assert worst.severity == "critical" and worst.subject == "credit-risk v3"
    critical = {(f.rule.id, f.subject) for f in problems if f.severity == "critical"}
    assert ("fairness_ratio", "credit-risk v3") in critical
    assert ("f1_drop", "credit-risk v3") in critical
    # v2, the healthy majority, is never critical.
    assert not [f for f in problems if f.version == "v2" and f.severity == "critical"]
    # Severity ranks first, then how far past the threshold.
    ranks = [(f.severity != "critical", -f.magnitude) for f in problems]
    assert ranks == sorted(ranks)

    f1 = next(f for f in problems if f.rule.id == "f1_drop" and f.version == "v3")
    assert f1.series.observed is not None and f1.series.baseline is not None
    assert f1.value == pytest.approx(f1.series.baseline - f1.series.observed)
    assert f1.headline == (f"F1 {f1.series.observed:.3g} vs {f1.series.baseline:.3g} baseline")
    raw = raw_labeled(demo_dir, "credit-risk", ["gender"])
    window = raw[
        (raw["timestamp"] > f1.window.start)
        & (raw["timestamp"] <= f1.window.end)
        & (raw["version"] == "v3")
        & raw["label"].notna()
    ]
    expected = f1_score(as_float(window["label"]), as_float(window["prediction"]))
    assert f1.series.observed == pytest.approx(expected, abs=1e-12)


def test_the_fairness_finding_reads_the_right_way_round(demo_dir: Path, found: Findings) -> None:
    fair = next(
        f
        for f in found.problems()
        if f.rule.id == "fairness_ratio"
        and f.version == "v3"
        and f.series.labels["feature"] == "gender"
    )
    raw = raw_labeled(demo_dir, "credit-risk", ["gender"])
    window = raw[
        (raw["timestamp"] > fair.window.start)
        & (raw["timestamp"] <= fair.window.end)
        & (raw["version"] == "v3")
        & raw["label"].notna()
    ]
    rate = {
        g: selection_rate(as_float(part["label"]), as_float(part["prediction"]))
        for g, part in window.groupby("gender")
    }
    group, reference = fair.series.labels["group"], fair.series.reference
    assert (group, reference) == ("female", "male")
    assert fair.series.ratio == pytest.approx(rate["female"] / rate["male"], rel=1e-9)
    assert fair.series.ratio is not None and fair.series.ratio > 1  # women selected more
    assert fair.value == pytest.approx(1 / fair.series.ratio)
    assert fair.headline.startswith(
        f"gender female: selection rate {fair.series.ratio:.3g}x the male group's"
    )
    assert fair.link == ("fairness", {"model": "credit-risk", "version": "v3"})


def test_healthy_series_are_findings_too_and_never_problems(found: Findings) -> None:
    healthy = [f for f in found.found if f.value is not None and not f.breached]
    assert healthy and all(f.severity is None for f in healthy)
    assert set(found.models()) == {"credit-risk", "demand-forecast"}
    assert found.rules >= 10 and found.errors == []


def test_summary_and_check_report_the_same_findings_as_the_overview(
    demo_dir: Path, store: LogStore, settings: Settings, tmp_path: Path
) -> None:
    """One evaluation, many views: `monitor summary` lists the board's problems in its
    order and words, and `monitor check` fires an alert for each of them."""
    from monitor.core.state import StateStore
    from monitor.ops.alerts.evaluation import evaluate as evaluate_alerts
    from monitor.reports.summary import summarize

    now = dt.datetime.now(dt.UTC)
    found = evaluate(store, settings, now)
    document = summarize(store, settings, state=StateStore(tmp_path / "state.sqlite"))
    expected = [(f.rule.id, f.fingerprint, f"{f.subject}: {f.headline}") for f in found.problems()]
    listed = [(p["rule"], p["severity"], p["headline"]) for p in document["problems"]]
    assert [(r, h) for r, _, h in listed] == [(r, h) for r, _, h in expected]
    assert [s for _, s, _ in listed] == [f.severity for f in found.problems()]
    statuses = {m["model_id"]: m["status"] for m in document["models"]}
    assert statuses["credit-risk"] == "critical"
    result = evaluate_alerts(store, settings, StateStore(tmp_path / "check.sqlite"), notify=False)
    firing = {a.fingerprint: a.severity for a in result.alerts if a.state in ("pending", "firing")}
    assert {f.fingerprint: f.severity for f in found.problems()} == firing


def test_pages_draw_the_threshold_the_alert_rule_uses(settings: Settings) -> None:
    """System health's p95 line is the latency rule's threshold (250 ms in the demo's
    monitor.toml), not [thresholds]' default (500 ms)."""
    from monitor.findings.rules_config import rule_threshold

    assert settings.thresholds.latency_p95_ms == 500
    assert rule_threshold(settings, "latency_p95_ms", "credit-risk") == 250
    # The demo's daily PSI rule watches credit-risk only; demand-forecast's is weekly.
    assert rule_threshold(settings, "psi", "demand-forecast") == 0.2
    silent = _with_alerts(settings, {"rules": [{"id": "latency_p95", "enabled": False}]})
    assert rule_threshold(silent, "latency_p95_ms", "credit-risk") is None
