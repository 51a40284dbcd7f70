"""Multiclass estimates of files (monitor.queries.estimate_multiclass, with the row-level
chunks of estimate_chunks) on NannyML's multiclass data: partly scored and partly labeled
current files, chunks by day, text formats, and the guesses the Performance page makes
from an upload's columns; numbers against scikit-learn, pandas and the pure estimator."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from monitor.core.tabular import FileDatabase
from monitor.metrics.performance.estimation_multiclass import (
    MulticlassCalibrator,
    estimate_multiclass,
    fit_multiclass_calibrator,
)
from monitor.queries.column_roles import RoleNames
from monitor.queries.estimate_files import estimate_files
from monitor.queries.estimate_inputs import label_values
from monitor.queries.estimate_multiclass import class_columns
from monitor.queries.estimate_types import Chunking, EstimateSpec, FileEstimate
from tests.estimate_support import CLASSES, SCORES, write_frame
from tests.nannyml_support import NANNYML, read_nannyml

ROLES = RoleNames(label="y_true", score="y_pred_proba_*", prediction="y_pred")
ROWS = 12_000
"""Reference and analysis rows used here (the analysis's first 12,000: no concept drift)."""


@pytest.fixture
def runner() -> Iterator[FileDatabase]:
    database = FileDatabase()
    yield database
    database.close()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("multiclass")
    reference = read_nannyml("multiclass_reference").head(ROWS)
    analysis = read_nannyml("multiclass_analysis").head(ROWS)
    rng = np.random.default_rng(5)
    partly = analysis.copy()
    partly.loc[rng.random(ROWS) < 0.3, "y_true"] = None
    partly.loc[rng.random(ROWS) < 0.05, "y_pred_proba_upmarket_card"] = np.nan
    partly.loc[rng.random(ROWS) < 0.02, "timestamp"] = pd.NaT
    frames = {
        "reference.parquet": reference,
        "analysis.parquet": analysis,
        "partly.parquet": partly,
        "reference.csv": reference,
        "analysis.jsonl": analysis,
    }
    found = {}
    for name, frame in frames.items():
        found[name.replace(".parquet", "").replace(".", "_")] = Path(
            write_frame(frame, folder / name)
        )
    return found


@pytest.fixture(scope="module")
def calibrator(files: dict[str, Path]) -> MulticlassCalibrator:
    reference = pd.read_parquet(files["reference"])
    return fit_multiclass_calibrator(
        reference[SCORES].to_numpy(), reference.y_true, CLASSES, predicted=reference.y_pred
    )


def _numbers(result: FileEstimate) -> list[float | None]:
    return [
        number
        for chunk in result.chunks
        for m in chunk.metrics.values()
        for number in (m.value, m.lower, m.upper, m.realized)
    ]


def test_partly_scored_partly_labeled_chunks_by_day(
    runner: FileDatabase, files: dict[str, Path], calibrator: MulticlassCalibrator
) -> None:
    current = pd.read_parquet(files["partly"])
    roles = dataclasses.replace(ROLES, timestamp="timestamp")
    spec = EstimateSpec(roles, task="multiclass", chunking=Chunking(period="day"))
    found = estimate_files(runner, files["reference"], files["partly"], spec, names=("r", "c"))
    unscored = int(current.y_pred_proba_upmarket_card.isna().sum())
    untimed = int(current.timestamp.isna().sum())
    assert found.warnings == (
        f"{unscored:,} of {ROWS:,} rows of c have no score in every score column or no "
        "prediction: left out of the estimates",
        f"{untimed:,} rows of c have no time in 'timestamp': left out",
    )
    timed = current[current.timestamp.notna()]
    days = list(timed.groupby(timed.timestamp.dt.floor("D")))
    assert [(pd.Timestamp(c.start), c.rows) for c in found.chunks] == [
        (day.tz_localize("UTC"), len(rows)) for day, rows in days
    ]
    for chunk, (_, rows) in zip(found.chunks, days, strict=True):
        scored = rows[rows[SCORES].notna().all(axis=1)]
        labeled = scored[scored.y_true.notna()]
        assert chunk.labeled == len(labeled)
        realized = chunk.metrics["f1"].realized
        assert realized == pytest.approx(
            skm.f1_score(labeled.y_true, labeled.y_pred, average="macro"), abs=1e-12
        )
        expected = estimate_multiclass(scored[SCORES].to_numpy(), scored.y_pred, calibrator)
        assert chunk.warnings == expected.warnings
        for name, metric in expected.metrics.items():
            assert chunk.metrics[name].value == pytest.approx(metric.value, abs=1e-9)
            assert chunk.metrics[name].lower == pytest.approx(metric.low, abs=1e-9)


def test_text_formats_give_the_parquet_numbers(
    runner: FileDatabase, files: dict[str, Path]
) -> None:
    spec = EstimateSpec(ROLES, task="multiclass", chunking=Chunking(size=5000))
    expected = estimate_files(runner, files["reference"], files["analysis"], spec)
    found = estimate_files(runner, files["reference_csv"], files["analysis_jsonl"], spec)
    assert [c.rows for c in found.chunks] == [5000, 5000, 2000]
    assert (
        found.warnings
        == expected.warnings
        == ("the last chunk holds 2,000 rows (the others 5,000): its bands are wider",)
    )
    assert _numbers(found) == pytest.approx(_numbers(expected), abs=1e-12)


def test_the_page_finds_the_score_column_of_every_class() -> None:
    reference = read_nannyml("multiclass_reference")
    columns = [
        (str(name), "numeric" if pd.api.types.is_numeric_dtype(kind) else "categorical")
        for name, kind in reference.dtypes.items()
    ]
    labels = tuple(reference.y_true.value_counts().index)
    assert class_columns(columns, labels) == tuple(zip(CLASSES, SCORES, strict=True))
    assert class_columns(columns, (*labels, "gold_card")) is None
    assert class_columns([(n, "categorical") for n, _ in columns], labels) is None


def test_label_values_are_the_classes_or_none_for_a_target(runner: FileDatabase) -> None:
    multiclass = NANNYML / "multiclass_reference.parquet"
    counts = read_nannyml("multiclass_reference").y_true.value_counts()
    assert label_values(runner, multiclass, "y_true", 50) == tuple(counts.index)
    assert label_values(runner, multiclass, "y_true", 2) is None
    assert label_values(runner, NANNYML / "regression_reference.parquet", "y_true", 50) is None
    repaid = read_nannyml("car_loan_reference").repaid.value_counts()
    assert label_values(runner, NANNYML / "car_loan_reference.parquet", "repaid", 50) == tuple(
        str(int(v)) for v in repaid.index
    )
