"""`monitor estimate --task regression` on NannyML's car-price data (60,000 reference and
60,000 analysis rows, chunks of 6,000; `--id id --timestamp timestamp`, the features are
the other columns): the estimates equal the pure estimator called directly on the same
rows, the realized MAE and RMSE equal scikit-learn's, and bad input exits 2 with one line
(before any model is fitted). The loss model is fitted twice in this module (the command,
the direct call): about 8 s each."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest
from sklearn import metrics as skm

from monitor.metrics.performance.estimation_regression import (
    LossModel,
    estimate_regression,
    fit_loss_model,
)
from tests.estimate_support import (
    FEATURES,
    REGRESSION_COLUMNS,
    REGRESSION_FILES,
    assert_bad_input,
    estimate_json,
    write_frame,
)
from tests.nannyml_support import CHUNK_ROWS, NANNYML, chunks, read_nannyml

ROLES = ("--id", "id", "--timestamp", "timestamp")


@pytest.fixture(scope="module")
def analysis() -> pd.DataFrame:
    return read_nannyml("regression_analysis")


@pytest.fixture(scope="module")
def model() -> LossModel:
    reference = read_nannyml("regression_reference")
    return fit_loss_model(reference[FEATURES], reference.y_pred, reference.y_true)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return estimate_json(
        *REGRESSION_FILES, *REGRESSION_COLUMNS, *ROLES, "--chunk-size", str(CHUNK_ROWS)
    )


def test_the_features_are_the_columns_no_role_names(document: dict[str, Any]) -> None:
    assert (document["task"], document["method"], document["prediction"]) == (
        "regression",
        "dle",
        "y_pred",
    )
    assert document["classes"] is document["positive"] is document["threshold"] is None
    assert document["features"] == FEATURES
    assert [(e["column"], e["reason"]) for e in document["excluded"]] == [
        ("id", "id"),
        ("timestamp", "timestamp"),
    ]
    assert [c["rows"] for c in document["chunks"]] == [CHUNK_ROWS] * 10


def test_estimates_equal_the_pure_estimator_on_the_same_rows(
    analysis: pd.DataFrame, model: LossModel, document: dict[str, Any]
) -> None:
    assert document["warnings"] == list(model.warnings)
    for chunk, rows in zip(document["chunks"], chunks(analysis), strict=True):
        expected = estimate_regression(rows[FEATURES], rows.y_pred, model)
        assert chunk["warnings"] == list(expected.warnings)
        assert set(chunk["metrics"]) == {"mae", "rmse"}
        for name, metric in expected.metrics.items():
            found = chunk["metrics"][name]
            assert [found["value"], found["lower"], found["upper"]] == pytest.approx(
                [metric.value, metric.low, metric.high], abs=1e-9
            )


def test_realized_values_equal_sklearn(analysis: pd.DataFrame, document: dict[str, Any]) -> None:
    for chunk, rows in zip(document["chunks"], chunks(analysis), strict=True):
        assert chunk["labeled"] == len(rows)
        realized = {name: m["realized"] for name, m in chunk["metrics"].items()}
        assert realized == pytest.approx(
            {
                "mae": skm.mean_absolute_error(rows.y_true, rows.y_pred),
                "rmse": math.sqrt(skm.mean_squared_error(rows.y_true, rows.y_pred)),
            },
            abs=1e-9,
        )


# -- bad input ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("bad_regression")
    reference = read_nannyml("regression_reference").head(3000)

    def write(name: str, frame: pd.DataFrame) -> str:
        return write_frame(frame, folder / name)

    return {
        "text_label": write("label.parquet", reference.assign(y_true="cheap")),
        "text_prediction": write("pred.parquet", reference.assign(y_pred="cheap")),
        "no_fuel": write("no_fuel.parquet", reference.drop(columns="fuel")),
        "tiny": write("tiny.parquet", reference.head(50)),
        "reference": str(NANNYML / "regression_reference.parquet"),
        "analysis": str(NANNYML / "regression_analysis.parquet"),
    }


def _files(reference: str = "{reference}", current: str = "{analysis}") -> tuple[str, ...]:
    return ("--reference", reference, "--current", current)


BAD_INPUT: dict[str, tuple[tuple[str, ...], str]] = {
    "label not numbers": (
        (*_files("{text_label}"), *REGRESSION_COLUMNS),
        "error: --label: column 'y_true' of {text_label} holds VARCHAR values: a regression "
        "label must be numbers",
    ),
    "prediction not numbers": (
        (*_files(current="{text_prediction}"), *REGRESSION_COLUMNS),
        "error: --prediction: column 'y_pred' of {text_prediction} holds VARCHAR values",
    ),
    "no prediction": (
        (*_files(), "--task", "regression", "--label", "y_true"),
        "error: --prediction is required for regression",
    ),
    "a score": (
        (*_files(), *REGRESSION_COLUMNS, "--score", "price_new"),
        "error: --score does not apply to regression",
    ),
    "an unknown id column": (
        (*_files(), *REGRESSION_COLUMNS, "--id", "ident"),
        "error: --id: column 'ident' not found in {reference}",
    ),
    "a feature missing from the current file": (
        (*_files(current="{no_fuel}"), *REGRESSION_COLUMNS, *ROLES),
        "error: {no_fuel} lacks features of the reference: 'fuel'",
    ),
    "a reference too small": (
        (*_files("{tiny}"), *REGRESSION_COLUMNS, *ROLES),
        "error: the reference has 50 labeled rows: the loss model needs at least 100",
    ),
    "a positive label": (
        (*_files(), *REGRESSION_COLUMNS, "--positive", "1"),
        "error: --positive applies to binary models only",
    ),
    "classes": (
        (*_files(), *REGRESSION_COLUMNS, "--classes", "a,b"),
        "error: --classes applies to multiclass models only",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_exits_2_with_one_line(case: str, bad_files: dict[str, str]) -> None:
    assert_bad_input(*BAD_INPUT[case], bad_files)
