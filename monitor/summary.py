"""The `monitor summary` document: per model, traffic, errors, latency, the headline metric
against its baseline, and drift and fairness status in a window."""

from __future__ import annotations

import datetime as dt
from typing import Any

from monitor import catalog, executive
from monitor.catalog import Window
from monitor.config import Settings
from monitor.errors import InputError
from monitor.store import LogStore


def summarize(
    store: LogStore,
    settings: Settings,
    *,
    model_id: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> dict[str, Any]:
    """A JSON-ready summary. Without --since/--until each model's window is the day
    ending at its newest prediction (old logs still show something)."""
    models = catalog.inventory(store)
    if model_id is not None:
        models = tuple(m for m in models if m.model_id == model_id)
        if not models:
            raise InputError(f"no predictions logged for model {model_id!r}")
    if since is not None and until is not None and since > until:
        raise InputError("--since is after --until")
    entries = []
    for model in models:
        end = until or model.last_seen
        start = since or end - catalog.DEFAULT_SPAN
        entries.append(
            _entry(executive.model_status(store, settings, model.model_id, Window(start, end)))
        )
    invalid = store.invalid_records()
    return {
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


def _entry(status: executive.ModelStatus) -> dict[str, Any]:
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
        "baseline": found.baseline if found else None,
        "performance_status": status.performance.state,
        "drift_status": status.drift.state,
        "drift_share": status.drift_share,
        "drift_summary": status.drift.summary,
        "fairness_status": status.fairness.state,
        "active_alerts": None,  # alerting is not part of this release yet
    }
