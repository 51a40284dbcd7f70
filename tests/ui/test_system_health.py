"""The System health page under AppTest, with its numbers checked against the raw demo files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.ui.test_app import APP, assert_no_exception


@pytest.fixture(scope="module")
def latencies(demo_dir: Path) -> pd.DataFrame:
    """timestamp, model_id, latency_ms, status of every valid prediction, read with pyarrow
    and json (not through monitor.core.store)."""
    import json

    import pyarrow.parquet as pq

    frames = []
    for path in sorted((demo_dir / "logs" / "predictions").glob("*/*.parquet")):
        frames.append(
            pq.read_table(
                path, columns=["timestamp", "model_id", "latency_ms", "status"]
            ).to_pandas()
        )
    rows = []
    for path in sorted((demo_dir / "logs" / "predictions").glob("*/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
                stamp = pd.Timestamp(record["timestamp"])
            except (ValueError, KeyError, TypeError):
                continue
            if isinstance(record, dict) and record.get("prediction_id") and record.get("model_id"):
                rows.append(
                    (
                        stamp,
                        record["model_id"],
                        record.get("latency_ms"),
                        record.get("status", "ok"),
                    )
                )
    frames.append(pd.DataFrame(rows, columns=["timestamp", "model_id", "latency_ms", "status"]))
    frame = pd.concat(frames, ignore_index=True)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    result: pd.DataFrame = frame
    return result


def open_page(demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("MONITOR_CONFIG", str(demo_dir / "monitor.toml"))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("pages/system_health.py").run()
    assert_no_exception(at)
    return at


def test_system_health_tiles_match_the_raw_logs(
    demo_dir: Path, latencies: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_page(demo_dir, monkeypatch)
    assert at.title[0].value == "System health"
    model_id = at.sidebar.selectbox(key="filter_model").value
    rows = latencies[latencies.model_id == model_id]
    end = rows.timestamp.max()
    window = rows[(rows.timestamp >= end - pd.Timedelta(days=1)) & (rows.timestamp <= end)]
    values = {m.label: m.value for m in at.metric}
    assert values["Latency p95"] == f"{np.percentile(window.latency_ms.dropna(), 95):,.0f} ms"
    assert values["Error rate"] == f"{(window.status == 'error').mean():.2%}"
    per_minute = len(window) / (dt.timedelta(days=1).total_seconds() / 60)
    assert values["Predictions / min"] == f"{per_minute:,.1f}"
    assert int(values["Traffic gaps"]) == 0  # the demo has no outage


def test_all_data_window_and_host_choice(demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(demo_dir, monkeypatch)
    model_id = at.sidebar.selectbox(key="filter_model").value
    at.sidebar.selectbox(key="filter_window").set_value("All data").run()
    assert_no_exception(at)
    hosts = at.multiselect(key="health_hosts")
    assert hosts.value and all(h.startswith(model_id) for h in hosts.value)
    hosts.set_value(hosts.options[-1:]).run()
    assert_no_exception(at)
    assert at.multiselect(key="health_hosts").value == hosts.options[-1:]


def test_the_page_shows_the_latency_rules_verdict_with_the_raw_p95(
    demo_dir: Path, latencies: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service-health findings on top are the Overview's: the latency rule's own
    window (1 hour to the newest prediction) and threshold (250 ms in the demo)."""
    at = open_page(demo_dir, monkeypatch)
    model_id = at.sidebar.selectbox(key="filter_model").value
    texts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert any(t.startswith("**What the service-health rules find for") for t in texts)
    rows = latencies[(latencies.model_id == model_id)]
    end = rows.timestamp.max()
    hour = rows[(rows.timestamp > end - pd.Timedelta(hours=1)) & (rows.timestamp <= end)]
    p95 = np.percentile(hour.latency_ms.dropna(), 95)
    shown = f"latency_p95: p95 latency {p95:,.0f} ms (threshold > 250 ms)"
    assert any(shown in t.replace("\\", "") for t in texts), (shown, texts)
