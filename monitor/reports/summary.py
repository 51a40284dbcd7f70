"""The `monitor summary` document: what is wrong now (the findings every view shows, worst
first), and per model traffic, errors, latency, the headline metric against its baseline,
and drift and fairness status in a window."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from monitor.core import catalog
from monitor.core.catalog import Window
from monitor.core.config import Settings
from monitor.core.errors import InputError
from monitor.core.state import STATE_FILE_NAME, StateStore, utc_now
from monitor.core.store import LogStore
from monitor.findings import status as executive
from monitor.findings.evaluate import evaluate
from monitor.findings.model import Finding
from monitor.findings.rules import SEVERITIES, Severity
from monitor.ops.alerts.actions import active_counts


def summarize(
    store: LogStore,
    settings: Settings,
    *,
    model_id: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    state: StateStore | None = None,
) -> dict[str, Any]:
    """A JSON-ready summary. Without --since/--until each model's window is the day
    ending at its newest prediction (old logs still show something). `active_alerts`
    counts, per severity, the model's alerts that need someone now (see
    `monitor.ops.alerts.actions.active_counts`), from `state` or else the data directory's state
    store (all 0 when there is none yet: a summary never creates one). `unmeasured`:
    the rules that could not be measured and why (e.g. a missing reference file); a
    model with no problem but such rules has the status "unknown", not "ok"."""
    models = catalog.inventory(store)
    if model_id is not None:
        models = tuple(m for m in models if m.model_id == model_id)
        if not models:
            raise InputError(f"no predictions logged for model {model_id!r}")
    if since is not None and until is not None and since > until:
        raise InputError("--since is after --until")
    alerts = _active_alerts(settings, state, [m.model_id for m in models])
    found = evaluate(store, settings, until or utc_now(), explicit=until is not None)
    problems = [f for f in found.problems() if model_id is None or f.model_id == model_id]
    unmeasured = found.unmeasured(model_id)
    entries = []
    for model in models:
        end = until or model.last_seen
        start = since or end - catalog.DEFAULT_SPAN
        status = executive.model_status(store, settings, model.model_id, Window(start, end))
        entry = _entry(status, alerts.get(model.model_id, {}))
        worst = next((f.severity for f in problems if f.model_id == model.model_id), None)
        blind = any(u.model_id == model.model_id for u in unmeasured)
        entries.append({**entry, "status": worst or ("unknown" if blind else "ok")})
    invalid = store.invalid_records()
    return {
        "problems": [finding_document(f) for f in problems],
        "unmeasured": [
            {
                "model_id": u.model_id,
                "rules": list(u.rules),
                "reason": u.reason,
                "headline": u.headline,
            }
            for u in unmeasured
        ],
        "models": entries,
        "invalid_records": {
            "total": sum(i.count for i in invalid),
            "files": [
                {
                    "path": str(i.path.relative_to(store.data_dir)),
                    "kind": i.kind,
                    "count": i.count,
                    "unreadable": i.unreadable,
                }
                for i in invalid
            ],
        },
    }


def finding_document(finding: Finding) -> dict[str, Any]:
    """One finding as JSON: the same words and numbers the Overview shows."""
    page, params = finding.link
    return {
        "model_id": finding.model_id,
        "version": finding.version,
        "rule": finding.rule.id,
        "signal": finding.signal,
        "severity": finding.severity,
        "labels": dict(finding.series.labels),
        "value": finding.value,
        "threshold": finding.rule.threshold,
        "comparator": finding.rule.comparator,
        "critical_threshold": finding.rule.critical,
        "headline": f"{finding.subject}: {finding.headline}",
        "summary": finding.summary,
        "window": {"start": finding.window.start.isoformat(), "end": finding.at.isoformat()},
        "page": page,
        "filters": params,
    }


def _active_alerts(
    settings: Settings, state: StateStore | None, model_ids: Iterable[str]
) -> dict[str, Mapping[Severity, int]]:
    own = None
    if state is None:
        if not (settings.data_dir / STATE_FILE_NAME).is_file():
            return {}
        state = own = StateStore.for_data_dir(settings.data_dir)
    try:
        return {m: active_counts(state, model_id=m) for m in model_ids}
    finally:
        if own is not None:
            own.close()


def _entry(status: executive.ModelStatus, alerts: Mapping[Severity, int]) -> dict[str, Any]:
    health, found = status.health, status.headline
    return {
        "model_id": health.model_id,
        "predictions": health.predictions,
        "errors": health.errors,
        "error_rate": health.error_rate,
        "latency_ms": {
            "p50": health.latency.p50,
            "p95": health.latency.p95,
            "p99": health.latency.p99,
        },
        "invalid_records": health.invalid_records,
        "window": {"start": health.window.start.isoformat(), "end": health.window.end.isoformat()},
        found.metric if found is not None else "accuracy": found.value if found else None,
        "estimated": found.estimated if found else None,
        "labeled": found.labeled if found else 0,
        "label_coverage": found.coverage if found else None,
        "baseline": found.baseline if found else None,
        "performance_status": status.performance.state,
        "drift_status": status.drift.state,
        "drift_share": status.drift_share,
        "drift_summary": status.drift.summary,
        "fairness_status": status.fairness.state,
        "active_alerts": {s: alerts.get(s, 0) for s in SEVERITIES},
    }
