"""The report's operational sections: the executive summary (the `monitor summary`
document, as is), system health, and the alerts of the window from the state store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Final

import plotly.graph_objects as go

from monitor.core.catalog import Window
from monitor.core.config import Settings
from monitor.core.scope import Scope
from monitor.core.state import StateStore
from monitor.core.store import LogStore
from monitor.findings.rules_config import rule_threshold
from monitor.findings.text import describe_labels
from monitor.metrics.health.service import TrafficBucket
from monitor.metrics.performance.report import HEADLINE_METRIC
from monitor.ops.alerts.actions import Alert, list_alerts
from monitor.queries import health
from monitor.reporting.model import Chart, Section, Table, cell, plural, version_label
from monitor.ui.charts import health as health_charts
from monitor.ui.charts import traffic as traffic_charts
from monitor.ui.charts.performance import TITLES

SEVERITY_COLORS: Final = {"critical": "#d62728", "warning": "#ff7f0e", "info": "#1f77b4"}


def summary_section(
    summary: Mapping[str, Any], versions: Sequence[str], traffic: Sequence[TrafficBucket]
) -> Section:
    """The verdict, the problems (of the chosen versions and the model as a whole) and the
    model's figures, all read from the summary document; traffic as on the Overview."""
    entry = summary["models"][0]
    problems = [p for p in summary["problems"] if not versions or p["version"] in (None, *versions)]
    headline = next((k for k in HEADLINE_METRIC.values() if k in entry), "accuracy")
    latency = entry["latency_ms"]
    figures = (
        ("predictions", cell(entry["predictions"])),
        ("error rate", cell(entry["error_rate"], "share")),
        ("latency p50 / p95 / p99", " / ".join(cell(latency[p], "ms") for p in latency)),
        (
            TITLES[headline] + (" (estimated)" if entry["estimated"] else ""),
            f"{cell(entry[headline])} (baseline {cell(entry['baseline'])}, "
            f"{cell(entry['labeled'])} labels)",
        ),
        ("performance", entry["performance_status"]),
        ("drift", f"{entry['drift_status']}: {entry['drift_summary']}"),
        ("fairness", entry["fairness_status"]),
        ("invalid log records", cell(entry["invalid_records"])),
        (
            "alerts needing someone",
            ", ".join(f"{n} {s}" for s, n in entry["active_alerts"].items()),
        ),
    )
    rows = tuple((p["severity"], p["headline"], p["rule"]) for p in problems)
    return Section(
        "summary",
        "Executive summary",
        f"Verdict: {entry['status']}, {plural(len(problems), 'problem')}.",
        notes=tuple(f"Not measured: {u['headline']}" for u in summary.get("unmeasured", ()))
        + (("The figures pool all versions of the model.",) if versions else ()),
        charts=(Chart.of("Predictions (bars) and p95 latency (line)", _traffic(traffic)),),
        tables=(
            Table(("severity", "problem", "rule"), rows, "What is wrong now, worst first"),
            Table(("", "value"), figures, "The model in the window"),
        ),
    )


def _traffic(traffic: Sequence[TrafficBucket]) -> go.Figure:
    figure = traffic_charts.traffic_figure(traffic)
    figure.update_layout(height=260)  # the Overview's tile chart sets none
    return figure


def health_section(
    store: LogStore, settings: Settings, scope: Scope, traffic: Sequence[TrafficBucket]
) -> Section:
    """Latency percentiles, throughput and error rate per bucket, traffic gaps, each
    version's share, and the most frequent errors."""
    now = health.model_health(store, scope)
    gaps = health.traffic_gaps(store, scope)
    threshold = rule_threshold(settings, "latency_p95_ms", scope.model_id)
    versions = Table(
        ("version", "traffic share", "predictions", "error rate", "p95"),
        tuple(
            (
                version_label(v.version),
                cell(v.traffic_share, "share"),
                cell(v.predictions),
                cell(v.error_rate, "share"),
                cell(v.latency.p95, "ms"),
            )
            for v in health.version_health(store, scope)
        ),
    )
    errors = Table(
        ("message", "count", "last seen"),
        tuple(
            (e.message, cell(e.count), cell(e.last_seen)) for e in health.top_errors(store, scope)
        ),
        "Most frequent errors",
    )
    gap_rows = tuple((cell(g.start), cell(g.end), cell(round(g.expected))) for g in gaps)
    return Section(
        "health",
        "System health",
        f"{now.predictions:,} predictions, error rate {cell(now.error_rate, 'share')}, latency "
        f"p95 {cell(now.latency.p95, 'ms')}, {plural(len(gaps), 'gap')} in traffic.",
        charts=(
            Chart.of("Latency per bucket", health_charts.latency_figure(traffic, threshold)),
            Chart.of(
                "Throughput and error rate (gaps shaded)",
                health_charts.throughput_figure(traffic, gaps),
            ),
        ),
        tables=(
            versions,
            errors,
            Table(("from", "to", "predictions expected"), gap_rows, "Gaps in traffic"),
        ),
    )


def window_alerts(
    state: StateStore, scope: Scope, now: dt.datetime | None = None
) -> tuple[Alert, ...]:
    """The model's alert episodes that were open at some time in the window (the chosen
    versions' and the model's own): open now, or resolved in or after it."""
    found = list_alerts(state, state_filter="all", model_id=scope.model_id, now=now)
    window, versions = scope.window, scope.versions
    return tuple(
        a
        for a in found
        if _began(a) <= window.end
        and (a.resolved_at is None or a.resolved_at >= window.start)
        and (not versions or a.labels.get("version") in (None, *versions))
    )


def alerts_section(alerts: Sequence[Alert] | None, window: Window) -> Section:
    """The alerts of the window as a table and a timeline (None: no state store yet)."""
    if alerts is None:
        return Section("alerts", "Alerts", "No alerts: `monitor check` never ran on these logs.")
    open_now = sum(a.state != "resolved" for a in alerts)
    rows = tuple(
        (
            str(a.alert_id),
            a.severity,
            a.state,
            a.rule,
            describe_labels(a.labels),
            cell(_began(a)),
            cell(a.resolved_at),
            a.acknowledged_by or "",
            a.summary,
        )
        for a in alerts
    )
    columns = ("id", "severity", "state", "rule", "subject", "since", "resolved", "ack", "summary")
    return Section(
        "alerts",
        "Alerts",
        f"{plural(len(alerts), 'alert')} in the window: {open_now} open, "
        f"{len(alerts) - open_now} resolved.",
        charts=(Chart.of("Alert episodes in the window", alert_timeline(alerts, window)),),
        tables=(Table(columns, rows),),
    )


def alert_timeline(alerts: Sequence[Alert], window: Window) -> go.Figure:
    """One bar per episode from its start to its resolution (or the window's end),
    clipped to the window, coloured by severity."""
    figure = go.Figure()
    for severity, color in SEVERITY_COLORS.items():
        mine = [a for a in alerts if a.severity == severity]
        if not mine:
            continue
        xs: list[dt.datetime | None] = []
        ys: list[str | None] = []
        for alert in mine:
            start = max(_began(alert), window.start)
            end = min(alert.resolved_at or window.end, window.end)
            xs += [start, end, None]
            ys += [f"#{alert.alert_id} {alert.rule}"] * 2 + [None]
        figure.add_scatter(
            x=xs, y=ys, mode="lines", line={"color": color, "width": 10}, name=severity
        )
    figure.update_layout(
        height=max(160, 28 * len(alerts) + 90),
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "y": 1.12},
        xaxis={"range": [window.start, window.end]},
        yaxis={"autorange": "reversed"},
    )
    return figure


def _began(alert: Alert) -> dt.datetime:
    return alert.pending_since or alert.started_at or alert.last_evaluated_at
