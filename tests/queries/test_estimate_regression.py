"""Regression estimates of files (monitor.queries.estimate_regression) on the first 3,000
rows of NannyML's car-price data: the features split as drift's (identifier-like columns
left out unless kept), booleans and missing values, partly predicted and partly labeled
current files, chunks by week; numbers against scikit-learn, pandas and the pure
estimator."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from monitor.core.tabular import FileDatabase
from monitor.metrics.performance.estimation_regression import estimate_regression, fit_loss_model
from monitor.queries.column_roles import RoleNames
from monitor.queries.estimate_files import estimate_files
from monitor.queries.estimate_types import Chunking, EstimateSpec
from tests.estimate_support import FEATURES
from tests.nannyml_support import read_nannyml

ROWS = 3000
ROLES = RoleNames(label="y_true", prediction="y_pred", timestamp="timestamp")


@pytest.fixture
def runner() -> Iterator[FileDatabase]:
    database = FileDatabase()
    yield database
    database.close()


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(reference, current) with a boolean feature `automatic`, missing in some current
    rows, a fuel the reference never had, and rows without a prediction or a label."""
    reference = read_nannyml("regression_reference").head(ROWS)
    current = read_nannyml("regression_analysis").head(ROWS)
    reference = reference.assign(automatic=reference.transmission == "automatic")
    current = current.assign(automatic=(current.transmission == "automatic").astype(object))
    rng = np.random.default_rng(11)
    current.loc[rng.random(ROWS) < 0.05, "automatic"] = None
    current.loc[rng.random(ROWS) < 0.03, "fuel"] = "hydrogen"
    current.loc[rng.random(ROWS) < 0.04, "y_pred"] = np.nan
    current.loc[rng.random(ROWS) < 0.5, "y_true"] = np.nan
    return reference, current


@pytest.fixture(scope="module")
def paths(
    tmp_path_factory: pytest.TempPathFactory, frames: tuple[pd.DataFrame, pd.DataFrame]
) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("regression")
    reference, current = folder / "reference.parquet", folder / "current.parquet"
    frames[0].to_parquet(reference, index=False)
    frames[1].to_parquet(current, index=False)
    return reference, current


def test_identifiers_are_left_out_unless_kept(
    runner: FileDatabase, paths: tuple[Path, Path]
) -> None:
    spec = EstimateSpec(ROLES, task="regression", chunking=Chunking(size=ROWS))
    found = estimate_files(runner, *paths, spec)
    assert found.features == (*FEATURES, "automatic")
    assert [(e.column, e.reason) for e in found.excluded] == [
        ("timestamp", "timestamp"),
        ("id", "identifier"),
    ]
    kept = estimate_files(runner, *paths, EstimateSpec(ROLES, task="regression", keep_ids=True))
    assert kept.features == ("id", *FEATURES, "automatic")
    ignored = RoleNames(label="y_true", prediction="y_pred", ids=("id",), ignore=("fuel",))
    found = estimate_files(runner, *paths, EstimateSpec(ignored, task="regression"))
    assert "fuel" not in found.features and "timestamp" not in found.features


def test_partly_predicted_partly_labeled_chunks_by_week(
    runner: FileDatabase, paths: tuple[Path, Path], frames: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    reference, current = frames
    features = [*FEATURES, "automatic"]
    spec = EstimateSpec(ROLES, task="regression", chunking=Chunking(period="week"))
    found = estimate_files(runner, *paths, spec, names=("ref", "cur"))
    unpredicted = int(current.y_pred.isna().sum())
    assert found.warnings == (
        f"{unpredicted:,} of {ROWS:,} rows of cur have no prediction: left out of the estimates",
    )
    model = fit_loss_model(
        reference[features].astype({"automatic": float}), reference.y_pred, reference.y_true
    )
    weeks = list(current.groupby(current.timestamp.dt.to_period("W-SUN").dt.start_time))
    assert [(pd.Timestamp(c.start), c.rows) for c in found.chunks] == [
        (start.tz_localize("UTC"), len(rows)) for start, rows in weeks
    ]
    warned = [w for c in found.chunks for w in c.warnings]
    assert warned and all(w.startswith("feature 'fuel' has ") for w in warned)
    for chunk, (_, rows) in zip(found.chunks, weeks, strict=True):
        predicted = rows[rows.y_pred.notna()]
        labeled = predicted[predicted.y_true.notna()]
        assert chunk.labeled == len(labeled)
        assert chunk.metrics["mae"].realized == pytest.approx(
            skm.mean_absolute_error(labeled.y_true, labeled.y_pred), abs=1e-9
        )
        assert chunk.metrics["rmse"].realized == pytest.approx(
            math.sqrt(skm.mean_squared_error(labeled.y_true, labeled.y_pred)), abs=1e-9
        )
        inputs = predicted[features].astype({"automatic": float})
        expected = estimate_regression(inputs, predicted.y_pred, model)
        assert chunk.warnings == expected.warnings
        for name, metric in expected.metrics.items():
            found_metric = chunk.metrics[name]
            assert [found_metric.value, found_metric.lower, found_metric.upper] == pytest.approx(
                [metric.value, metric.low, metric.high], abs=1e-9
            )
