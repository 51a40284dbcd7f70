"""The demo's injected problems fire the expected alerts with the demo's own config
(data clock, default rules), at the moments the manifest gives."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from monitor.core.config import Settings, load_settings
from monitor.core.state import StateStore
from monitor.core.store import LogStore
from monitor.ops.alerts import actions as alerts

Demo = tuple[LogStore, Settings, dict[tuple[str, str], Any]]


@pytest.fixture(scope="module")
def demo(demo_dir: Path) -> Demo:
    manifest = json.loads((demo_dir / "demo_manifest.json").read_text(encoding="utf-8"))
    problems = {(p["name"], p["model_id"]): p for p in manifest["problems"]}
    return LogStore(demo_dir), load_settings(demo_dir / "monitor.toml", env={}), problems


def _at(problem: dict[str, Any], key: str, minutes: float = 0) -> dt.datetime:
    return dt.datetime.fromisoformat(problem[key]) + dt.timedelta(minutes=minutes)


def _firing(result: alerts.EvaluationResult, rule: str, **labels: str) -> list[alerts.Alert]:
    return [
        a
        for a in result.alerts
        if a.rule == rule
        and a.state == "firing"
        and all(a.labels.get(k) == v for k, v in labels.items())
    ]


def test_latency_spike_and_error_burst_fire_after_their_for_and_resolve(
    demo: Demo, tmp_path: Path
) -> None:
    store, settings, problems = demo
    spike = problems[("latency_spike", "credit-risk")]
    burst = problems[("error_burst", "demand-forecast")]
    state = StateStore(tmp_path / "state.sqlite")
    before = alerts.evaluate(store, settings, state, now=_at(spike, "start", -5), notify=False)
    assert not [a for a in before.alerts if a.rule == "latency_p95"]
    early = alerts.evaluate(store, settings, state, now=_at(spike, "start", 30), notify=False)
    pending = {(a.rule, a.labels["model"]): a.state for a in early.alerts}
    assert pending[("latency_p95", "credit-risk")] == "pending"  # for = 5m
    assert pending[("error_rate", "demand-forecast")] in ("pending", "firing")
    fired = alerts.evaluate(store, settings, state, now=_at(spike, "start", 40), notify=False)
    (latency,) = _firing(fired, "latency_p95", model="credit-risk")
    assert latency.value is not None and latency.value > 250 and latency.page == "system_health"
    (errors,) = _firing(fired, "error_rate", model="demand-forecast")
    assert errors.severity == "critical" and errors.value is not None and errors.value > 0.2
    assert _at(burst, "start") < _at(spike, "start", 40) < _at(burst, "end")
    assert not _firing(fired, "latency_p95", model="demand-forecast")
    assert not _firing(fired, "error_rate", model="credit-risk")
    blocking = alerts.blocking(fired.alerts, now=_at(spike, "start", 40))
    # The error burst is critical (over 5x its threshold); so are the v3 canary's
    # performance drop (over twice the tolerance) and its gender disparity (ratio below
    # 0.5); the latency spike (under twice its threshold) stays a warning.
    assert errors in blocking and latency not in blocking
    assert {(a.rule, a.labels.get("version")) for a in blocking if a is not errors} <= {
        ("f1_drop", "v3"),
        ("accuracy_drop", "v3"),
        ("fairness_ratio", "v3"),
    }
    after = alerts.evaluate(store, settings, state, now=_at(spike, "end", 90), notify=False)
    states = {a.alert_id: a.state for a in after.alerts}
    assert states[latency.alert_id] == "resolved" and states[errors.alert_id] == "resolved"


def test_missing_credit_scores_fire_for_that_feature_only(demo: Demo, tmp_path: Path) -> None:
    store, settings, problems = demo
    missing = problems[("missing_values", "credit-risk")]
    state = StateStore(tmp_path / "state.sqlite")
    result = alerts.evaluate(store, settings, state, now=_at(missing, "start", 12 * 60))
    found = [(a.labels["model"], a.labels["feature"]) for a in _firing(result, "missing_share")]
    assert found == [("credit-risk", "credit_score")]
    (alert,) = _firing(result, "missing_share")
    assert alert.value is not None and 0.2 < alert.value < 0.7 and alert.page == "data_quality"
    assert not _firing(result, "feature_psi", feature="income")  # before the income drift


def test_at_the_end_of_the_data_drift_fairness_and_the_canary_fire(
    demo: Demo, tmp_path: Path
) -> None:
    store, settings, problems = demo
    gap = problems[("fairness_gap", "credit-risk")]
    state = StateStore(tmp_path / "state.sqlite")
    result = alerts.evaluate(store, settings, state)  # clock = "data": the newest predictions
    newest = {a.labels["model"]: a.last_evaluated_at for a in result.alerts}
    assert newest["credit-risk"] > _at(gap, "end", -60)
    assert _firing(result, "feature_psi", model="credit-risk", feature="income")
    assert _firing(result, "feature_psi", model="credit-risk", feature="employment_type")
    (unfair,) = _firing(
        result,
        "fairness_ratio",
        model="credit-risk",
        version=gap["model_version"],
        feature="gender",
    )
    assert unfair.labels["group"] == gap["group"] and unfair.page == "fairness"
    assert not _firing(result, "fairness_ratio", version="v2", feature="gender")
    assert _firing(result, "f1_drop", model="credit-risk", version="v3")  # the canary
    assert not _firing(result, "f1_drop", model="credit-risk", version="v2")
    assert not _firing(result, "latency_p95") and not _firing(result, "error_rate")
    assert result.errors == ()
