"""The `[exporter]` table of monitor.toml: where the dashboard's own exporter listens.

    [exporter]
    port = 9688          # serve /metrics beside the dashboard on this port
    host = "127.0.0.1"   # the default; "0.0.0.0" to be scraped from other machines

Without the table the dashboard serves no metrics; `monitor exporter` reads the same
table for its defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from monitor.core.config import DEFAULT_CONFIG_NAME, Settings, _reject_unknown
from monitor.core.errors import ConfigError

DEFAULT_HOST: Final = "127.0.0.1"


@dataclass(frozen=True)
class ExporterOptions:
    port: int | None = None
    """None: not configured (the dashboard serves no metrics)."""
    host: str = DEFAULT_HOST


def exporter_options(settings: Settings) -> ExporterOptions:
    where = settings.source.name if settings.source is not None else DEFAULT_CONFIG_NAME
    raw = settings.exporter
    _reject_unknown(raw, {"port", "host"}, where, "exporter.")
    port = raw.get("port")
    if port is not None and (
        isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535
    ):
        raise ConfigError(f"{where}: exporter.port must be a whole number from 1 to 65535")
    host = raw.get("host", DEFAULT_HOST)
    if not isinstance(host, str) or not host.strip():
        raise ConfigError(f"{where}: exporter.host must be a host name or IP address")
    return ExporterOptions(port, host)
