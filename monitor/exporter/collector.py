"""The Prometheus collector: computes on scrape, and only when the data changed.

The figures over the logs (`monitor.exporter.figures`, `families`) are computed once per
version of the log store and of the models' reference files and kept, so a scrape
between two changes only lists the log files and reads the alert counts from the state
store (a few milliseconds; measured in docs/operations.md). The alerts come from the
state store each scrape: the open alerts per model, severity and state, those needing
someone (`monitor summary`'s `active_alerts`) and when the rules were last evaluated.
The exporter never creates a state store and never evaluates the rules: `monitor check`
and the dashboard do.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Final

from prometheus_client.core import GaugeMetricFamily

from monitor.core import catalog
from monitor.core.config import Settings
from monitor.core.scope import reference_stamp
from monitor.core.state import STATE_FILE_NAME, StateStore
from monitor.core.store import LogStore
from monitor.exporter.families import families
from monitor.exporter.figures import ScopeFigures, model_figures
from monitor.findings.rules import SEVERITIES
from monitor.ops.alerts.actions import active_counts, last_evaluation, list_alerts

LOG: Final = logging.getLogger(__name__)
OPEN_STATES: Final = ("firing", "pending", "nodata")

Metrics = list[GaugeMetricFamily]


class MonitorCollector:
    """Collects the monitor's metrics for one log store and configuration."""

    def __init__(self, store: LogStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._lock = threading.Lock()
        self._key: str | None = None
        self._cached: Metrics = []
        self._seconds = 0.0
        self._failures = 0
        self.computations = 0
        """How many times the figures were computed (once per data version)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            self.store.refresh()
            key = self._data_key()
            if key != self._key:
                started = time.perf_counter()
                self._cached = self._compute()
                self._seconds = time.perf_counter() - started
                self._key = key
                self.computations += 1
            yield from self._cached
            yield GaugeMetricFamily(
                "monitor_exporter_compute_seconds",
                "How long the last computation of the figures over the logs took.",
                value=self._seconds,
            )
            yield GaugeMetricFamily(
                "monitor_exporter_failed_models",
                "Models whose figures could not be computed at the last computation.",
                value=self._failures,
            )
        yield from self._alerts()

    def _data_key(self) -> str:
        """Changes when a log file or a model's reference file changes."""
        stamps = [reference_stamp(m.reference) for m in self.settings.models]
        return f"{self.store.version}|{stamps!r}"

    def _compute(self) -> Metrics:
        found: list[ScopeFigures] = []
        self._failures = 0
        for info in catalog.inventory(self.store):
            try:
                found += model_figures(self.store, self.settings, info)
            except Exception as exc:  # one model's failure must not empty the scrape
                self._failures += 1
                LOG.warning("exporter: no figures for model %r: %s", info.model_id, exc)
        return families(found)

    def _alerts(self) -> Iterator[GaugeMetricFamily]:
        path = self.settings.data_dir / STATE_FILE_NAME
        if not path.is_file():  # never create a state store
            return
        state = StateStore(path)
        open_alerts = GaugeMetricFamily(
            "monitor_alerts",
            "Open alerts per model, severity and state (firing, pending, nodata).",
            labels=("model", "severity", "state"),
        )
        counts: dict[tuple[str, str, str], int] = {}
        for alert in list_alerts(state, state_filter="active", limit=100_000):
            key = (alert.model_id or "", alert.severity, alert.state)
            counts[key] = counts.get(key, 0) + 1
        models = sorted(
            {m for m, _, _ in counts} | {m.model_id for m in catalog.inventory(self.store)}
        )
        for model in models:
            for severity in SEVERITIES:
                for state_name in OPEN_STATES:
                    value = counts.get((model, severity, state_name), 0)
                    open_alerts.add_metric((model, severity, state_name), value)
        yield open_alerts
        attention = GaugeMetricFamily(
            "monitor_alerts_needing_attention",
            "Open alerts neither acknowledged nor silenced, per model and severity "
            "(monitor summary's active_alerts).",
            labels=("model", "severity"),
        )
        for model in models:
            for severity, n in active_counts(state, model_id=model).items():
                attention.add_metric((model, severity), n)
        yield attention
        evaluated = last_evaluation(state)
        if evaluated is not None:
            yield GaugeMetricFamily(
                "monitor_rules_last_evaluated_timestamp_seconds",
                "When the alert rules were last evaluated (monitor check, the dashboard), "
                "Unix time.",
                value=evaluated.timestamp(),
            )
