"""Real Prometheus and Alertmanager servers for the tests (no tests here).

Debian's `prometheus` and `prometheus-alertmanager` packages (installed by .ci/run) are
started on free 127.0.0.1 ports with temporary data directories, from the configuration
files in deploy/ that the compose setup uses, with only the addresses and intervals
rewritten for the test. A missing binary fails the test: it is never skipped.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.conftest import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"
PROMETHEUS_TARGET = '"exporter:9688"'
"""The scrape target in deploy/prometheus.yml (the compose service)."""
T = TypeVar("T")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_json(url: str, timeout: float = 5.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def wait_for(probe: Callable[[], T | None], what: str, timeout: float = 60.0) -> T:
    """Poll `probe` until it returns something other than None (errors count as None)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = probe()
        except (OSError, urllib.error.URLError, ValueError):
            found = None
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.2)


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def _binary(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"{name} is not installed: .ci/run installs Debian's {package} package "
            f"(apt-get install --no-install-recommends {package})"
        )
    return found


@contextmanager
def _running(command: list[str], url: str, log: Path) -> Iterator[Server]:
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    server = Server(url, process, log)
    try:

        def ready() -> bool | None:
            if process.poll() is not None:
                raise AssertionError(f"{command[0]} exited: {log.read_text()[-2000:]}")
            with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
                return True if response.status == 200 else None

        wait_for(ready, f"{command[0]} to be ready")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def prometheus(folder: Path, target: str) -> Iterator[Server]:
    """Prometheus scraping `target` (host:port) every second, from deploy/prometheus.yml."""
    binary = _binary("prometheus", "prometheus")
    text = (DEPLOY / "prometheus.yml").read_text(encoding="utf-8")
    for old, new in (
        (PROMETHEUS_TARGET, f'"{target}"'),
        ("scrape_interval: 15s", "scrape_interval: 1s"),
        ("scrape_timeout: 10s", "scrape_timeout: 1s"),
    ):
        assert old in text, f"deploy/prometheus.yml no longer has {old!r}"
        text = text.replace(old, new)
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "prometheus.yml"
    config.write_text(text, encoding="utf-8")
    port = free_port()
    command = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={folder / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    with _running(command, f"http://127.0.0.1:{port}", folder / "prometheus.log") as server:
        yield server


@contextmanager
def alertmanager(folder: Path, port: int | None = None) -> Iterator[Server]:
    """Alertmanager with deploy/alertmanager.yml on `port` (default: a free one),
    clustering off."""
    binary = _binary("prometheus-alertmanager", "prometheus-alertmanager")
    folder.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    command = [
        binary,
        f"--config.file={DEPLOY / 'alertmanager.yml'}",
        f"--storage.path={folder / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    with _running(command, f"http://127.0.0.1:{port}", folder / "alertmanager.log") as server:
        yield server


def query(server: Server, promql: str) -> list[dict[str, Any]]:
    """The result vector of an instant query."""
    url = f"{server.url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
    found = get_json(url)
    assert found["status"] == "success", found
    result: list[dict[str, Any]] = found["data"]["result"]
    return result
