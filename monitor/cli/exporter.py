"""`monitor exporter`: serve the monitor's figures on /metrics for Prometheus.

Runs until interrupted (Ctrl-C or SIGTERM ends it with exit code 0). The port and host
default to `[exporter]` in monitor.toml; see docs/operations.md for the metrics.
"""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType

from monitor.cli.common import EXIT_OK, settings

NAME = "exporter"
HELP = "serve per-model metrics (drift, performance, latency, alerts) for Prometheus on /metrics"


def port_number(text: str) -> int:
    """An argparse type: a TCP port (0: any free port)."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return port


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port", type=port_number, help="port to listen on (default: [exporter] port)"
    )
    parser.add_argument("--host", help="address to listen on (default: [exporter] host, 127.0.0.1)")


def run(args: argparse.Namespace) -> int:
    from monitor.core.errors import InputError
    from monitor.core.store import LogStore
    from monitor.exporter.config import exporter_options
    from monitor.exporter.server import serve

    config = settings(args)
    options = exporter_options(config)
    port = args.port if args.port is not None else options.port
    if port is None:
        raise InputError("no port: pass --port N or set [exporter] port in monitor.toml")
    host = args.host or options.host
    stop = threading.Event()

    def finish(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, finish)
    store = LogStore(config.data_dir)
    try:
        exporter = serve(store, config, host=host, port=port)
        print(f"serving metrics on http://{host}:{exporter.port}/metrics", flush=True)
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            exporter.stop()
    finally:
        store.close()
    return EXIT_OK
