"""Webhook notifications against a real HTTP server on localhost, in a thread."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from monitor.core.state import Actor
from monitor.ops import notify
from monitor.ops.alerts import actions as alerts
from tests.ops.alerts.support import (
    T0,
    alert_settings,
    make_alert,
    minutes,
    open_world,
    series,
    write_predictions,
)

RULE = {
    "id": "slow",
    "metric": "latency_p95_ms",
    "comparator": ">",
    "threshold": 100,
    "window": "10m",
    "severity": "critical",
}


class Hook:
    """A local webhook receiver: answers each request with the next planned reply
    (an HTTP status, or ("sleep", seconds) before 200); then 200."""

    def __init__(self) -> None:
        self.plan: list[Any] = []
        self.received: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.received.append(json.loads(body))
                hook.headers.append(dict(self.headers))
                reply = hook.plan.pop(0) if hook.plan else 200
                if isinstance(reply, tuple):
                    time.sleep(reply[1])
                    reply = 200
                try:
                    self.send_response(reply)
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    # The client gave up (the timeout tests): without this, the server
                    # thread prints a traceback into whichever test runs next.
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T0/B1/secret"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook()
    yield server
    server.close()


@pytest.fixture
def world(tmp_path: Path) -> Path:
    def latency(_: int, ts: dt.datetime) -> float:
        return 500.0 if minutes(30) <= ts < minutes(60) else 10.0

    write_predictions(tmp_path, "m", series("m", 0, 120, latency_ms=latency))
    return tmp_path


def _settings(world: Path, url: str, **options: Any) -> Any:
    table: dict[str, Any] = {"webhook_url": url, "webhook_backoff_s": 0.01, **options}
    return alert_settings(world, [RULE], **table)


def _rows(world: Path) -> list[dict[str, Any]]:
    _, state = open_world(world)
    return [dict(r) for r in state.read("SELECT * FROM notifications ORDER BY id")]


def test_firing_and_resolved_payloads(world: Path, hook: Hook) -> None:
    store, state = open_world(world)
    settings = _settings(world, hook.url, dashboard_url="http://monitor.local:8501/")
    fired = alerts.evaluate(store, settings, state, now=minutes(40))
    alert = fired.alerts[0]
    assert [(d.event, d.ok, d.attempts, d.http_status) for d in fired.notifications] == [
        ("firing", True, 1, 200)
    ]
    body = hook.received[0]
    assert body["event"] == "firing" and body["text"].startswith(":red_circle: [FIRING] critical")
    assert "p95 latency 500 ms &gt; 100 ms for m over 10m" in body["text"]  # Slack escapes
    assert "<http://monitor.local:8501/system_health|open system health>" in body["text"]
    assert body["alert"]["alert_id"] == alert.alert_id
    assert body["alert"]["fingerprint"] == alert.fingerprint
    assert body["alert"]["labels"] == {"model": "m"} and body["alert"]["state"] == "firing"
    assert body["alert"]["value"] == pytest.approx(500.0) and body["alert"]["threshold"] == 100
    assert body["alert"]["url"] == "http://monitor.local:8501/system_health"
    assert hook.headers[0]["Content-Type"] == "application/json"

    again = alerts.evaluate(store, settings, state, now=minutes(45))
    assert again.notifications == () and len(hook.received) == 1  # still firing: no repeat

    resolved = alerts.evaluate(store, settings, state, now=minutes(75))
    assert [d.event for d in resolved.notifications] == ["resolved"]
    body = hook.received[1]
    assert body["event"] == "resolved" and "[RESOLVED]" in body["text"]
    assert body["alert"]["state"] == "resolved" and body["alert"]["resolved_at"] is not None
    rows = _rows(world)
    assert [(r["event"], r["status"], r["attempts"], r["http_status"]) for r in rows] == [
        ("firing", "delivered", 1, 200),
        ("resolved", "delivered", 1, 200),
    ]
    assert all(r["url"] == hook.url.split("/services")[0] + "/…" for r in rows)  # no secret
    assert notify.deliveries(state, alert.alert_id)[1].event == "resolved"


def test_a_500_is_retried_until_it_succeeds(world: Path, hook: Hook) -> None:
    hook.plan = [500, 503]
    store, state = open_world(world)
    result = alerts.evaluate(store, _settings(world, hook.url), state, now=minutes(40))
    (delivery,) = result.notifications
    assert (delivery.ok, delivery.attempts, delivery.http_status, delivery.error) == (
        True,
        3,
        200,
        None,
    )
    assert len(hook.received) == 3 and hook.received[0] == hook.received[2]


def test_a_client_error_is_not_retried_and_failures_are_recorded(world: Path, hook: Hook) -> None:
    hook.plan = [404]
    store, state = open_world(world)
    result = alerts.evaluate(store, _settings(world, hook.url), state, now=minutes(40))
    (delivery,) = result.notifications
    assert (delivery.ok, delivery.attempts, delivery.http_status) == (False, 1, 404)
    assert delivery.error is not None and delivery.error.startswith("HTTP 404")
    assert result.alerts[0].state == "firing"  # a failed delivery changes nothing else
    assert [(r["status"], r["error"]) for r in _rows(world)] == [("failed", delivery.error)]


def test_a_timeout_is_retried_then_recorded_as_failed(world: Path, hook: Hook) -> None:
    hook.plan = [("sleep", 1.0), ("sleep", 1.0)]
    store, state = open_world(world)
    settings = _settings(world, hook.url, webhook_timeout_s=0.2, webhook_retries=1)
    started = time.monotonic()
    result = alerts.evaluate(store, settings, state, now=minutes(40))
    assert time.monotonic() - started < 5
    (delivery,) = result.notifications
    assert (delivery.ok, delivery.attempts, delivery.http_status) == (False, 2, None)
    assert delivery.error == "no answer within 0.2 s"
    assert _rows(world)[0]["status"] == "failed"


def test_an_unreachable_webhook_is_not_fatal(world: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store, state = open_world(world)
    settings = _settings(world, f"http://127.0.0.1:{port}/hook", webhook_retries=1)
    result = alerts.evaluate(store, settings, state, now=minutes(40))
    (delivery,) = result.notifications
    assert not delivery.ok and delivery.attempts == 2
    assert delivery.error is not None and delivery.error.startswith("cannot connect")


def test_silenced_alerts_and_no_notify_send_nothing(world: Path, hook: Hook) -> None:
    store, state = open_world(world)
    settings = _settings(world, hook.url)
    quiet = alerts.evaluate(store, settings, state, now=minutes(40), notify=False)
    assert quiet.notifications == () and hook.received == []
    alerts.evaluate(store, settings, state, now=minutes(75), notify=False)  # resolved
    alerts.evaluate(store, settings, state, now=minutes(41), notify=False)  # fires again
    fp = quiet.alerts[0].fingerprint
    alerts.silence(state, fp, until=minutes(100), actor=Actor("ann"), reason="known", now=T0)
    resolved = alerts.evaluate(store, settings, state, now=minutes(75))
    assert resolved.alerts[0].state == "resolved"
    assert resolved.notifications == () and hook.received == []  # silenced: no resolve message
    again = alerts.evaluate(store, settings, state, now=minutes(101))
    assert again.alerts == ()  # fast again at minute 101


def test_the_message_escapes_text_for_slack() -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    alert = make_alert(
        now=now,
        alert_id=7,
        fingerprint="f" * 16,
        rule="r<1>",
        value=1.0,
        threshold=0.5,
        labels={"model": "<script>&"},
        summary="PSI 1 > 0.5 for <script>&, feature <b>",
        page="drift",
    )
    body = notify.message(alert, "firing")
    assert "<script>" not in body["text"] and "&lt;script&gt;&amp;" in body["text"]
    assert "rule r&lt;1&gt;" in body["text"]
    assert body["alert"]["labels"] == {"model": "<script>&"}  # structured fields stay raw
    resolved = notify.message(dataclasses.replace(alert, state="resolved"), "resolved")
    assert resolved["text"].startswith(":white_check_mark: [RESOLVED]")
    assert notify.redact("https://user:pw@hooks.example.org:8443/T/B/x?y=1") == (
        "https://hooks.example.org:8443/…"
    )
