"""The `[exporter]` table: defaults, and every problem named by its key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitor.core.config import parse_settings
from monitor.core.errors import ConfigError
from monitor.exporter.config import ExporterOptions, exporter_options


def _options(table: Any, tmp_path: Path) -> ExporterOptions:
    return exporter_options(parse_settings({"exporter": table}, base_dir=tmp_path))


def test_defaults_and_values(tmp_path: Path) -> None:
    assert exporter_options(parse_settings({}, base_dir=tmp_path)) == ExporterOptions(None)
    assert _options({"port": 9688}, tmp_path) == ExporterOptions(9688, "127.0.0.1")
    assert _options({"port": 1, "host": "0.0.0.0"}, tmp_path) == ExporterOptions(1, "0.0.0.0")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"port": 0}, "exporter.port must be a whole number from 1 to 65535"),
        ({"port": 65536}, "exporter.port must be a whole number from 1 to 65535"),
        ({"port": True}, "exporter.port must be a whole number from 1 to 65535"),
        ({"port": "9688"}, "exporter.port must be a whole number from 1 to 65535"),
        ({"port": 9688, "host": ""}, "exporter.host must be a host name or IP address"),
        ({"prot": 9688}, "unknown key exporter.prot (allowed: host, port)"),
        (9688, "exporter must be a table ([exporter])"),
    ],
)
def test_problems_name_the_key(tmp_path: Path, table: Any, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _options(table, tmp_path)
    assert str(raised.value) == f"monitor.toml: {message}"
