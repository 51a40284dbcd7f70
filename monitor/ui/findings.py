"""The findings every page shows, evaluated once per data version for all sessions.

`board` runs every alert rule (`monitor.findings.evaluate`) and records the run in the
alert state machine, so the Overview is current on a first visit and the Alerts page
agrees with it. The result is cached across sessions and re-evaluated when new log
files arrive, when the configuration changes, or every five minutes (windows move with
the wall clock).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Final

import streamlit as st

from monitor.core.config import Settings
from monitor.core.state import StateStore, utc_now
from monitor.core.store import LogStore
from monitor.findings.evaluate import evaluate as evaluate_findings
from monitor.findings.model import Finding, Findings
from monitor.findings.rules import format_duration
from monitor.ops.alerts import evaluation
from monitor.ops.alerts.actions import Alert
from monitor.ui import alerts as ui_alerts

PAGES: Final[dict[str, str]] = {
    "performance": "pages/performance.py",
    "drift": "pages/drift.py",
    "data_quality": "pages/data_quality.py",
    "fairness": "pages/fairness.py",
    "system_health": "pages/system_health.py",
}
WINDOW_CHOICES: Final[tuple[tuple[dt.timedelta, str], ...]] = (
    (dt.timedelta(days=1), "Last 24 hours"),
    (dt.timedelta(days=7), "Last 7 days"),
    (dt.timedelta(days=30), "Last 30 days"),
)


@dataclass(frozen=True)
class Board:
    findings: Findings
    evaluated_at: dt.datetime
    """Wall-clock time of the evaluation."""
    errors: tuple[str, ...]


def _settings_key(settings: Settings) -> str:
    """Settings are passed unhashed; their text identifies them (rules, thresholds,
    models and attached references all show in it)."""
    return hashlib.sha256(repr(settings).encode()).hexdigest()


@st.cache_data(ttl=300, show_spinner="Checking every rule...", max_entries=8)
def _board(
    _store: LogStore, _settings: Settings, _state: StateStore, data_version: str, key: str
) -> Board:
    moment = utc_now()
    found = evaluate_findings(_store, _settings, moment)
    result = evaluation.evaluate(_store, _settings, _state, now=moment, findings=found)
    return Board(found, result.evaluated_at, result.errors)


def board(store: LogStore, settings: Settings, state: StateStore) -> Board:
    """The current findings of every model (see the module docstring); `store` as the
    page context has it, refreshed for this run."""
    return _board(store, settings, state, store.version, _settings_key(settings))


def open_alerts(state: StateStore) -> dict[str, Alert]:
    """Open alerts (firing, pending, nodata) by fingerprint: since when, acknowledged or
    silenced, as of now (cached until the next audited change)."""
    return {a.fingerprint: a for a in ui_alerts.listed(state, "active")}


def window_choice(finding: Finding) -> str:
    """The sidebar window that shows the finding's own window (at least as long)."""
    for span, label in WINDOW_CHOICES:
        if finding.rule.window <= span:
            return label
    return "All data"


def link_params(finding: Finding) -> dict[str, str]:
    """Query parameters that set the sidebar filters to the finding's model, version
    and window (read by `monitor.ui.context` on the linked page)."""
    _, params = finding.link
    return {**params, "window": window_choice(finding)}


def since_text(alert: Alert | None, finding: Finding) -> str:
    """When the trouble started, in data time, or the window it was measured over."""
    started = None if alert is None else (alert.started_at or alert.pending_since)
    if started is None or started >= finding.at:  # first seen by this very evaluation
        return f"found over the last {format_duration(finding.rule.window)}"
    return f"since {started:%Y-%m-%d %H:%M} UTC"
