"""The collector computes the figures over the logs once per data version and reads the
alerts from the state store on every scrape."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest
from prometheus_client.core import Metric

from monitor.core import catalog
from monitor.core.config import Settings, load_settings
from monitor.core.state import Actor, StateStore
from monitor.core.store import LogStore
from monitor.exporter.collector import MonitorCollector
from monitor.ops.alerts import actions as alerts
from monitor.reports.summary import summarize
from tests.logwriter import prediction, write_jsonl


def _samples(metrics: Sequence[Metric]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for m in metrics for s in m.samples}


def _value(metrics: Sequence[Metric], name: str, **labels: str) -> float:
    return _samples(metrics)[(name, tuple(sorted(labels.items())))]


@pytest.fixture
def demo(demo_dir: Path, tmp_path: Path) -> tuple[Path, LogStore, Settings]:
    data = tmp_path / "demo"
    # Only the logs and config: other tests sharing demo_dir may have left a state store.
    shutil.copytree(demo_dir, data, ignore=shutil.ignore_patterns("state.sqlite*"))
    return data, LogStore(data), load_settings(data / "monitor.toml", env={})


def test_figures_are_computed_once_per_data_version(demo: tuple[Path, LogStore, Settings]) -> None:
    data, store, settings = demo
    collector = MonitorCollector(store, settings)
    first = list(collector.collect())
    again = list(collector.collect())
    assert collector.computations == 1
    assert _samples(first) == _samples(again)
    newest = max(m.last_seen for m in catalog.inventory(store) if m.model_id == "credit-risk")
    later = [
        prediction(f"late-{i}", (newest.replace(microsecond=0)).isoformat(), model="credit-risk")
        for i in range(3)
    ]
    write_jsonl(data, "predictions", newest.date().isoformat(), "late.jsonl", later)
    changed = list(collector.collect())
    assert collector.computations == 2
    (entry,) = [m for m in summarize(store, settings)["models"] if m["model_id"] == "credit-risk"]
    count = _value(changed, "monitor_window_predictions", model="credit-risk", version="")
    assert (
        count
        == entry["predictions"]
        == _value(first, "monitor_window_predictions", model="credit-risk", version="") + 3
    )
    reference = settings.model("credit-risk").reference
    assert reference is not None
    reference.write_bytes(reference.read_bytes())  # the same bytes, a new modification time
    list(collector.collect())
    assert collector.computations == 3


def test_no_state_store_means_no_alert_metrics_and_none_created(
    demo: tuple[Path, LogStore, Settings],
) -> None:
    data, store, settings = demo
    names = {m.name for m in MonitorCollector(store, settings).collect()}
    assert "monitor_window_predictions" in names
    assert not any(n.startswith(("monitor_alerts", "monitor_rules")) for n in names)
    assert not (data / "state.sqlite").exists()


def test_alert_metrics_follow_the_state_store(demo: tuple[Path, LogStore, Settings]) -> None:
    data, store, settings = demo
    collector = MonitorCollector(store, settings)
    state = StateStore(data / "state.sqlite")
    result = alerts.evaluate(store, settings, state, notify=False)
    found = list(collector.collect())
    counts = Counter(
        (a.model_id, a.severity, a.state) for a in result.alerts if a.state != "resolved"
    )
    assert counts  # the demo has open alerts
    for (model, severity, state_name), n in counts.items():
        assert (
            _value(found, "monitor_alerts", model=model or "", severity=severity, state=state_name)
            == n
        )
    with sqlite3.connect(data / "state.sqlite") as con:
        (newest,) = con.execute("SELECT max(at) FROM audit WHERE entity = 'evaluation'").fetchone()
    assert _value(found, "monitor_rules_last_evaluated_timestamp_seconds") == pytest.approx(
        dt.datetime.fromisoformat(newest).timestamp()
    )
    acknowledged = next(a for a in result.alerts if a.state == "firing")
    alerts.acknowledge(state, acknowledged.alert_id, Actor("ops"))
    after = list(collector.collect())
    assert collector.computations == 1  # alerts are read per scrape, the figures are kept
    labels = {"model": acknowledged.model_id or "", "severity": acknowledged.severity}
    before_n = _value(found, "monitor_alerts_needing_attention", **labels)
    assert _value(after, "monitor_alerts_needing_attention", **labels) == before_n - 1
