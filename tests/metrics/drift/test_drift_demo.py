"""The demo's injected drift problems are found on the right days (docs/demo-data.md),
and the log form of the engine agrees with scipy on the raw values read by pyarrow."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy import stats

from monitor.core.catalog import Window
from monitor.core.config import Settings, load_settings
from monitor.core.store import LogStore
from monitor.core.tabular import log_relation, reference_relation, targets_relation
from monitor.metrics.drift.timeline import DriftTimeline
from monitor.queries.drift import drift_between, drift_over_time, target_drift
from monitor.queries.drift_multivariate import multivariate_drift

MODEL = "credit-risk"


@pytest.fixture(scope="module")
def settings(demo_dir: Path) -> Settings:
    return load_settings(demo_dir / "monitor.toml", env={})


@pytest.fixture(scope="module")
def store(settings: Settings) -> Iterator[LogStore]:
    opened = LogStore(settings.data_dir)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def manifest(demo_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((demo_dir / "demo_manifest.json").read_text())
    return loaded


def problem(manifest: dict[str, Any], name: str) -> tuple[dt.date, dt.date]:
    """First day and the day after the last day of an injected problem."""
    found = next(p for p in manifest["problems"] if p["name"] == name)
    start = dt.datetime.fromisoformat(found["start"])
    end = dt.datetime.fromisoformat(found["end"])
    return start.date(), end.date()


def span(manifest: dict[str, Any]) -> Window:
    return Window(
        dt.datetime.fromisoformat(manifest["span_start"]),
        dt.datetime.fromisoformat(manifest["span_end"]) - dt.timedelta(microseconds=1),
    )


@pytest.fixture(scope="module")
def daily(settings: Settings, store: LogStore, manifest: dict[str, Any]) -> DriftTimeline:
    model = settings.model(MODEL)
    current = log_relation(store, model, span(manifest))
    return drift_over_time(store, reference_relation(store, model), current, bucket="day")


def drifted_days(timeline: DriftTimeline, feature: str) -> set[dt.date]:
    days = set()
    for i, start in enumerate(timeline.starts):
        cell = timeline.cell(i, feature)
        if cell is not None and cell.drifted:
            days.add(start.date())
    return days


def test_gradual_income_drift_starts_on_its_day(
    daily: DriftTimeline, manifest: dict[str, Any]
) -> None:
    first, end = problem(manifest, "feature_drift")
    days = drifted_days(daily, "income")
    assert days, "income drift was not found"
    assert min(days) >= first, f"income flagged on {min(days)}, before the drift starts {first}"
    # The rise is gradual: flagged from at most one day after it starts, every day to the end.
    expected = {first + dt.timedelta(days=d) for d in range(1, (end - first).days)}
    assert expected <= days
    cells = [daily.cell(i, "income") for i in range(len(daily.starts))]
    scores = [c.score for c in cells if c is not None and c.score is not None]
    assert scores[-1] == max(scores)


def test_new_category_is_found_from_its_first_day(
    daily: DriftTimeline, manifest: dict[str, Any]
) -> None:
    first, end = problem(manifest, "new_category")
    days = drifted_days(daily, "employment_type")
    assert days == {first + dt.timedelta(days=d) for d in range((end - first).days)}
    for i, start in enumerate(daily.starts):
        cell = daily.cell(i, "employment_type")
        assert cell is not None
        assert ("gig_worker" in cell.new_categories) == (start.date() >= first)


def test_stable_features_do_not_drift(daily: DriftTimeline) -> None:
    for feature in ("age", "region", "gender", "age_group"):
        assert not drifted_days(daily, feature), feature


def test_label_shift_is_found_on_its_days(
    settings: Settings, store: LogStore, manifest: dict[str, Any]
) -> None:
    first, end = problem(manifest, "label_shift")
    model = settings.model(MODEL)
    reference = targets_relation(reference_relation(store, model), model.task)
    current = targets_relation(log_relation(store, model, span(manifest), labels=True), model.task)
    timeline = drift_over_time(store, reference, current, bucket="day")
    days = drifted_days(timeline, "label")
    assert days == {first + dt.timedelta(days=d) for d in range((end - first).days)}


def test_log_form_matches_scipy_on_the_raw_files(
    settings: Settings, store: LogStore, demo_dir: Path, manifest: dict[str, Any]
) -> None:
    """KS and Wasserstein of income over the whole span, against pyarrow-read values."""
    model = settings.model(MODEL)
    report = drift_between(
        store, reference_relation(store, model), log_relation(store, model, span(manifest))
    )
    income = next(f for f in report.features if f.feature == "income")
    reference = pq.read_table(demo_dir / "reference" / f"{MODEL}.parquet")["income"].to_numpy()
    current = _logged(demo_dir, "income")
    assert income.current_count == current.size
    assert income.stats["ks"] == pytest.approx(stats.ks_2samp(reference, current).statistic)
    assert income.stats["wasserstein"] == pytest.approx(
        stats.wasserstein_distance(reference, current), rel=1e-9
    )
    assert income.drifted and report.reference_rows == reference.size


def _logged(demo_dir: Path, key: str) -> np.ndarray:
    """Non-null values of a credit-risk feature in every prediction log (Parquet + JSONL)."""
    values: list[float] = []
    for path in sorted((demo_dir / "logs" / "predictions").rglob("*")):
        if path.suffix == ".parquet":
            if f"features.{key}" not in pq.read_schema(path).names:
                continue
            table = pq.read_table(path, columns=["model_id", f"features.{key}"]).to_pandas()
            picked = table[table["model_id"] == MODEL][f"features.{key}"].dropna()
            values += picked.tolist()
        elif path.suffix == ".jsonl" and not path.with_suffix(".parquet").exists():
            for line in path.read_text().splitlines():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                ok = isinstance(record, dict) and record.get("model_id") == MODEL
                if ok and record.get("prediction_id") and record.get("timestamp") is not None:
                    value = (record.get("features") or {}).get(key)
                    if isinstance(value, int | float) and not isinstance(value, bool):
                        values.append(float(value))
    return np.array(values)


def test_prediction_drift_and_multivariate(
    settings: Settings, store: LogStore, manifest: dict[str, Any]
) -> None:
    model = settings.model(MODEL)
    _, end = problem(manifest, "feature_drift")
    late = Window(
        dt.datetime.combine(end - dt.timedelta(days=2), dt.time(), dt.UTC),
        span(manifest).end,
    )
    early = Window(span(manifest).start, span(manifest).start + dt.timedelta(days=3))
    reference = reference_relation(store, model)
    targets = target_drift(
        store, reference, log_relation(store, model, early, labels=True), task=model.task
    )
    assert {f.feature for f in targets.features} == {"prediction", "probability", "label"}
    assert not targets.drifted
    drifted = multivariate_drift(store, reference, log_relation(store, model, late))
    calm = multivariate_drift(store, reference, log_relation(store, model, early))
    assert drifted.drifted and drifted.auc is not None and drifted.auc > 0.6
    assert drifted.importances[0][0] in {"income", "employment_type"}
    assert not calm.drifted and calm.auc is not None and calm.auc < 0.55
