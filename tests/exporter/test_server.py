"""Serving /metrics beside the dashboard: once per process, and a failure to start is
logged without stopping the dashboard."""

from __future__ import annotations

import dataclasses
import logging
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.core.config import Settings, load_settings
from monitor.core.store import LogStore
from monitor.exporter.server import serve, serve_beside_app, stop_beside_app
from tests.prometheus_support import free_port


@pytest.fixture
def demo(demo_dir: Path) -> Iterator[tuple[LogStore, Settings]]:
    stop_beside_app()
    yield LogStore(demo_dir), load_settings(demo_dir / "monitor.toml", env={})
    stop_beside_app()


def _metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=60) as response:
        return str(response.read().decode())


def test_started_once_per_process(demo: tuple[LogStore, Settings]) -> None:
    store, settings = demo
    port = free_port()
    configured = dataclasses.replace(settings, exporter={"port": port})
    first = serve_beside_app(store, configured)
    assert first is not None and first.port == port
    again = serve_beside_app(store, dataclasses.replace(settings, exporter={"port": free_port()}))
    assert again is first
    text = _metrics(port)
    assert 'monitor_window_predictions{model="demand-forecast",version=""}' in text
    assert "process_cpu_seconds_total" in text


def test_without_the_table_nothing_is_served(demo: tuple[LogStore, Settings]) -> None:
    store, settings = demo
    assert serve_beside_app(store, settings) is None
    # Decided once per process: a later script run does not start one after all.
    assert serve_beside_app(store, dataclasses.replace(settings, exporter={"port": 1})) is None


@pytest.mark.parametrize("problem", ["taken", "config"])
def test_a_failure_is_logged_and_the_dashboard_goes_on(
    demo: tuple[LogStore, Settings], caplog: pytest.LogCaptureFixture, problem: str
) -> None:
    store, settings = demo
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        table = {"port": port} if problem == "taken" else {"port": "9688"}
        with caplog.at_level(logging.WARNING, logger="monitor.exporter.server"):
            assert serve_beside_app(store, dataclasses.replace(settings, exporter=table)) is None
    (record,) = caplog.records
    expected = (
        f"cannot serve metrics on 127.0.0.1:{port}: Address already in use"
        if problem == "taken"
        else "monitor.toml: exporter.port must be a whole number from 1 to 65535"
    )
    assert record.getMessage() == f"no metrics served beside the dashboard: {expected}"


def test_serve_on_a_free_port_and_stop(demo: tuple[LogStore, Settings]) -> None:
    store, settings = demo
    exporter = serve(store, settings, host="127.0.0.1", port=0)
    try:
        assert "monitor_dataset_drift_ratio" in _metrics(exporter.port)
    finally:
        exporter.stop()
    with pytest.raises(OSError):
        _metrics(exporter.port)
