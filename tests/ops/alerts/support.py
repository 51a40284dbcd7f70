"""Builders shared by the alert tests (no tests here): small synthetic log directories
written by hand (tests.logwriter, plain JSON), and settings with explicit alert rules."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from monitor.core.config import Settings, parse_settings
from monitor.core.state import StateStore
from monitor.core.store import LogStore
from monitor.ops.alerts import actions as alerts
from tests.logwriter import write_jsonl

T0 = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
"""A Monday noon: the synthetic series start here."""


def minutes(n: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=n)


def series(
    model: str,
    start: float,
    stop: float,
    *,
    every: float = 1.0,
    prefix: str = "",
    version: str = "v1",
    **fields: Any | Callable[[int, dt.datetime], Any],
) -> list[dict[str, Any]]:
    """One prediction every `every` minutes in [start, stop) minutes after T0. A field
    given as a function is called with (index, timestamp)."""
    records: list[dict[str, Any]] = []
    i = 0
    moment = start
    while moment < stop:
        ts = minutes(moment)
        record: dict[str, Any] = {
            "prediction_id": f"{model}-{prefix}{i}",
            "timestamp": ts.isoformat(),
            "model_id": model,
            "model_version": version,
            "features": {"x": 1.0},
            "prediction": 1,
            "probability": 0.9,
            "latency_ms": 10.0,
            "status": "ok",
        }
        for name, value in fields.items():
            record[name] = value(i, ts) if callable(value) else value
        records.append(record)
        i += 1
        moment += every
    return records


def write_predictions(data_dir: Path, name: str, records: Iterable[dict[str, Any]]) -> None:
    """Write records as JSONL files, one per UTC day (the partition of their timestamps)."""
    by_day: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        moment = dt.datetime.fromisoformat(record["timestamp"]).astimezone(dt.UTC)
        by_day.setdefault(moment.date().isoformat(), []).append(record)
    for day, lines in by_day.items():
        write_jsonl(data_dir, "predictions", day, f"{name}.jsonl", list(lines))


def alert_settings(
    data_dir: Path,
    rules: list[dict[str, Any]],
    *,
    models: list[dict[str, Any]] | None = None,
    **alerts: Any,
) -> Settings:
    """Settings for `data_dir` with only these rules (the defaults off unless asked)."""
    table: dict[str, Any] = {"default_rules": False, "rules": rules}
    table.update(alerts)
    raw: dict[str, Any] = {"data_dir": str(data_dir), "alerts": table}
    if models is not None:
        raw["models"] = models
    return parse_settings(raw, base_dir=data_dir)


def open_world(data_dir: Path) -> tuple[LogStore, StateStore]:
    return LogStore(data_dir), StateStore(data_dir / "state.sqlite")


ALERT_TIME = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


def make_alert(*, now: dt.datetime = ALERT_TIME, **changes: Any) -> alerts.Alert:
    """A firing latency alert stamped `now`, with `changes` applied."""
    base = alerts.Alert(
        alert_id=1,
        fingerprint="f",
        episode=1,
        rule="latency_p95",
        severity="warning",
        state="firing",
        value=612.4,
        threshold=500.0,
        comparator=">",
        labels={"model": "m"},
        summary="",
        page="system_health",
        pending_since=now,
        started_at=now,
        resolved_at=None,
        last_evaluated_at=now,
        acknowledged_by=None,
        acknowledged_verified=False,
        acknowledged_at=None,
        note=None,
        silenced_until=None,
        silence_reason=None,
    )
    return dataclasses.replace(base, **changes)
