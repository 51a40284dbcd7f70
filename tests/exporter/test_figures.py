"""The exporter's figures against independent computations on real data: missing shares
and a KS statistic read from the demo's raw JSONL files with json, pandas and scipy; the
fairness ratio of COMPAS (logged as predictions) with fairlearn; feature labels bounded
by the configuration."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from fairlearn.metrics import MetricFrame, selection_rate
from scipy import stats

from monitor.core import catalog
from monitor.core.config import load_settings, parse_settings
from monitor.core.store import LogStore
from monitor.exporter.figures import ScopeFigures, configured_features, model_figures
from tests.conftest import REPO_ROOT
from tests.logwriter import prediction, write_jsonl

COMPAS = REPO_ROOT / "tests" / "data" / "compas_for_aequitas.csv"
MIN_GROUP, MIN_CLASS = 50, 10
"""The fairness audit's defaults for a group to be judged."""


def _figures(data_dir: Path, settings: Any, model_id: str) -> tuple[ScopeFigures, ...]:
    store = LogStore(data_dir)
    (info,) = [m for m in catalog.inventory(store) if m.model_id == model_id]
    return model_figures(store, settings, info)


def _window_records(
    data_dir: Path, model_id: str, start: dt.datetime, end: dt.datetime
) -> list[dict[str, Any]]:
    """Valid prediction records of the model in [start, end], read from the JSONL files."""
    found = []
    for path in sorted((data_dir / "logs" / "predictions").glob("date=*/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
                moment = dt.datetime.fromisoformat(record["timestamp"])
            except (ValueError, KeyError, TypeError):
                continue
            if not isinstance(record, dict) or record.get("model_id") != model_id:
                continue
            if isinstance(record.get("prediction_id"), str) and start <= moment <= end:
                found.append(record)
    return found


@pytest.fixture(scope="module")
def demo(demo_dir: Path) -> dict[str, tuple[ScopeFigures, ...]]:
    settings = load_settings(demo_dir / "monitor.toml", env={})
    return {m: _figures(demo_dir, settings, m) for m in ("credit-risk", "demand-forecast")}


def test_the_window_is_jsonl_only(
    demo_dir: Path, demo: dict[str, tuple[ScopeFigures, ...]]
) -> None:
    """The raw reading below covers every file of the windows."""
    parquet = [p.parent.name for p in (demo_dir / "logs" / "predictions").glob("date=*/*.parquet")]
    assert parquet and all(f"date={f[0].window.start.date()}" > max(parquet) for f in demo.values())


def test_missing_shares_match_the_raw_records(
    demo_dir: Path, demo: dict[str, tuple[ScopeFigures, ...]]
) -> None:
    for model_id, scopes in demo.items():
        everything = scopes[0]
        records = _window_records(
            demo_dir, model_id, everything.window.start, everything.window.end
        )
        assert len(records) == everything.status.health.predictions
        frame = pd.DataFrame([r.get("features", {}) for r in records])
        expected = {name: float(frame[name].isna().mean()) for name in frame.columns}
        named = configured_features(
            load_settings(demo_dir / "monitor.toml", env={}).model(model_id)
        )
        assert set(everything.missing) == named & set(expected)
        for name, share in everything.missing.items():
            assert share == pytest.approx(expected[name], abs=1e-12), name
    assert demo["credit-risk"][0].missing["credit_score"] > 0  # the demo drops some scores


def test_a_ks_score_matches_scipy(
    demo_dir: Path, demo: dict[str, tuple[ScopeFigures, ...]]
) -> None:
    everything = demo["demand-forecast"][0]
    (temperature,) = [d for d in everything.drift if d.feature == "temperature"]
    assert temperature.method == "ks"
    reference = pq.read_table(demo_dir / "reference" / "demand-forecast.parquet").to_pandas()
    records = _window_records(
        demo_dir, "demand-forecast", everything.window.start, everything.window.end
    )
    current = [
        r["features"]["temperature"]
        for r in records
        if r["features"].get("temperature") is not None
    ]
    expected = stats.ks_2samp(reference["temperature"].dropna(), current).statistic
    assert temperature.score == pytest.approx(expected, rel=1e-12)


def test_versions_split_the_window(demo: dict[str, tuple[ScopeFigures, ...]]) -> None:
    for scopes in demo.values():
        everything, *versions = scopes
        assert everything.version is None and versions
        assert (
            sum(v.status.health.predictions for v in versions)
            == everything.status.health.predictions
        )
        assert all(v.window == everything.window for v in versions)


def test_feature_labels_are_the_configured_features_only(tmp_path: Path) -> None:
    """A feature the config does not name never becomes a label value."""
    moment = dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC)
    lines = [
        prediction(
            f"p{i}",
            (moment + dt.timedelta(minutes=i)).isoformat(),
            features={"x": None if i % 4 == 0 else 1.0, f"user-{i}": 1.0},
        )
        for i in range(40)
    ]
    write_jsonl(tmp_path, "predictions", "2026-03-02", "p.jsonl", lines)
    settings = parse_settings(
        {"models": [{"id": "m", "feature_ranges": {"x": [0.0, 2.0]}}]}, base_dir=tmp_path
    )
    (everything, version) = _figures(tmp_path, settings, "m")
    assert everything.missing == version.missing == {"x": 0.25}


def test_the_fairness_ratio_of_compas_matches_fairlearn(tmp_path: Path) -> None:
    compas = pd.read_csv(COMPAS)
    start = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    lines = [
        prediction(
            f"c{row['entity_id']}",
            (start + dt.timedelta(seconds=i * 10)).isoformat(),
            model="compas",
            features={"race": row["race"], "sex": row["sex"]},
            prediction=int(row["score"]),
            probability=float(row["score"]),
            label=int(row["label_value"]),
        )
        for i, row in enumerate(compas.to_dict("records"))
    ]
    write_jsonl(tmp_path, "predictions", "2026-03-02", "c.jsonl", lines)
    settings = parse_settings(
        {"models": [{"id": "compas", "sensitive_features": ["race", "sex"]}]}, base_dir=tmp_path
    )
    everything, v1 = _figures(tmp_path, settings, "compas")
    for feature in ("race", "sex"):
        frame = MetricFrame(
            metrics={"rate": selection_rate, "n": lambda y, p: len(y), "pos": lambda y, p: y.sum()},
            y_true=compas["label_value"],
            y_pred=compas["score"].astype(int),
            sensitive_features=compas[feature],
        ).by_group
        judged = frame[
            (frame["n"] >= MIN_GROUP)
            & (frame["pos"] >= MIN_CLASS)
            & (frame["n"] - frame["pos"] >= MIN_CLASS)
        ]
        reference = judged["n"].idxmax()
        ratios = judged["rate"].drop(reference) / judged.loc[reference, "rate"]
        expected = min(min(r, 1 / r) for r in ratios)
        assert everything.fairness[feature] == pytest.approx(expected, rel=1e-9), feature
        assert v1.fairness[feature] == pytest.approx(expected, rel=1e-9)
    assert everything.fairness["race"] < 0.8  # COMPAS fails the four-fifths screen on race
