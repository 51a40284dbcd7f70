"""The Overview's "Download report": the shareable HTML report of the sidebar's scope
(`monitor.reporting`, the same document `monitor report` writes), built when the button
is clicked, not on every run of the page."""

from __future__ import annotations

import re

import streamlit as st

from monitor.core.config import Settings
from monitor.core.scope import Scope
from monitor.core.state import StateStore
from monitor.core.store import LogStore
from monitor.reporting.build import build_report
from monitor.reporting.html import render


def report_bytes(store: LogStore, settings: Settings, state: StateStore, scope: Scope) -> bytes:
    """The report of the scope's model, window and versions, as UTF-8 HTML."""
    report = build_report(
        store,
        settings,
        model_id=scope.model_id,
        since=scope.window.start,
        until=scope.window.end,
        versions=scope.versions,
        state=state,
    )
    return render(report).encode("utf-8")


def file_name(scope: Scope) -> str:
    """`report-credit-risk-20261120-2359.html`: the model id with only safe characters."""
    model = re.sub(r"[^A-Za-z0-9._-]+", "_", scope.model_id).strip("._") or "model"
    return f"report-{model}-{scope.window.end:%Y%m%d-%H%M}.html"


def download_button(store: LogStore, settings: Settings, state: StateStore, scope: Scope) -> None:
    """The button; the report is built in the download's own thread when clicked."""
    st.download_button(
        "Download report",
        data=lambda: report_bytes(store, settings, state, scope),
        file_name=file_name(scope),
        mime="text/html",
        on_click="ignore",
        icon=":material/download:",
        help=(
            "One HTML file to share or print: the executive summary, performance, drift, "
            "data quality, fairness, system health and the alerts of the sidebar's model, "
            "versions and window. Opens offline."
        ),
    )
