"""The Overview's executive summary finds the demo's injected problems where they are."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from monitor.core.catalog import Window
from monitor.core.config import load_settings
from monitor.core.scope import Scope
from monitor.core.store import LogStore
from monitor.findings.status import model_status
from monitor.queries.health import model_health


def _problem(demo_dir: Path, name: str) -> dict[str, Any]:
    problems = json.loads((demo_dir / "demo_manifest.json").read_text())["problems"]
    found: dict[str, Any] = next(p for p in problems if p["name"] == name)
    return found


def _window(problem: dict[str, Any]) -> Window:
    return Window(
        dt.datetime.fromisoformat(problem["start"]),
        dt.datetime.fromisoformat(problem["end"]) - dt.timedelta(microseconds=1),
    )


@pytest.fixture(scope="module")
def store(demo_dir: Path) -> LogStore:
    return LogStore(demo_dir)


def test_deltas_compare_with_the_window_just_before(demo_dir: Path, store: LogStore) -> None:
    settings = load_settings(demo_dir / "monitor.toml", env={})
    window = _window(_problem(demo_dir, "latency_spike"))
    status = model_status(store, settings, "credit-risk", window)
    before = model_health(store, Scope("credit-risk", window.previous()))
    assert window.previous().end < window.start
    assert window.previous().end - window.previous().start == window.end - window.start
    now_p95, before_p95 = status.health.latency.p95, before.latency.p95
    assert now_p95 is not None and before_p95 is not None
    assert status.p95_delta == pytest.approx(now_p95 - before_p95)
    assert status.p95_delta is not None and status.p95_delta > 50  # the spike


def test_drift_status_names_the_drifting_feature_only_once_it_drifts(
    demo_dir: Path, store: LogStore
) -> None:
    settings = load_settings(demo_dir / "monitor.toml", env={})
    drifting = _window(_problem(demo_dir, "feature_drift"))
    late = Window(drifting.end - dt.timedelta(days=2), drifting.end)
    status = model_status(store, settings, "credit-risk", late)
    assert status.drift.state in ("warning", "alert")
    assert "income" in status.drift.summary
    early = Window(drifting.start - dt.timedelta(days=3), drifting.start - dt.timedelta(days=1))
    assert "income" not in model_status(store, settings, "credit-risk", early).drift.summary


def test_fairness_status_fails_for_the_canary_only(demo_dir: Path, store: LogStore) -> None:
    settings = load_settings(demo_dir / "monitor.toml", env={})
    gap = _problem(demo_dir, "fairness_gap")
    unlabeled = _problem(demo_dir, "unlabeled_tail")
    labeled = Window(
        dt.datetime.fromisoformat(gap["start"]),
        dt.datetime.fromisoformat(unlabeled["start"]) - dt.timedelta(microseconds=1),
    )
    canary = model_status(store, settings, "credit-risk", labeled, ["v3"])
    assert canary.fairness.state == "alert"
    assert "gender" in canary.fairness.summary and gap["group"] in canary.fairness.summary
    stable = model_status(store, settings, "credit-risk", labeled, ["v2"])
    assert "gender" not in stable.fairness.summary or stable.fairness.state == "ok"


def test_unlabeled_window_shows_an_estimate(demo_dir: Path, store: LogStore) -> None:
    settings = load_settings(demo_dir / "monitor.toml", env={})
    tail = _window(_problem(demo_dir, "unlabeled_tail"))
    status = model_status(store, settings, "credit-risk", tail)
    assert status.headline is not None and status.headline.estimated
    assert status.headline.labeled == 0
    assert status.headline.value is not None and 0.5 < status.headline.value <= 1.0
    assert "estimated" in status.performance.summary
