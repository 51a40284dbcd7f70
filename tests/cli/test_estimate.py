"""`monitor estimate` on NannyML's car-loan data: the JSON document's shape, the realized
metrics per chunk against scikit-learn, the estimates against the pure estimator called
directly, and one exit code and one-line message for every kind of bad input."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from tests.estimate_support import (
    ANALYSIS,
    REFERENCE,
    assert_bad_input,
    pure_estimate,
    write_frame,
)
from tests.estimate_support import estimate_json as document
from tests.estimate_support import run_estimate as cli

FILES = ("--reference", str(REFERENCE), "--current", str(ANALYSIS))
COLUMNS = ("--label", "repaid", "--score", "y_pred_proba")
SKLEARN = {
    "accuracy": skm.accuracy_score,
    "precision": skm.precision_score,
    "recall": skm.recall_score,
    "f1": skm.f1_score,
}


def real_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", "estimate", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.read_parquet(REFERENCE), pd.read_parquet(ANALYSIS)


@pytest.fixture(scope="module")
def by_prediction() -> dict[str, Any]:
    return document(*FILES, *COLUMNS, "--prediction", "y_pred", "--chunk-size", "5000")


def test_the_json_document_has_the_documented_shape(by_prediction: dict[str, Any]) -> None:
    found = by_prediction
    assert set(found) == {
        *("task", "method", "confidence", "positive", "prediction", "threshold"),
        *("chunking", "reference", "current", "classes", "features", "excluded"),
        *("chunks", "warnings"),
    }
    assert found["classes"] is found["features"] is found["excluded"] is None
    assert (found["task"], found["method"], found["confidence"]) == ("binary", "isotonic", 0.95)
    assert (found["positive"], found["prediction"], found["threshold"]) == ("1", "y_pred", None)
    assert found["reference"] == {"path": str(REFERENCE), "rows": 50_000}
    assert found["current"] == {"path": str(ANALYSIS), "rows": 50_000}
    assert found["warnings"] == []
    assert [c["chunk"] for c in found["chunks"]] == list(range(10))
    for i, chunk in enumerate(found["chunks"]):
        assert set(chunk) == {"chunk", "start", "end", "rows", "labeled", "metrics", "warnings"}
        # the analysis period's second half moved the scores (NannyML's covariate shift)
        assert bool(chunk["warnings"]) == (i >= 5), chunk["warnings"]
        assert all(w.startswith("the scores moved away") for w in chunk["warnings"])
        assert (chunk["start"], chunk["end"]) == (5000 * i, 5000 * i + 4999)
        assert chunk["rows"] == chunk["labeled"] == 5000
        assert set(chunk["metrics"]) >= set(SKLEARN)
        for metric in chunk["metrics"].values():
            assert set(metric) == {"value", "lower", "upper", "realized"}
            assert 0 <= metric["lower"] <= metric["value"] <= metric["upper"] <= 1


def test_realized_metrics_per_chunk_equal_sklearn(
    frames: tuple[pd.DataFrame, pd.DataFrame], by_prediction: dict[str, Any]
) -> None:
    current = frames[1]
    for i, chunk in enumerate(by_prediction["chunks"]):
        rows = current.iloc[5000 * i : 5000 * (i + 1)]
        for name, function in SKLEARN.items():
            expected = function(rows.repaid, rows.y_pred)
            assert chunk["metrics"][name]["realized"] == pytest.approx(expected, abs=1e-12)


def test_estimates_equal_the_pure_estimator_called_directly(
    frames: tuple[pd.DataFrame, pd.DataFrame], by_prediction: dict[str, Any]
) -> None:
    reference, current = frames
    for i, chunk in enumerate(by_prediction["chunks"]):
        rows = current.iloc[5000 * i : 5000 * (i + 1)]
        expected = pure_estimate(reference, rows.y_pred_proba, rows.y_pred == 1)
        assert set(chunk["metrics"]) == set(expected)
        for name, value in expected.items():
            assert chunk["metrics"][name]["value"] == pytest.approx(value, abs=1e-9)


def test_without_a_prediction_column_the_threshold_predicts(
    frames: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    reference, current = frames
    found = document(*FILES, *COLUMNS, "--threshold", "0.7", "--chunk-size", "25000")
    assert (found["prediction"], found["threshold"]) == (None, 0.7)
    for i, chunk in enumerate(found["chunks"]):
        rows = current.iloc[25000 * i : 25000 * (i + 1)]
        predicted = rows.y_pred_proba >= 0.7
        for name, function in SKLEARN.items():
            realized = chunk["metrics"][name]["realized"]
            assert realized == pytest.approx(function(rows.repaid, predicted), abs=1e-12)
        for name, value in pure_estimate(reference, rows.y_pred_proba, predicted).items():
            assert chunk["metrics"][name]["value"] == pytest.approx(value, abs=1e-9)


def test_platt_estimates_equal_the_pure_estimator(
    frames: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    reference, current = frames
    found = document(*FILES, *COLUMNS, "--prediction", "y_pred", "--method", "platt")
    assert found["method"] == "platt"
    chunk = found["chunks"][3]
    rows = current.iloc[chunk["start"] : chunk["end"] + 1]
    expected = pure_estimate(reference, rows.y_pred_proba, rows.y_pred == 1, "platt")
    for name, value in expected.items():
        assert chunk["metrics"][name]["value"] == pytest.approx(value, abs=1e-6)


def test_chunks_by_week_follow_pandas(frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    current = frames[1]
    found = document(*FILES, *COLUMNS, "--prediction", "y_pred", "--chunk-by", "timestamp:week")
    weeks = current.groupby(current.timestamp.dt.to_period("W-SUN").dt.start_time)
    assert len(found["chunks"]) == len(weeks)
    for chunk, (start, rows) in zip(found["chunks"], weeks, strict=True):
        assert pd.Timestamp(chunk["start"]) == start.tz_localize("UTC")
        assert pd.Timestamp(chunk["end"]) - pd.Timestamp(chunk["start"]) == pd.Timedelta(days=7)
        assert chunk["rows"] == len(rows)
        realized = chunk["metrics"]["accuracy"]["realized"]
        assert realized == pytest.approx(skm.accuracy_score(rows.repaid, rows.y_pred), abs=1e-12)


def test_text_output_is_a_table_of_every_chunk_and_metric() -> None:
    done = cli(*FILES, *COLUMNS, "--prediction", "y_pred", "--chunk-size", "20000")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("label-free estimates (binary, isotonic calibration, 95% bands)")
    assert lines[2].split() == [
        *("chunk", "start", "end", "rows", "labeled", "metric"),
        *("estimate", "lower", "upper", "realized"),
    ]
    table = lines[3:]
    assert len([line for line in table if line.split()[-5] in SKLEARN]) == 3 * len(SKLEARN)
    assert table[0].split()[:5] == ["0", "0", "19999", "20,000", "20,000"]
    assert lines[-1].startswith("warning: the last chunk holds 10,000 rows")


# -- bad input ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("bad")
    reference = pd.read_parquet(REFERENCE).head(2000)
    (folder / "empty.csv").write_text("repaid,y_pred_proba\n")
    return {
        "one_outcome": write_frame(reference.assign(repaid=1.0), folder / "one.parquet"),
        "three_outcomes": write_frame(
            reference.assign(repaid=np.arange(len(reference)) % 3), folder / "three.parquet"
        ),
        "outside": write_frame(
            reference.assign(y_pred_proba=reference.y_pred_proba * 1.5), folder / "out.csv"
        ),
        "text_score": write_frame(reference.assign(y_pred_proba="high"), folder / "text.parquet"),
        "empty": str(folder / "empty.csv"),
        "outside_count": f"{int((reference.y_pred_proba * 1.5 > 1).sum()):,}",
    }


BAD_INPUT = {
    "missing label": (
        (*FILES, "--label", "repayed", "--score", "y_pred_proba"),
        "error: --label: column 'repayed' not found in " + str(REFERENCE) + " (closest: 'repaid')",
    ),
    "missing score": (
        (*FILES, "--label", "repaid", "--score", "proba"),
        "error: --score: column 'proba' not found in ",
    ),
    "missing prediction": (
        (*FILES, *COLUMNS, "--prediction", "y_predicted"),
        "error: --prediction: column 'y_predicted' not found in " + str(ANALYSIS),
    ),
    "one outcome": (
        ("--reference", "{one_outcome}", "--current", str(ANALYSIS), *COLUMNS),
        "error: --label: column 'repaid' of {one_outcome} holds one outcome ('1')",
    ),
    "three outcomes": (
        ("--reference", "{three_outcomes}", "--current", str(ANALYSIS), *COLUMNS),
        "error: --label: column 'repaid' of {three_outcomes} holds more than two values",
    ),
    "scores outside [0, 1]": (
        ("--reference", str(REFERENCE), "--current", "{outside}", *COLUMNS),
        "error: --score: {outside_count} values of column 'y_pred_proba' in {outside} are "
        "outside [0, 1] (min 0, max 1.5)",
    ),
    "text scores": (
        ("--reference", "{text_score}", "--current", str(ANALYSIS), *COLUMNS),
        "error: --score: column 'y_pred_proba' of {text_score} holds VARCHAR values",
    ),
    "empty file": (
        ("--reference", str(REFERENCE), "--current", "{empty}", *COLUMNS),
        "error: {empty}: the file holds no rows",
    ),
    "unknown chunk column": (
        (*FILES, *COLUMNS, "--chunk-by", "timestmp:day"),
        "error: --chunk-by: column 'timestmp' not found in "
        + str(ANALYSIS)
        + " (closest: 'timestamp')",
    ),
    "chunk column not a time": (
        (*FILES, *COLUMNS, "--chunk-by", "car_value:day"),
        "error: --chunk-by: column 'car_value' of " + str(ANALYSIS) + " holds DOUBLE values",
    ),
    "unknown period": (
        (*FILES, *COLUMNS, "--chunk-by", "timestamp:month"),
        "error: --chunk-by: 'month' is not a period (use hour, day, week)",
    ),
    "period without a column": (
        (*FILES, *COLUMNS, "--chunk-by", "day"),
        "error: --chunk-by PERIOD needs a time column",
    ),
    "size and period": (
        (*FILES, *COLUMNS, "--chunk-by", "timestamp:day", "--chunk-size", "10"),
        "error: argument --chunk-size: not allowed with argument --chunk-by",
    ),
    "chunk size 0": ((*FILES, *COLUMNS, "--chunk-size", "0"), "error: --chunk-size must be"),
    "positive not a label": (
        (*FILES, *COLUMNS, "--positive", "yes"),
        "error: --positive 'yes' is not a value of column 'repaid'",
    ),
    "threshold above 1": (
        (*FILES, *COLUMNS, "--threshold", "1.5"),
        "error: --threshold must be between 0 and 1",
    ),
    "one column, two roles": (
        (*FILES, "--label", "repaid", "--score", "repaid"),
        "error: column 'repaid' is both the label and the score column",
    ),
    "id with a binary model": (
        (*FILES, *COLUMNS, "--id", "id"),
        "error: --id and --ignore choose the features of a regression estimate",
    ),
    "classes with a binary model": (
        (*FILES, *COLUMNS, "--classes", "a,b"),
        "error: --classes applies to multiclass models only",
    ),
    "no such file": (
        ("--reference", "missing.parquet", "--current", str(ANALYSIS), *COLUMNS),
        "error: missing.parquet: no such file",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_exits_2_with_one_line(case: str, bad_files: dict[str, str]) -> None:
    assert_bad_input(*BAD_INPUT[case], bad_files)


def test_bad_input_in_a_real_process_has_no_traceback(bad_files: dict[str, str]) -> None:
    done = real_cli("--reference", bad_files["one_outcome"], "--current", str(ANALYSIS), *COLUMNS)
    assert done.returncode == 2
    assert done.stderr.startswith("error: --label: column 'repaid' of ")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
