"""The dashboard serves /metrics beside itself when monitor.toml has `[exporter] port`."""

from __future__ import annotations

import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from monitor.exporter.server import stop_beside_app
from tests.conftest import REPO_ROOT
from tests.prometheus_support import free_port


@pytest.fixture
def no_exporter() -> Iterator[None]:
    stop_beside_app()
    yield
    stop_beside_app()


def test_app_py_starts_the_exporter_once(
    demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_exporter: None
) -> None:
    data = tmp_path / "demo"
    shutil.copytree(demo_dir, data)
    port = free_port()
    config = data / "monitor.toml"
    config.write_text(config.read_text() + f"\n[exporter]\nport = {port}\n", encoding="utf-8")
    monkeypatch.setenv("MONITOR_CONFIG", str(config))
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception
    at.run()  # a second script run finds it started (a new one would fail: port taken)
    assert not at.exception
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=60) as response:
        text = response.read().decode()
    assert 'monitor_window_predictions{model="credit-risk",version=""}' in text
    assert "monitor_rules_last_evaluated_timestamp_seconds" in text  # the board evaluated
