"""Alerts pushed to Prometheus Alertmanager's v2 API (`POST <url>/api/v2/alerts`) after
each evaluation, when `[alerts.alertmanager] url` is set.

Alertmanager resolves by itself a firing alert that is not sent again within its
`resolve_timeout`, so every evaluation sends every firing alert (as Prometheus re-sends
its own), and a resolved one once more with `endsAt`, when it resolved. Labels are the
alert's identity: `alertname` (the rule id), the fingerprint's labels (model, version,
feature, group) and `severity`; annotations hold the summary, the alert id and a link to
the dashboard page that explains it, filtered to the model and version (also the
`generatorURL`), when `[alerts] dashboard_url` is set. Silenced alerts are not sent.

One POST carries the batch, with the webhook's timeout, retries and backoff
(`monitor.ops.notify.send`). The delivery log (`notifications`) gets a row per alert
whose delivery is news: a new event, a first delivery, a failure, or the first success
after one; routine re-sends of a firing alert already delivered add nothing. A failed
delivery never raises: the next evaluation sends it again (firing alerts anyway,
resolved ones until delivered), so nothing is lost. See docs/operations.md.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final
from urllib.parse import urlencode

from monitor.core.state import StateStore, to_text, utc_now
from monitor.findings.rules import Webhook
from monitor.ops.alerts.rows import alerts_by_ids
from monitor.ops.alerts.types import Alert
from monitor.ops.notify import Delivery, Event, record, redact, send

ALERTS_PATH: Final = "/api/v2/alerts"
_LAST_SQL: Final = (
    "SELECT alert_id, event, status FROM notifications WHERE id IN"
    " (SELECT max(id) FROM notifications WHERE url = ? GROUP BY alert_id)"
)
"""The newest delivery to one (redacted) URL of each alert."""


def dashboard_link(dashboard_url: str | None, alert: Alert) -> str | None:
    """The dashboard page that explains the alert, filtered to its model and version."""
    if not dashboard_url:
        return None
    params = {k: alert.labels[k] for k in ("model", "version") if alert.labels.get(k)}
    query = f"?{urlencode(params)}" if params else ""
    return f"{dashboard_url}/{alert.page}{query}"


def postable(alert: Alert, dashboard_url: str | None = None) -> dict[str, Any]:
    """One alert in Alertmanager's `postableAlert` form."""
    labels = {"alertname": alert.rule, **{k: v for k, v in alert.labels.items() if v}}
    labels["severity"] = alert.severity
    annotations = {
        "summary": alert.summary,
        "alert_id": str(alert.alert_id),
        "fingerprint": alert.fingerprint,
    }
    body: dict[str, Any] = {"labels": labels, "annotations": annotations}
    if alert.started_at is not None:
        body["startsAt"] = _rfc3339(alert.started_at)
    if alert.state == "resolved" and alert.resolved_at is not None:
        body["endsAt"] = _rfc3339(alert.resolved_at)
    link = dashboard_link(dashboard_url, alert)
    if link is not None:
        annotations["dashboard"] = link
        body["generatorURL"] = link
    return body


def _rfc3339(moment: dt.datetime) -> str:
    return to_text(moment).replace("+00:00", "Z")


def push(
    manager: Webhook,
    state: StateStore,
    alerts: Sequence[Alert],
    events: Iterable[tuple[int, Event]],
    moment: dt.datetime,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Delivery, ...]:
    """Send the firing alerts among `alerts` (this evaluation's), the ones it resolved
    (`events`) and those resolved earlier whose resolution was not delivered yet; record
    what is news (see the module docstring) and return it."""
    url = redact(manager.url)
    last = {int(r["alert_id"]): (r["event"], r["status"]) for r in state.read(_LAST_SQL, (url,))}
    unsent = {i for i, latest in last.items() if latest != ("resolved", "delivered")}
    resend = unsent | {i for i, event in events if event == "resolved"}
    known = {a.alert_id for a in alerts}
    earlier = alerts_by_ids(state, sorted(resend - known), moment)
    chosen = [
        a
        for a in (*alerts, *earlier)
        if a.state == "firing"
        or (a.state == "resolved" and a.started_at is not None and a.alert_id in resend)
    ]
    batch = [a for a in chosen if not a.silenced(moment)]
    if not batch:
        return ()
    body = json.dumps([postable(a, manager.dashboard_url) for a in batch], allow_nan=False).encode()
    attempts, status, error = send(manager, manager.url + ALERTS_PATH, body, sleep=sleep)
    at = utc_now()
    news = [
        Delivery(a.alert_id, _event(a), url, attempts, error is None, status, error, at)
        for a in batch
        if error is not None or last.get(a.alert_id) != (_event(a), "delivered")
    ]
    if news:
        with state.transaction() as tx:
            for delivery in news:
                record(tx, delivery)
    return tuple(news)


def _event(alert: Alert) -> Event:
    return "resolved" if alert.state == "resolved" else "firing"
