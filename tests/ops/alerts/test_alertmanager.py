"""Alerts pushed to a real Alertmanager (Debian's prometheus-alertmanager, started with
deploy/alertmanager.yml): the demo's firing alerts arrive with their labels and links and
leave Alertmanager's active list when they resolve; an unreachable server, an HTTP 500
and a timeout are recorded in the delivery log, leave the evaluation as it is, and the
alerts arrive once Alertmanager answers again."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from monitor.core.config import Settings, load_settings
from monitor.core.errors import ConfigError
from monitor.core.state import StateStore
from monitor.core.store import LogStore
from monitor.findings.rules_config import alerts_config
from monitor.ops import notify
from monitor.ops.alerts import actions as alerts
from tests.prometheus_support import Server, alertmanager, free_port, get_json

DASHBOARD = "http://monitor.test:8501"


@pytest.fixture(scope="module")
def demo(demo_dir: Path) -> tuple[LogStore, Settings, dict[str, Any]]:
    manifest = json.loads((demo_dir / "demo_manifest.json").read_text(encoding="utf-8"))
    spike = next(p for p in manifest["problems"] if p["name"] == "latency_spike")
    return LogStore(demo_dir), load_settings(demo_dir / "monitor.toml", env={}), spike


@pytest.fixture(scope="module")
def manager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with alertmanager(tmp_path_factory.mktemp("alertmanager")) as server:
        yield server


def _with_manager(settings: Settings, url: str, **options: Any) -> Settings:
    table = {"url": url, "timeout_s": 0.5, "retries": 1, "backoff_s": 0.01, **options}
    raw = {**settings.alerts, "alertmanager": table, "dashboard_url": DASHBOARD}
    return dataclasses.replace(settings, alerts=raw)


def _at(problem: dict[str, Any], key: str, minutes: float) -> dt.datetime:
    return dt.datetime.fromisoformat(problem[key]) + dt.timedelta(minutes=minutes)


def _active(server: Server) -> dict[frozenset[tuple[str, str]], dict[str, Any]]:
    """Alertmanager's active alerts by label set."""
    found = get_json(f"{server.url}/api/v2/alerts")
    return {frozenset(a["labels"].items()): a for a in found}


def _labels(alert: alerts.Alert) -> frozenset[tuple[str, str]]:
    """The label set the monitor sends for an alert, written out independently."""
    labels = {"alertname": alert.rule, "severity": alert.severity}
    labels |= {k: v for k, v in alert.labels.items() if v}
    return frozenset(labels.items())


def _firing(result: alerts.EvaluationResult, rule: str, model: str) -> alerts.Alert:
    (found,) = [
        a
        for a in result.alerts
        if a.rule == rule and a.state == "firing" and a.labels["model"] == model
    ]
    return found


def test_firing_alerts_arrive_and_resolved_ones_leave(
    demo: tuple[LogStore, Settings, dict[str, Any]], manager: Server, tmp_path: Path
) -> None:
    store, settings, spike = demo
    settings = _with_manager(settings, manager.url)
    state = StateStore(tmp_path / "state.sqlite")
    alerts.evaluate(store, settings, state, now=_at(spike, "start", 30))
    fired = alerts.evaluate(store, settings, state, now=_at(spike, "start", 40))
    latency = _firing(fired, "latency_p95", "credit-risk")
    errors = _firing(fired, "error_rate", "demand-forecast")
    active = _active(manager)
    firing = [a for a in fired.alerts if a.state == "firing"]
    assert len(firing) > 2 and set(active) == {_labels(a) for a in firing}
    got = active[_labels(latency)]
    assert dict(got["labels"]) == {
        "alertname": "latency_p95",
        "model": "credit-risk",
        "severity": "warning",
    }
    assert got["annotations"]["summary"] == latency.summary
    assert got["annotations"]["alert_id"] == str(latency.alert_id)
    assert got["generatorURL"] == f"{DASHBOARD}/system_health?model=credit-risk"
    assert latency.started_at is not None
    assert dt.datetime.fromisoformat(got["startsAt"]) == latency.started_at.replace(
        microsecond=latency.started_at.microsecond // 1000 * 1000
    )
    assert got["status"]["state"] == "active"
    assert active[_labels(errors)]["labels"]["severity"] == "critical"
    log = notify.deliveries(state, latency.alert_id)
    port = manager.url.rsplit(":", 1)[1]
    assert [(d.event, d.ok, d.attempts, d.http_status, d.url) for d in log] == [
        ("firing", True, 1, 200, f"http://127.0.0.1:{port}/…")
    ]

    after = alerts.evaluate(store, settings, state, now=_at(spike, "end", 90))
    states = {a.alert_id: a.state for a in after.alerts}
    assert states[latency.alert_id] == states[errors.alert_id] == "resolved"
    still = {_labels(a) for a in after.alerts if a.state == "firing"}
    assert set(_active(manager)) == still
    assert _labels(latency) not in still and _labels(errors) not in still
    assert [d.event for d in notify.deliveries(state, latency.alert_id)] == ["firing", "resolved"]
    steady = next(a for a in firing if states.get(a.alert_id) == "firing")
    assert len(notify.deliveries(state, steady.alert_id)) == 1  # re-sent, not re-recorded


class Failing:
    """A local HTTP server that answers every POST with `status` after `delay` seconds."""

    def __init__(self, status: int, delay: float = 0.0) -> None:
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.requests += 1
                self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.end_headers()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("unreachable", "cannot connect: [Errno 111] Connection refused"),
        ("http 500", "HTTP 500 Internal Server Error"),
        ("timeout", "no answer within 0.5 s"),
    ],
)
def test_a_failed_delivery_is_recorded_and_changes_nothing_else(
    demo: tuple[LogStore, Settings, dict[str, Any]], tmp_path: Path, kind: str, message: str
) -> None:
    store, settings, spike = demo
    failing = Failing(500) if kind == "http 500" else Failing(200, delay=2.0)
    url = f"http://127.0.0.1:{free_port()}" if kind == "unreachable" else failing.url
    moment = _at(spike, "start", 40)
    try:
        started = time.monotonic()
        state = StateStore(tmp_path / "state.sqlite")
        result = alerts.evaluate(store, _with_manager(settings, url), state, now=moment)
        took = time.monotonic() - started
    finally:
        failing.close()
    quiet = alerts.evaluate(
        store, settings, StateStore(tmp_path / "quiet.sqlite"), now=moment, notify=False
    )
    assert [(t.fingerprint, t.before, t.after) for t in result.transitions] == [
        (t.fingerprint, t.before, t.after) for t in quiet.transitions
    ]
    assert result.errors == quiet.errors
    firing = [a for a in result.alerts if a.state == "firing"]
    assert firing and {d.alert_id for d in result.notifications} == {a.alert_id for a in firing}
    assert {(d.event, d.ok, d.attempts, d.error) for d in result.notifications} == {
        ("firing", False, 2, message)
    }
    rows = state.read("SELECT status, error, attempts FROM notifications")
    assert {(r["status"], r["error"], r["attempts"]) for r in rows} == {("failed", message, 2)}
    assert len(rows) == len(firing)
    if kind == "http 500":
        assert failing.requests == 2 and result.notifications[0].http_status == 500
    assert took < 30  # two attempts of 0.5 s at most, beside the evaluation


def test_nothing_is_lost_while_alertmanager_is_down(
    demo: tuple[LogStore, Settings, dict[str, Any]], tmp_path: Path
) -> None:
    store, settings, spike = demo
    port = free_port()
    settings = _with_manager(settings, f"http://127.0.0.1:{port}")
    state = StateStore(tmp_path / "state.sqlite")
    alerts.evaluate(store, settings, state, now=_at(spike, "start", 30))
    fired = alerts.evaluate(store, settings, state, now=_at(spike, "start", 40))
    latency = _firing(fired, "latency_p95", "credit-risk")
    alerts.evaluate(store, settings, state, now=_at(spike, "end", 90))  # resolved, still down
    assert [(d.event, d.ok) for d in notify.deliveries(state, latency.alert_id)] == [
        ("firing", False),
        ("resolved", False),
    ]
    with alertmanager(tmp_path / "alertmanager", port) as server:
        later = alerts.evaluate(store, settings, state, now=_at(spike, "end", 95))
        active = _active(server)
    firing = {_labels(a) for a in later.alerts if a.state == "firing"}
    assert firing and set(active) == firing
    assert [(d.event, d.ok) for d in notify.deliveries(state, latency.alert_id)] == [
        ("firing", False),
        ("resolved", False),
        ("resolved", True),
    ]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({}, "alerts.alertmanager.url is required"),
        ({"url": "ftp://am:9093"}, "alerts.alertmanager.url must be an http:// or https:// URL"),
        (
            {"url": "http://am:9093", "token": "x"},
            "unknown key alerts.alertmanager.token (allowed: backoff_s, retries, timeout_s, url)",
        ),
        (
            {"url": "http://am:9093", "timeout_s": 0},
            "alerts.alertmanager.timeout_s must be a number of seconds in (0, 60]",
        ),
        (
            {"url": "http://am:9093", "retries": 11},
            "alerts.alertmanager.retries must be a whole number from 0 to 10",
        ),
        ("http://am:9093", "alerts.alertmanager must be a table ([alerts.alertmanager])"),
    ],
)
def test_bad_alertmanager_config_names_the_key(
    demo: tuple[LogStore, Settings, dict[str, Any]], table: Any, message: str
) -> None:
    _, settings, _ = demo
    bad = dataclasses.replace(settings, alerts={**settings.alerts, "alertmanager": table})
    with pytest.raises(ConfigError) as raised:
        alerts_config(bad)
    assert str(raised.value) == f"monitor.toml: {message}"


def test_the_url_is_kept_without_a_trailing_slash(
    demo: tuple[LogStore, Settings, dict[str, Any]],
) -> None:
    _, settings, _ = demo
    found = alerts_config(_with_manager(settings, "http://am.test:9093/"))
    assert found.alertmanager is not None
    assert (found.alertmanager.url, found.alertmanager.dashboard_url) == (
        "http://am.test:9093",
        DASHBOARD,
    )
    assert (found.alertmanager.timeout_s, found.alertmanager.retries) == (0.5, 1)
