"""System health: per-version health, top errors, traffic gaps and host resources,
checked against pandas/numpy on the same records."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from monitor.core.catalog import Window
from monitor.core.scope import Scope
from monitor.core.store import LogStore
from monitor.queries.health import top_errors, traffic_gaps, version_health
from monitor.queries.resources import host_series, hosts
from tests.logwriter import prediction, write_jsonl

START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
MESSAGES = ("timeout calling feature store", "model not loaded", "<b>bad input</b>")


def _write_predictions(data_dir: Path, records: list[dict[str, object]]) -> None:
    by_day: dict[str, list[object]] = {}
    for record in records:
        by_day.setdefault(str(record["timestamp"])[:10], []).append(record)
    for day, lines in by_day.items():
        write_jsonl(data_dir, "predictions", day, "p.jsonl", lines)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    data_dir = tmp_path_factory.mktemp("health")
    rng = np.random.default_rng(11)
    records = []
    for i in range(4000):
        error = rng.random() < 0.05
        records.append(
            prediction(
                f"p{i}",
                (START + dt.timedelta(seconds=int(rng.integers(0, 2 * 86400)))).isoformat(),
                version=str(rng.choice(["v1", "v2", "v3"], p=[0.5, 0.4, 0.1])),
                latency_ms=float(rng.gamma(2.0, 20.0)),
                status="error" if error else "ok",
                error=str(rng.choice(MESSAGES, p=[0.6, 0.3, 0.1])) if error else None,
            )
        )
    _write_predictions(data_dir, records)
    frame = pd.DataFrame(records)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    return data_dir, frame


def test_version_health_matches_pandas(served: tuple[Path, pd.DataFrame]) -> None:
    data_dir, frame = served
    window = Window(START + dt.timedelta(hours=6), START + dt.timedelta(hours=40))
    chosen = frame[(frame.timestamp >= window.start) & (frame.timestamp <= window.end)]
    got = {v.version: v for v in version_health(LogStore(data_dir), Scope("m", window))}
    assert set(got) == {"v1", "v2", "v3"}
    for version, group in chosen.groupby("model_version"):
        health = got[str(version)]
        assert health.predictions == len(group)
        assert health.errors == int((group.status == "error").sum())
        assert health.traffic_share == pytest.approx(len(group) / len(chosen))
        expected = np.percentile(group.latency_ms, [50, 95, 99])
        assert [health.latency.p50, health.latency.p95, health.latency.p99] == pytest.approx(
            expected
        )
        assert health.first_seen == group.timestamp.min().to_pydatetime()


def test_top_errors_match_a_counter(served: tuple[Path, pd.DataFrame]) -> None:
    data_dir, frame = served
    window = Window(START, START + dt.timedelta(days=2))
    expected = Counter(frame.loc[frame.status == "error", "error"])
    got = top_errors(LogStore(data_dir), Scope("m", window), limit=2)
    assert [(e.message, e.count) for e in got] == expected.most_common(2)
    only_v3 = top_errors(LogStore(data_dir), Scope("m", window, ("v3",)))
    v3 = frame[(frame.status == "error") & (frame.model_version == "v3")]
    assert sum(e.count for e in only_v3) == len(v3)
    assert all(e.versions == ("v3",) for e in only_v3)


def test_a_midday_outage_is_a_gap_and_quiet_nights_are_not(tmp_path: Path) -> None:
    """Daytime: 20 predictions a minute; nights: one every ~40 minutes. Outage 12:00-12:30
    on the second day."""
    rng = np.random.default_rng(5)
    records: list[dict[str, object]] = []
    outage = (
        START + dt.timedelta(days=1, hours=12),
        START + dt.timedelta(days=1, hours=12, minutes=30),
    )
    for minute in range(3 * 1440):
        moment = START + dt.timedelta(minutes=minute)
        rate = 20.0 if 8 <= moment.hour < 20 else 1 / 40
        for _ in range(rng.poisson(rate)):
            stamp = moment + dt.timedelta(seconds=int(rng.integers(0, 60)))
            if not outage[0] <= stamp < outage[1]:
                records.append(prediction(f"p{len(records)}", stamp.isoformat()))
    _write_predictions(tmp_path, records)
    window = Window(START + dt.timedelta(days=1), START + dt.timedelta(days=2))
    gaps = traffic_gaps(LogStore(tmp_path), Scope("m", window))
    assert [(g.start, g.end) for g in gaps] == [outage]
    assert gaps[0].duration == dt.timedelta(minutes=30)
    # the usual rate for 12:xx is about 20 a minute, lowered by the outage: ~500 expected
    assert 450 < gaps[0].expected < 560


def test_host_resources_match_pandas(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    events = []
    for i in range(600):
        events.append(
            {
                "timestamp": (START + dt.timedelta(minutes=5 * (i // 2))).isoformat(),
                "host": "a" if i % 2 else "b",
                "cpu_percent": float(rng.uniform(0, 100)),
                "memory_mb": float(rng.normal(900, 50)),
                "queue_depth": int(rng.poisson(3)),
            }
        )
    write_jsonl(tmp_path, "system", "2026-11-01", "s.jsonl", events)
    store = LogStore(tmp_path)
    window = Window(START, START + dt.timedelta(days=1))
    assert [(h.host, h.samples) for h in hosts(store, window)] == [
        ("a", 289),
        ("b", 289),
    ]  # both ends inclusive
    got = host_series(store, window, "hour", ["a"])
    frame = pd.DataFrame(events)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    frame = frame[(frame.host == "a") & (frame.timestamp <= window.end)]
    grouped = frame.groupby(frame.timestamp.dt.floor("h"))
    assert [b.start for b in got] == [t.to_pydatetime() for t in grouped.size().index]
    assert [b.cpu_mean for b in got] == pytest.approx(grouped.cpu_percent.mean().tolist())
    assert [b.memory_max for b in got] == pytest.approx(grouped.memory_mb.max().tolist())
    assert [b.queue_max for b in got] == pytest.approx(grouped.queue_depth.max().tolist())


def test_demo_latency_spike_and_error_burst_are_found_on_their_hours(demo_dir: Path) -> None:
    """The hours with the highest p95 / error rate over all demo data are the injected ones."""
    import json

    from monitor.core import catalog
    from monitor.metrics.health.service import TrafficBucket
    from monitor.queries.health import traffic

    problems = json.loads((demo_dir / "demo_manifest.json").read_text())["problems"]
    store = LogStore(demo_dir)
    models = {m.model_id: m for m in catalog.inventory(store)}

    def p95(bucket: TrafficBucket) -> float:
        return bucket.latency.p95 or 0.0

    def error_rate(bucket: TrafficBucket) -> float:
        return bucket.error_rate or 0.0

    for name, worst in (("latency_spike", p95), ("error_burst", error_rate)):
        problem = next(p for p in problems if p["name"] == name)
        model = models[problem["model_id"]]
        buckets = traffic(
            store, Scope(model.model_id, Window(model.first_seen, model.last_seen)), "hour"
        )
        start = dt.datetime.fromisoformat(problem["start"])
        end = dt.datetime.fromisoformat(problem["end"])
        inside = [b for b in buckets if start <= b.start < end]
        outside = [b for b in buckets if not start <= b.start < end and b.predictions >= 20]
        assert inside, name
        assert min(worst(b) for b in inside) > 2 * max(worst(b) for b in outside), name
