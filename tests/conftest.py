"""Fixtures shared by every test folder (keep this small)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

DEMO_DAYS = 14
DEMO_PREDICTIONS = 40_000


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo data directory, generated once per test session (smaller than the real demo).

    Holds the logs and a `monitor.toml` with `data_dir = "."`; point `MONITOR_CONFIG` at
    `demo_dir / "monitor.toml"`. Treat it as read-only: other tests share it.
    """
    from monitor.demo import generate_demo

    path = tmp_path_factory.mktemp("demo")
    generate_demo(path, days=DEMO_DAYS, predictions=DEMO_PREDICTIONS)
    assert (path / "monitor.toml").is_file(), "generate_demo did not write monitor.toml"
    return path
