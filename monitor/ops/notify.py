"""Webhook notifications: a Slack-compatible JSON POST when an alert fires or resolves.

The body is `{"text": ...}` (what Slack and most chat tools show) plus `event` and the
structured `alert`. Deliveries run outside any database transaction, a few at a time,
each with a timeout and retries with exponential backoff on connection errors,
timeouts, HTTP 429 and 5xx. A failed delivery is returned (and recorded by the caller)
with its error; it never raises.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import urlsplit

from monitor.core.state import StateStore, to_text, utc_now
from monitor.findings.rules import Webhook

if TYPE_CHECKING:
    from monitor.ops.alerts.types import Alert

Event = Literal["firing", "resolved"]
MAX_PARALLEL: Final = 4
USER_AGENT: Final = "model-monitor-alerts/1"


@dataclass(frozen=True)
class Delivery:
    alert_id: int
    event: Event
    url: str
    """Scheme and host only: paths and queries of webhook URLs often hold a secret."""
    attempts: int
    ok: bool
    http_status: int | None
    error: str | None
    at: dt.datetime


def redact(url: str) -> str:
    """scheme://host[:port]/… without credentials, path or query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/…"


def _slack_escape(text: str) -> str:
    """Slack reads <...> as links and &, <, > as entities: escape them in our text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def message(alert: Alert, event: Event, dashboard_url: str | None = None) -> dict[str, Any]:
    """The JSON body for one alert event."""
    icon = {"critical": ":red_circle:", "warning": ":large_orange_circle:"}.get(
        alert.severity, ":large_blue_circle:"
    )
    if event == "resolved":
        icon = ":white_check_mark:"
    text = f"{icon} [{event.upper()}] {alert.severity}: {_slack_escape(alert.summary)}"
    text += f" (alert {alert.alert_id}, rule {_slack_escape(alert.rule)})"
    link = f"{dashboard_url}/{alert.page}" if dashboard_url else None
    if link:
        text += f" <{link}|open {alert.page.replace('_', ' ')}>"
    return {
        "text": text,
        "event": event,
        "alert": {
            "alert_id": alert.alert_id,
            "fingerprint": alert.fingerprint,
            "episode": alert.episode,
            "rule": alert.rule,
            "severity": alert.severity,
            "state": alert.state,
            "value": alert.value,
            "threshold": alert.threshold,
            "comparator": alert.comparator,
            "labels": dict(alert.labels),
            "summary": alert.summary,
            "started_at": _time(alert.started_at),
            "resolved_at": _time(alert.resolved_at),
            "page": alert.page,
            "url": link,
        },
    }


def _time(moment: dt.datetime | None) -> str | None:
    return None if moment is None else to_text(moment)


def deliver(
    webhook: Webhook,
    alert: Alert,
    event: Event,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """POST one event, retrying as configured; never raises."""
    body = json.dumps(message(alert, event, webhook.dashboard_url), allow_nan=False).encode()
    attempts, status, error = send(webhook, webhook.url, body, sleep=sleep)
    return Delivery(
        alert.alert_id,
        event,
        redact(webhook.url),
        attempts,
        error is None,
        status,
        error,
        utc_now(),
    )


def send(
    endpoint: Webhook, url: str, body: bytes, *, sleep: Callable[[float], None] = time.sleep
) -> tuple[int, int | None, str | None]:
    """POST a JSON `body` to `url` with the endpoint's timeout, retrying as it says (on
    connection errors, timeouts, HTTP 429 and 5xx): (attempts, last HTTP status, error or
    None when delivered). Never raises."""
    attempts = 0
    status: int | None = None
    error: str | None = None
    for attempt in range(endpoint.retries + 1):
        if attempt:
            sleep(endpoint.backoff_s * 2 ** (attempt - 1))
        attempts += 1
        status, error, retry = _post(url, endpoint.timeout_s, body)
        if error is None or not retry:
            break
    return attempts, status, error


def _post(url: str, timeout_s: float, body: bytes) -> tuple[int | None, str | None, bool]:
    """(HTTP status, error or None, whether a retry may help)."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            response.read(65_536)
            return int(response.status), None, False
    except urllib.error.HTTPError as exc:
        retry = exc.code == 429 or exc.code >= 500
        return exc.code, f"HTTP {exc.code} {exc.reason}", retry
    except TimeoutError:
        return None, f"no answer within {timeout_s:g} s", True
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            return None, f"no answer within {timeout_s:g} s", True
        return None, f"cannot connect: {reason}", True
    except (OSError, ValueError) as exc:
        return None, f"cannot send: {exc}", True


def deliver_all(
    webhook: Webhook,
    events: Sequence[tuple[Alert, Event]],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Delivery, ...]:
    """Deliver events a few at a time (a slow endpoint does not serialise every retry)."""
    if not events:
        return ()
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(events))) as pool:
        return tuple(pool.map(lambda item: deliver(webhook, *item, sleep=sleep), events))


def record(tx: sqlite3.Connection, delivery: Delivery) -> None:
    """Keep one delivery's outcome (inside the caller's transaction)."""
    tx.execute(
        "INSERT INTO notifications (alert_id, event, url, attempts, status, http_status, error, at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            delivery.alert_id,
            delivery.event,
            delivery.url,
            delivery.attempts,
            "delivered" if delivery.ok else "failed",
            delivery.http_status,
            delivery.error,
            to_text(delivery.at),
        ),
    )


def deliveries(state: StateStore, alert_id: int) -> tuple[Delivery, ...]:
    """The webhook deliveries of one alert, oldest first."""
    rows = state.read("SELECT * FROM notifications WHERE alert_id = ? ORDER BY id", (alert_id,))
    return tuple(
        Delivery(
            int(r["alert_id"]),
            r["event"],
            r["url"],
            int(r["attempts"]),
            r["status"] == "delivered",
            r["http_status"],
            r["error"],
            dt.datetime.fromisoformat(r["at"]),
        )
        for r in rows
    )
