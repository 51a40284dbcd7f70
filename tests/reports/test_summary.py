"""Overview numbers (count, error rate, latency percentiles, invalid records) against numpy."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from monitor.core import catalog, schema
from monitor.core.buckets import Bucket
from monitor.core.catalog import Window
from monitor.core.config import Settings
from monitor.core.scope import Scope
from monitor.core.store import LogStore
from monitor.queries.health import model_health, traffic
from monitor.reports.summary import summarize
from tests.logwriter import prediction, write_jsonl, write_parquet

START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Row:
    prediction_id: str
    timestamp: dt.datetime
    model_id: str
    model_version: str
    latency_ms: float | None
    status: str


Records = tuple[Path, list[Row]]


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Records:
    """Two models over three days: day 1-2 as Parquet, day 3 as JSONL with 2 invalid lines."""
    data_dir = tmp_path_factory.mktemp("summary")
    rng = np.random.default_rng(3)
    rows = [
        Row(
            prediction_id=f"p{i}",
            timestamp=START + dt.timedelta(seconds=int(rng.integers(0, 3 * 86400))),
            model_id="a" if i % 3 else "b",
            model_version="v1" if i % 2 else "v2",
            latency_ms=None if i % 97 == 0 else float(rng.lognormal(3, 0.5)),
            status="error" if rng.random() < 0.07 else "ok",
        )
        for i in range(3000)
    ]
    for day in range(3):
        date = (START + dt.timedelta(days=day)).date()
        day_rows = [r for r in rows if r.timestamp.date() == date]
        if day < 2:
            columns: dict[str, list[object]] = {
                n: [None] * len(day_rows) for n in schema.PREDICTION_BASE_SCHEMA.names
            }
            for key in ("prediction_id", "timestamp", "model_id", "model_version"):
                columns[key] = [getattr(r, key) for r in day_rows]
            columns["latency_ms"] = [r.latency_ms for r in day_rows]
            columns["status"] = [r.status for r in day_rows]
            table = pa.table(columns, schema=schema.PREDICTION_BASE_SCHEMA)
            write_parquet(data_dir, "predictions", date.isoformat(), "part.parquet", table)
        else:
            lines: list[object] = [
                prediction(
                    r.prediction_id,
                    r.timestamp.isoformat(),
                    model=r.model_id,
                    version=r.model_version,
                    latency_ms=r.latency_ms,
                    status=r.status,
                )
                for r in day_rows
            ]
            lines += ["not json", json.dumps({"model_id": "a", "timestamp": "bad"})]
            write_jsonl(data_dir, "predictions", date.isoformat(), "live.jsonl", lines)
    return data_dir, rows


def _expected(
    rows: list[Row], model: str, window: Window, versions: set[str] | None = None
) -> tuple[int, float, list[float]]:
    chosen = [
        r
        for r in rows
        if r.model_id == model
        and window.start <= r.timestamp <= window.end
        and (versions is None or r.model_version in versions)
    ]
    errors = sum(r.status == "error" for r in chosen)
    latency = np.array([r.latency_ms for r in chosen if r.latency_ms is not None], dtype=float)
    return (
        len(chosen),
        errors / len(chosen),
        [float(p) for p in np.percentile(latency, [50, 95, 99])],
    )


@pytest.mark.parametrize(
    ("model", "start_h", "end_h", "versions"),
    [("a", 0, 72, None), ("b", 10, 50, None), ("a", 30, 70, ("v2",)), ("b", 0, 72, ("v1", "v2"))],
)
def test_model_health_matches_numpy(
    records: Records,
    model: str,
    start_h: int,
    end_h: int,
    versions: tuple[str, ...] | None,
) -> None:
    data_dir, rows = records
    window = Window(START + dt.timedelta(hours=start_h), START + dt.timedelta(hours=end_h))
    health = model_health(LogStore(data_dir), Scope(model, window, versions or ()))
    count, error_rate, percentiles = _expected(
        rows, model, window, set(versions) if versions else None
    )
    assert health.predictions == count
    assert health.error_rate == pytest.approx(error_rate, rel=1e-12)
    got = [health.latency.p50, health.latency.p95, health.latency.p99]
    assert got == pytest.approx(percentiles, rel=1e-9)


def test_invalid_records_attributed_by_model_and_day(
    records: Records,
) -> None:
    data_dir, _ = records
    store = LogStore(data_dir)
    day3 = Window(
        START + dt.timedelta(days=2), START + dt.timedelta(days=3) - dt.timedelta(seconds=1)
    )
    day1 = Window(START, START + dt.timedelta(hours=20))
    # the bad-timestamp line names "a"
    assert model_health(store, Scope("a", day3)).invalid_records == 1
    assert model_health(store, Scope("b", day3)).invalid_records == 0
    assert model_health(store, Scope("a", day1)).invalid_records == 0


def test_traffic_buckets_add_up(records: Records) -> None:
    data_dir, rows = records
    window = Window(START, START + dt.timedelta(days=3))
    buckets = traffic(LogStore(data_dir), Scope("a", window), "hour")
    assert sum(b.predictions for b in buckets) == _expected(rows, "a", window)[0]
    first_hour = [
        r for r in rows if r.model_id == "a" and r.timestamp < START + dt.timedelta(hours=1)
    ]
    assert buckets[0].start == START and buckets[0].predictions == len(first_hour)


def test_summary_default_window_ends_at_latest_prediction(
    records: Records,
) -> None:
    data_dir, rows = records
    document = summarize(LogStore(data_dir), Settings(data_dir=data_dir))
    assert [m["model_id"] for m in document["models"]] == ["a", "b"]
    for entry in document["models"]:
        latest = max(r.timestamp for r in rows if r.model_id == entry["model_id"])
        window = Window(latest - catalog.DEFAULT_SPAN, latest)
        count, error_rate, percentiles = _expected(rows, entry["model_id"], window)
        assert entry["window"] == {"start": window.start.isoformat(), "end": window.end.isoformat()}
        assert entry["predictions"] == count
        assert entry["error_rate"] == pytest.approx(error_rate)
        assert [entry["latency_ms"][k] for k in ("p50", "p95", "p99")] == pytest.approx(percentiles)
    assert document["invalid_records"]["total"] == 2


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_cli_summary_json_is_one_document(records: Records) -> None:
    data_dir, _ = records
    result = _cli(
        "--data-dir",
        str(data_dir),
        "summary",
        "--model",
        "b",
        "--since",
        "2026-11-01",
        "--until",
        "2026-11-02T00:00:00+00:00",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    window = Window(START, START + dt.timedelta(days=1))
    assert (
        document["models"][0]["predictions"]
        == model_health(LogStore(data_dir), Scope("b", window)).predictions
    )


@pytest.mark.parametrize(
    "args",
    [
        ("summary", "--since", "last tuesday", "--json"),
        ("summary", "--model", "no-such-model", "--json"),
        ("summary", "--since", "2026-11-03", "--until", "2026-11-01", "--json"),
        ("frobnicate",),
        ("--config", "/no/such/monitor.toml", "summary"),
        ("compact", "--min-age-minutes", "-5"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(records: Records, args: tuple[str, ...]) -> None:
    data_dir, _ = records
    result = _cli("--data-dir", str(data_dir), *args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("bucket", ["minute", "hour", "day", "week"])
def test_traffic_buckets_match_pandas(records: Records, bucket: Bucket) -> None:
    import pandas as pd

    data_dir, rows = records
    window = Window(START - dt.timedelta(days=7), START + dt.timedelta(days=3))
    got = traffic(LogStore(data_dir), Scope("b", window), bucket)
    frame = pd.DataFrame([r.__dict__ for r in rows if r.model_id == "b"])
    floor = {"minute": "min", "hour": "h", "day": "D", "week": "D"}[bucket]
    starts = frame["timestamp"].dt.floor(floor)
    if bucket == "week":  # back to Monday
        starts = starts - pd.to_timedelta(starts.dt.day_of_week, unit="D")
    grouped = frame.assign(start=starts).groupby("start")
    expected_counts = grouped.size()
    expected_latency = {q: grouped["latency_ms"].quantile(q) for q in (0.5, 0.95, 0.99)}
    assert [b.start for b in got] == [t.to_pydatetime() for t in expected_counts.index]
    assert [b.predictions for b in got] == expected_counts.tolist()
    for q, attribute in ((0.5, "p50"), (0.95, "p95"), (0.99, "p99")):
        expected = [None if pd.isna(v) else v for v in expected_latency[q].tolist()]
        assert [getattr(b.latency, attribute) for b in got] == pytest.approx(expected)
    width = {"minute": 1, "hour": 60, "day": 1440, "week": 10080}[bucket]
    assert [b.per_minute for b in got] == pytest.approx([n / width for n in expected_counts])
    if bucket == "week":
        assert all(b.start.weekday() == 0 for b in got)
