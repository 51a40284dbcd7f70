"""Metric names follow Prometheus conventions and docs/operations.md lists every one."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from monitor.core.config import load_settings
from monitor.core.state import StateStore
from monitor.core.store import LogStore
from monitor.exporter.collector import MonitorCollector
from monitor.exporter.families import FAMILIES
from monitor.ops.alerts import actions as alerts
from tests.conftest import REPO_ROOT

NAME = re.compile(r"monitor_[a-z][a-z0-9_]*[a-z0-9]")


def test_every_metric_is_documented_and_well_named(demo_dir: Path, tmp_path: Path) -> None:
    store = LogStore(demo_dir)
    # The state store in tmp_path: the shared demo stays as it is.
    settings = dataclasses.replace(
        load_settings(demo_dir / "monitor.toml", env={}), data_dir=tmp_path
    )
    alerts.evaluate(store, settings, StateStore(tmp_path / "state.sqlite"), notify=False)
    names = {m.name for m in MonitorCollector(store, settings).collect()}
    assert {f.name for f in FAMILIES} <= names
    docs = (REPO_ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    for name in sorted(names):
        assert NAME.fullmatch(name), name
        assert f"`{name}`" in docs, f"docs/operations.md does not list {name}"
    documented = set(re.findall(r"`(monitor_[a-z0-9_]+)`", docs))
    assert documented <= names, documented - names
