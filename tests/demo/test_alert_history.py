"""A fresh demo comes with the alert history its injected problems would have left: the
rules replayed over its timeline (monitor.ops.alerts.replay, times from
monitor.demo.history). Checked from the state store and a real `monitor check`."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import monitor.demo
from monitor.core.config import load_settings
from monitor.core.state import StateStore
from monitor.core.store import LogStore
from monitor.demo import generate_demo
from monitor.demo.history import replay_times
from monitor.ops.alerts import actions as alerts
from monitor.ops.alerts.replay import replay_history

DAYS, PREDICTIONS = 14, 40_000


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def fresh_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo written by `monitor demo` (which replays the rules), never changed after."""
    path = tmp_path_factory.mktemp("history") / "demo"
    result = _cli(
        "demo", "--data-dir", str(path), "--days", str(DAYS), "--predictions", str(PREDICTIONS)
    )
    assert result.returncode == 0, result.stderr
    assert "alerts firing at the end" in result.stdout
    return path


def _problem(data_dir: Path, name: str) -> tuple[dt.datetime, dt.datetime]:
    manifest = json.loads((data_dir / "demo_manifest.json").read_text(encoding="utf-8"))
    (problem,) = [p for p in manifest["problems"] if p["name"] == name]
    return dt.datetime.fromisoformat(problem["start"]), dt.datetime.fromisoformat(problem["end"])


def _came_and_went(state: StateStore, rule: str, model: str) -> alerts.Alert:
    (alert,) = [
        a
        for a in alerts.list_alerts(state, state_filter="all")
        if a.rule == rule and a.labels == {"model": model}
    ]
    assert alert.state == "resolved" and alert.started_at is not None
    assert alert.resolved_at is not None
    return alert


def test_the_latency_spike_fired_inside_its_window_and_resolved_just_after(
    fresh_demo: Path,
) -> None:
    start, end = _problem(fresh_demo, "latency_spike")
    state = StateStore.for_data_dir(fresh_demo)
    alert = _came_and_went(state, "latency_p95", "credit-risk")
    assert alert.started_at is not None and alert.resolved_at is not None
    assert start < alert.started_at < end
    assert end <= alert.resolved_at <= end + dt.timedelta(hours=1)
    history = sorted(alerts.alert_history(state, alert.alert_id), key=lambda e: e.id)
    steps: list[tuple[str, dt.datetime]] = []
    for entry in history:
        assert entry.after is not None and entry.actor == "monitor"
        steps.append((entry.action, dt.datetime.fromisoformat(entry.after["evaluated_at"])))
    assert [action for action, _ in steps] == ["pending", "firing", "resolved"]
    assert [at for _, at in steps] == sorted(at for _, at in steps)
    assert start < steps[0][1] < steps[1][1] == alert.started_at < end
    assert steps[2][1] == alert.resolved_at


def test_the_error_burst_fired_and_resolved_by_the_hour_after_it(fresh_demo: Path) -> None:
    """Two hours of errors: pending after the first hour, firing after the second (the
    hourly replay's evaluation at its end), resolved an hour later."""
    start, end = _problem(fresh_demo, "error_burst")
    alert = _came_and_went(StateStore.for_data_dir(fresh_demo), "error_rate", "demand-forecast")
    assert alert.pending_since is not None and alert.started_at is not None
    assert start < alert.pending_since < alert.started_at <= end
    assert alert.resolved_at is not None and end < alert.resolved_at <= end + dt.timedelta(hours=1)


def test_monitor_check_at_the_end_shows_drift_the_canary_and_its_unfairness(
    fresh_demo: Path,
) -> None:
    result = _cli("--config", str(fresh_demo / "monitor.toml"), "check", "--json", "--no-notify")
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    firing: list[dict[str, Any]] = [a for a in report["alerts"] if a["state"] == "firing"]
    assert len({a["rule"] for a in firing}) >= 3
    assert [a for a in firing if a["page"] == "drift" and a["labels"]["model"] == "credit-risk"]
    v3 = [a for a in firing if a["labels"].get("version") == "v3"]
    assert {"f1_drop", "accuracy_drop"} & {a["rule"] for a in v3}
    unfair = [a for a in v3 if a["rule"] == "fairness_ratio" and a["labels"]["feature"] == "gender"]
    assert [a["labels"]["group"] for a in unfair] == ["female"]
    # The replay ended where `monitor check` stands: the same evaluation changes nothing,
    # and the long-running problems have been firing since the incidents.
    assert report["transitions"] == [] and report["errors"] == []
    latency_start, _ = _problem(fresh_demo, "latency_spike")
    assert min(dt.datetime.fromisoformat(a["started_at"]) for a in firing) < latency_start + (
        dt.timedelta(hours=2)
    )


def test_the_replay_never_rewrites_a_history_nor_touches_other_data(
    fresh_demo: Path, tmp_path: Path
) -> None:
    assert replay_times(tmp_path) == ()  # no manifest: not a demo
    settings = load_settings(fresh_demo / "monitor.toml", env={})
    store, state = LogStore(fresh_demo), StateStore.for_data_dir(fresh_demo)
    try:
        before = alerts.list_alerts(state, state_filter="all")
        last = alerts.last_evaluation(state)
        again = replay_history(store, settings, state, replay_times(fresh_demo))
        assert again.evaluations == () and again.skipped is not None
        assert alerts.list_alerts(state, state_filter="all") == before
        assert alerts.last_evaluation(state) == last
        fresh = StateStore(tmp_path / "state.sqlite")
        nothing = replay_history(store, settings, fresh, ())
        assert nothing.evaluations == () and alerts.last_evaluation(fresh) is None
    finally:
        store.close()


def test_the_dashboards_first_start_generates_the_demo_and_its_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit as st

    from monitor.ui import context as ui_context

    def small(path: Path) -> monitor.demo.DemoManifest:
        return generate_demo(path, days=5, predictions=3000)

    monkeypatch.setattr(monitor.demo, "generate_demo", small)
    data_dir = tmp_path / "data"
    config = tmp_path / "monitor.toml"
    config.write_text(monitor.demo.demo_config_toml(str(data_dir)), encoding="utf-8")
    settings = load_settings(config, env={})
    st.cache_resource.clear()
    try:
        ui_context._store(str(data_dir), settings)
        state = StateStore.for_data_dir(data_dir)
        assert alerts.last_evaluation(state) is not None
        assert alerts.list_alerts(state, state_filter="firing")
        last = alerts.last_evaluation(state)
        ui_context._store.clear()
        ui_context._store(str(data_dir), settings)  # logs exist: no demo, no replay
        assert alerts.last_evaluation(state) == last
    finally:
        st.cache_resource.clear()


def test_long_running_problems_are_dated_from_about_their_onset(fresh_demo: Path) -> None:
    """The new category is dated a day after the manifest's start, not from the first
    incident's run."""
    start, _ = _problem(fresh_demo, "new_category")
    latency_start, _ = _problem(fresh_demo, "latency_spike")
    state = StateStore.for_data_dir(fresh_demo)
    try:
        (alert,) = [
            a
            for a in alerts.list_alerts(state, state_filter="firing")
            if a.rule == "new_categories" and a.labels.get("feature") == "employment_type"
        ]
    finally:
        state.close()
    assert alert.pending_since == start + dt.timedelta(days=1) < latency_start
