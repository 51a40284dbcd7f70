"""Cached aggregates for the System health page, keyed by the page's `Scope` (its data
version makes new log files a new key). Charts use `scope.bucket(finest="minute")`.
Below the caches, the page's tiles and tables as plain values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import streamlit as st

from monitor.core.buckets import Bucket
from monitor.core.scope import Scope
from monitor.core.store import LogStore
from monitor.metrics.health.gaps import TrafficGap
from monitor.metrics.health.resources import Host, HostBucket
from monitor.metrics.health.service import ErrorMessage, ModelHealth, VersionHealth
from monitor.queries import health, resources
from monitor.ui.models_tables import version_name


@st.cache_data(ttl=300, show_spinner=False, max_entries=128)
def version_health(_store: LogStore, scope: Scope) -> tuple[VersionHealth, ...]:
    return health.version_health(_store, scope)


@st.cache_data(ttl=300, show_spinner=False, max_entries=128)
def top_errors(_store: LogStore, scope: Scope) -> tuple[ErrorMessage, ...]:
    return health.top_errors(_store, scope)


@st.cache_data(ttl=300, show_spinner=False, max_entries=128)
def traffic_gaps(_store: LogStore, scope: Scope) -> tuple[TrafficGap, ...]:
    return health.traffic_gaps(_store, scope)


@st.cache_data(ttl=300, show_spinner=False, max_entries=64)
def hosts(_store: LogStore, scope: Scope) -> tuple[Host, ...]:
    """Hosts that reported in the scope's window (system events are not per model)."""
    return resources.hosts(_store, scope.window)


@st.cache_data(ttl=300, show_spinner=False, max_entries=64)
def host_series(
    _store: LogStore, scope: Scope, bucket: Bucket, chosen: tuple[str, ...]
) -> tuple[HostBucket, ...]:
    return resources.host_series(_store, scope.window, bucket, chosen)


# -- the page's tiles and tables, as plain values (no Streamlit) ----------------------------

LATENCIES: Final = ("p50", "p95", "p99")


def change(current: float | None, previous: float | None, scale: float = 1.0) -> float | None:
    """(current - previous) * scale; None when either is unknown."""
    if current is None or previous is None:
        return None
    return (current - previous) * scale + 0.0  # + 0.0 turns -0.0 into 0.0


@dataclass(frozen=True)
class Tile:
    """A KPI tile: its value, and its change as shown. A change that shows as zero is
    steady: no arrow and no colour (a grey "±0 ms", never a red "+0 ms" going up)."""

    value: str
    delta: str | None

    @property
    def steady(self) -> bool:
        return self.delta is not None and self.delta.startswith("±")

    @property
    def delta_color(self) -> Literal["inverse", "off"]:
        """Up is worse for errors and latency."""
        return "off" if self.steady else "inverse"

    @property
    def delta_arrow(self) -> Literal["auto", "off"]:
        return "off" if self.steady else "auto"


def signed_change(shown: str) -> str:
    """`+0.00 pp` and `-0 ms` become `±0.00 pp` and `±0 ms`."""
    digits = shown.lstrip("+-")
    return f"±{digits}" if not any(c in "123456789" for c in digits.split()[0]) else shown


def error_rate_tile(now: ModelHealth, before: ModelHealth) -> Tile:
    """The error rate, and its change in percentage points."""
    diff = change(now.error_rate, before.error_rate, 100)
    return Tile(
        "n/a" if now.error_rate is None else f"{now.error_rate:.2%}",
        None if diff is None else signed_change(f"{diff:+.2f} pp"),
    )


def latency_tile(now: ModelHealth, before: ModelHealth, name: str) -> Tile:
    """A latency (`name` one of LATENCIES) and its change, in whole milliseconds."""
    value: float | None = getattr(now.latency, name)
    diff = change(value, getattr(before.latency, name))
    return Tile(
        "n/a" if value is None else f"{value:,.0f} ms",
        None if diff is None else signed_change(f"{round(diff):+,} ms"),
    )


def gap_rows(gaps: Sequence[TrafficGap]) -> list[dict[str, Any]]:
    return [
        {
            "from (UTC)": g.start,
            "to (UTC)": g.end,
            "minutes": round(g.duration.total_seconds() / 60),
            "predictions expected": round(g.expected),
        }
        for g in gaps
    ]


def error_rows(errors: Sequence[ErrorMessage]) -> list[dict[str, Any]]:
    return [
        {
            "message": e.message,
            "count": e.count,
            "versions": ", ".join(version_name(v) for v in e.versions),
            "last seen (UTC)": e.last_seen,
        }
        for e in errors
    ]


def version_rows(versions: Sequence[VersionHealth]) -> list[dict[str, Any]]:
    return [
        {
            "version": version_name(v.version),
            "traffic share": v.traffic_share,
            "predictions": v.predictions,
            "error rate": v.error_rate,
            "p95 (ms)": v.latency.p95,
        }
        for v in versions
    ]
