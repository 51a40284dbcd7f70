"""`monitor exporter` scraped by a real Prometheus: the series Prometheus stores carry the
numbers `monitor summary --json` prints for the same demo data."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.prometheus_support import free_port, prometheus, query, wait_for

SEVERITIES = ("info", "warning", "critical")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


@pytest.fixture(scope="module")
def demo(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo with its alerts evaluated (the shared demo stays read-only)."""
    copy = tmp_path_factory.mktemp("exporter") / "demo"
    shutil.copytree(demo_dir, copy)
    checked = _cli("--config", str(copy / "monitor.toml"), "check", "--no-notify")
    assert checked.returncode in (0, 1), checked.stderr
    return copy


@pytest.fixture(scope="module")
def exporter(demo: Path) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    port = free_port()
    config = ("--config", str(demo / "monitor.toml"))
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", *config, "exporter", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.strip() == f"serving metrics on http://127.0.0.1:{port}/metrics", line + (
        process.stderr.read() if process.stderr else ""
    )
    yield port, process
    if process.poll() is None:
        process.kill()
        process.wait()


def _series(results: list[dict[str, Any]]) -> dict[tuple[str, ...], float]:
    """(name, model, version, extra label values sorted by name) -> value."""
    found = {}
    for item in results:
        labels = dict(item["metric"])
        name = labels.pop("__name__")
        labels.pop("job", None)
        labels.pop("instance", None)
        key = (name, labels.pop("model", ""), labels.pop("version", ""))
        found[key + tuple(v for _, v in sorted(labels.items()))] = float(item["value"][1])
    return found


def test_prometheus_scrapes_the_values_monitor_summary_prints(
    demo: Path, exporter: tuple[int, subprocess.Popen[str]], tmp_path: Path
) -> None:
    port, _ = exporter
    summary = _cli("--config", str(demo / "monitor.toml"), "summary", "--json")
    assert summary.returncode == 0, summary.stderr
    models = {m["model_id"]: m for m in json.loads(summary.stdout)["models"]}
    assert set(models) == {"credit-risk", "demand-forecast"}
    with prometheus(tmp_path / "prometheus", f"127.0.0.1:{port}") as server:

        def scraped() -> dict[tuple[str, ...], float] | None:
            found = _series(query(server, '{__name__=~"monitor_.+"}'))
            wanted: list[tuple[str, ...]] = [("monitor_window_predictions", m, "") for m in models]
            wanted += [("monitor_alerts_needing_attention", m, "", "critical") for m in models]
            return found if all(key in found for key in wanted) else None

        series = wait_for(scraped, "Prometheus to store the exporter's series")
        up = query(server, 'up{job="model-monitor"}')
    assert [float(r["value"][1]) for r in up] == [1.0]
    for model_id, entry in models.items():
        key = (model_id, "")
        assert series[("monitor_window_predictions", *key)] == entry["predictions"]
        assert series[("monitor_window_errors", *key)] == entry["errors"]
        assert series[("monitor_error_ratio", *key)] == pytest.approx(entry["error_rate"])
        for quantile, name in (("0.5", "p50"), ("0.95", "p95"), ("0.99", "p99")):
            assert series[("monitor_latency_seconds", *key, quantile)] == pytest.approx(
                entry["latency_ms"][name] / 1000
            )
        end = series[("monitor_window_end_timestamp_seconds", *key)]
        assert end == pytest.approx(_timestamp(entry["window"]["end"]), abs=1e-3)
        span = _timestamp(entry["window"]["end"]) - _timestamp(entry["window"]["start"])
        assert series[("monitor_throughput_predictions_per_second", *key)] == pytest.approx(
            entry["predictions"] / span
        )
        assert series[("monitor_dataset_drift_ratio", *key)] == pytest.approx(entry["drift_share"])
        metric = "accuracy" if "accuracy" in entry else "mae"
        headline = ("monitor_performance_headline", *key, metric)
        assert series.get(headline) == (
            None if entry[metric] is None else pytest.approx(entry[metric])
        )
        baseline = series[("monitor_performance_baseline", *key, metric)]
        assert baseline == pytest.approx(entry["baseline"])
        assert series[("monitor_label_coverage_ratio", *key)] == pytest.approx(
            entry["label_coverage"]
        )
        if entry[metric] is not None:
            flag = series[("monitor_performance_headline_estimated", *key)]
            assert flag == float(entry["estimated"])
        for severity in SEVERITIES:
            needing = series[("monitor_alerts_needing_attention", *key, severity)]
            assert needing == entry["active_alerts"][severity]
        versions = {k[2] for k in series if k[:2] == ("monitor_window_predictions", model_id)}
        per_version = sum(
            series[("monitor_window_predictions", model_id, v)] for v in versions - {""}
        )
        assert per_version == entry["predictions"]  # versions split the same window
    assert sum(models["credit-risk"]["active_alerts"].values()) > 0  # the check found problems
    assert series[("monitor_rules_last_evaluated_timestamp_seconds", "", "")] > 0


def _timestamp(text: str) -> float:
    return dt.datetime.fromisoformat(text).timestamp()


def test_sigterm_stops_the_exporter_with_exit_code_0(
    exporter: tuple[int, subprocess.Popen[str]],
) -> None:
    _, process = exporter
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0


@pytest.mark.parametrize(
    ("extra", "config", "message"),
    [
        ((), "", "error: no port: pass --port N or set [exporter] port in monitor.toml"),
        (("--port", "70000"), "", "'70000' is not a port number (0 to 65535)"),
        ((), "[exporter]\nport = 0\n", "exporter.port must be a whole number from 1 to 65535"),
        ((), '[exporter]\nport = 9688\nhots = "x"\n', "unknown key exporter.hots"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, extra: tuple[str, ...], config: str, message: str
) -> None:
    toml = tmp_path / "monitor.toml"
    toml.write_text('data_dir = "."\n' + config, encoding="utf-8")
    result = _cli("--config", str(toml), "exporter", *extra)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_port_in_use_is_reported(tmp_path: Path) -> None:
    toml = tmp_path / "monitor.toml"
    toml.write_text('data_dir = "."\n', encoding="utf-8")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _cli("--config", str(toml), "exporter", "--port", str(port))
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: cannot serve metrics on 127.0.0.1:{port}: ")
    assert "in use" in result.stderr
