"""Serving /metrics: `monitor exporter`, or beside the dashboard (`[exporter] port`).

prometheus_client's WSGI server runs in a daemon thread; the collector computes on
scrape (`monitor.exporter.collector`). Beside the dashboard, the first script run of
the Streamlit process starts it and later runs find it started (`serve_beside_app`);
a port already taken or a bad `[exporter]` table is logged once and leaves the
dashboard running.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Final
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.process_collector import ProcessCollector

from monitor.core.config import Settings
from monitor.core.errors import InputError, MonitorError
from monitor.core.store import LogStore
from monitor.exporter.collector import MonitorCollector
from monitor.exporter.config import exporter_options

LOG: Final = logging.getLogger(__name__)


@dataclass(frozen=True)
class Exporter:
    server: WSGIServer
    thread: threading.Thread
    collector: MonitorCollector

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def registry(collector: MonitorCollector) -> CollectorRegistry:
    """The monitor's collector and the process's own metrics (CPU, memory, open files)."""
    found = CollectorRegistry()
    found.register(collector)
    ProcessCollector(registry=found)
    return found


def serve(store: LogStore, settings: Settings, *, host: str, port: int) -> Exporter:
    """Serve /metrics on host:port (0: a free port) in a daemon thread; InputError when
    the address cannot be used."""
    collector = MonitorCollector(store, settings)
    try:
        server, thread = start_http_server(port, host, registry(collector))
    except OSError as exc:
        raise InputError(f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}") from None
    return Exporter(server, thread, collector)


_BESIDE_APP: dict[str, Exporter | None] = {}
_BESIDE_APP_LOCK: Final = threading.Lock()


def serve_beside_app(store: LogStore, settings: Settings) -> Exporter | None:
    """Start the exporter `[exporter]` configures, once per process (None: not
    configured, or it could not start, which is logged once)."""
    with _BESIDE_APP_LOCK:
        if "exporter" in _BESIDE_APP:
            return _BESIDE_APP["exporter"]
        started = None
        try:
            options = exporter_options(settings)
            if options.port is not None:
                started = serve(store, settings, host=options.host, port=options.port)
                LOG.info("serving metrics on http://%s:%d/metrics", options.host, started.port)
        except MonitorError as exc:
            LOG.warning("no metrics served beside the dashboard: %s", exc)
        _BESIDE_APP["exporter"] = started
        return started


def stop_beside_app() -> None:
    """Stop the exporter `serve_beside_app` started and forget it (the next call starts
    one again)."""
    with _BESIDE_APP_LOCK:
        started = _BESIDE_APP.pop("exporter", None)
        if started is not None:
            started.stop()
