"""The Models page's tables as rows of plain values (tested without Streamlit).

Version names, reasons, notes and alert summaries stay plain text: the page shows them
in tables or `st.text`, never as markdown or HTML.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from monitor.core.state import AuditEntry, actor_label
from monitor.ops.registry.compare import Comparison
from monitor.ops.registry.health import VersionCheck
from monitor.ops.registry.rollback_marks import RollbackMark
from monitor.ops.registry.version_metrics import VersionMetrics
from monitor.ops.registry.versions import ModelVersions, VersionNote


def version_name(version: str) -> str:
    return version or "(unversioned)"


def versions_rows(found: ModelVersions) -> list[dict[str, Any]]:
    metric = found.usage.metric
    return [
        {
            "version": version_name(v.version),
            "alias": ", ".join(found.aliases_of(v.version)),
            "current": "yes" if v.version == found.current_version else "",
            "first seen (UTC)": v.first_seen,
            "last seen (UTC)": v.last_seen,
            "predictions (all time)": v.predictions,
            "predictions in window": v.window_predictions,
            "traffic share": v.traffic_share,
            "error rate": v.error_rate,
            "p95 (ms)": v.latency_p95_ms,
            metric: v.metric_value,
            f"{metric} estimated": "estimated" if v.metric_estimated else "",
        }
        for v in found.usage.versions
    ]


def comparison_rows(
    result: Comparison, roles: tuple[str, str] = ("baseline", "candidate")
) -> list[dict[str, Any]]:
    """One row per measure, one column per version (baseline first), named by `roles`."""
    pair: Sequence[VersionMetrics] = (result.baseline, result.candidate)
    columns = [f"{version_name(m.version)} ({role})" for m, role in zip(pair, roles, strict=True)]

    def row(measure: str, show: Callable[[VersionMetrics], str]) -> dict[str, Any]:
        return {"measure": measure} | {c: show(m) for c, m in zip(columns, pair, strict=True)}

    return [
        row(pair[0].metric, _metric_text),
        row("latency p95", lambda m: _or_na(m.latency_p95_ms, "{:,.0f} ms")),
        row("error rate", lambda m: _or_na(m.error_rate, "{:.2%}")),
        row("predictions", lambda m: f"{m.predictions:,}"),
        row("drift", lambda m: f"{m.drift.state}: {m.drift.summary}"),
        row("fairness", lambda m: f"{m.fairness.state}: {m.fairness.summary}"),
        row(
            "window (UTC)",
            lambda m: f"{m.window.start:%Y-%m-%d %H:%M} to {m.window.end:%Y-%m-%d %H:%M}",
        ),
    ]


CHECK_OUTCOME = {"passed": "ok", "failed": "FAILED", "missing": "no data", "note": "note"}


def check_rows(found: VersionCheck) -> list[dict[str, Any]]:
    """A version's own checks, then its other metrics beside their baseline (not checks)."""
    rows = [
        {"check": c.name, "value": c.value, "bound": c.limit, "outcome": CHECK_OUTCOME[c.outcome]}
        for c in found.checks
    ]
    labels = found.metrics.labeled
    return rows + [
        {
            "check": m.name,
            "value": _or_na(m.value, "{:.3f}") + f" ({labels:,} labels)",
            "bound": "baseline " + _or_na(m.baseline, "{:.3f}"),
            "outcome": "not a check",
        }
        for m in found.metrics.measures
    ]


def marks_rows(found: Sequence[RollbackMark]) -> list[dict[str, Any]]:
    return [
        {
            "id": m.id,
            "from": version_name(m.from_version),
            "to": version_name(m.to_version),
            "status": m.status,
            "requested by": actor_label(m.requested_by, m.requested_verified),
            "requested at (UTC)": m.requested_at,
            "reason": m.reason,
            "alerts": ", ".join(f"#{a}" for a in m.alert_ids),
            "closed by": ""
            if m.closed_by is None
            else actor_label(m.closed_by, bool(m.closed_verified)),
            "closed at (UTC)": m.closed_at,
        }
        for m in found
    ]


def notes_rows(found: Sequence[VersionNote]) -> list[dict[str, Any]]:
    return [
        {
            "version": version_name(n.version),
            "note": n.note,
            "by": n.written_by,
            "at (UTC)": n.written_at,
        }
        for n in found
    ]


def history_rows(entries: Sequence[AuditEntry]) -> list[dict[str, Any]]:
    return [
        {
            "at (UTC)": e.at,
            "who": actor_label(e.actor, e.actor_verified),
            "action": e.action,
            "what": f"rollback #{e.entity_id}" if e.entity == "rollback" else e.entity_id,
            "change": change_text(e.before, e.after),
            "note": e.note or "",
        }
        for e in entries
    ]


def change_text(before: Any, after: Any) -> str:
    """An audit entry's change as plain text: `key: old -> new` for what changed."""
    if not isinstance(after, dict):
        return "" if after is None else str(after)
    old = before if isinstance(before, dict) else {}
    parts = []
    for key, value in after.items():
        if key not in old:
            parts.append(f"{key}: {_plain(value)}")
        elif old[key] != value:
            parts.append(f"{key}: {_plain(old[key])} -> {_plain(value)}")
    return ", ".join(parts)


def _plain(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def _metric_text(metrics: VersionMetrics) -> str:
    if metrics.value is None:
        return "n/a"
    kind = "estimated" if metrics.estimated else f"{metrics.labeled:,} labels"
    return f"{metrics.value:.3f} ({kind})"


def _or_na(value: float | None, pattern: str) -> str:
    return "n/a" if value is None else pattern.format(value)
