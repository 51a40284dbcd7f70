"""`monitor estimate --task multiclass` on NannyML's multiclass data (3 classes, scores
`y_pred_proba_<class>`, 60,000 reference and 60,000 analysis rows, chunks of 6,000): the
estimates equal the pure estimator called directly on the same rows, the realized values
equal scikit-learn's, the fit's warnings come once and each chunk's with it, and bad
input exits 2 with one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from monitor.metrics.performance.estimation_multiclass import (
    MulticlassCalibrator,
    estimate_multiclass,
    fit_multiclass_calibrator,
)
from tests.estimate_support import (
    CLASSES,
    MULTICLASS_COLUMNS,
    MULTICLASS_FILES,
    SCORES,
    assert_bad_input,
    estimate_json,
    run_estimate,
    write_frame,
)
from tests.nannyml_support import CHUNK_ROWS, NANNYML, chunks, read_nannyml

CHUNKED = ("--chunk-size", str(CHUNK_ROWS))


def sklearn_metrics(rows: pd.DataFrame, predicted: Any) -> dict[str, float]:
    """scikit-learn's macro metrics (its ROC AUC wants the classes sorted)."""
    ordered = sorted(zip(CLASSES, SCORES, strict=True))
    scores = rows[[column for _, column in ordered]].to_numpy()
    return {
        "accuracy": skm.accuracy_score(rows.y_true, predicted),
        "precision": skm.precision_score(rows.y_true, predicted, average="macro"),
        "recall": skm.recall_score(rows.y_true, predicted, average="macro"),
        "f1": skm.f1_score(rows.y_true, predicted, average="macro"),
        "roc_auc": skm.roc_auc_score(
            rows.y_true, scores, multi_class="ovr", labels=[name for name, _ in ordered]
        ),
    }


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return read_nannyml("multiclass_reference")


@pytest.fixture(scope="module")
def analysis() -> pd.DataFrame:
    return read_nannyml("multiclass_analysis")


@pytest.fixture(scope="module")
def calibrator(reference: pd.DataFrame) -> MulticlassCalibrator:
    return fit_multiclass_calibrator(
        reference[SCORES].to_numpy(), reference.y_true, CLASSES, predicted=reference.y_pred
    )


@pytest.fixture(scope="module")
def by_prediction() -> dict[str, Any]:
    return estimate_json(*MULTICLASS_FILES, *MULTICLASS_COLUMNS, "--prediction", "y_pred", *CHUNKED)


def test_the_document_names_the_classes_and_their_columns(by_prediction: dict[str, Any]) -> None:
    found = by_prediction
    assert (found["task"], found["method"], found["prediction"]) == (
        "multiclass",
        "isotonic",
        "y_pred",
    )
    assert found["positive"] is found["threshold"] is found["features"] is None
    assert found["classes"] == dict(zip(CLASSES, SCORES, strict=True))
    assert found["current"]["rows"] == found["reference"]["rows"] == 60_000
    assert [(c["start"], c["end"], c["rows"]) for c in found["chunks"]] == [
        (i, i + CHUNK_ROWS - 1, CHUNK_ROWS) for i in range(0, 60_000, CHUNK_ROWS)
    ]


def test_estimates_equal_the_pure_estimator_on_the_same_rows(
    analysis: pd.DataFrame, calibrator: MulticlassCalibrator, by_prediction: dict[str, Any]
) -> None:
    assert by_prediction["warnings"] == list(calibrator.warnings)
    for chunk, rows in zip(by_prediction["chunks"], chunks(analysis), strict=True):
        expected = estimate_multiclass(rows[SCORES].to_numpy(), rows.y_pred, calibrator)
        assert chunk["warnings"] == list(expected.warnings)
        assert set(chunk["metrics"]) == set(expected.metrics)
        for name, metric in expected.metrics.items():
            found = chunk["metrics"][name]
            assert [found["value"], found["lower"], found["upper"]] == pytest.approx(
                [metric.value, metric.low, metric.high], abs=1e-9
            )


def test_realized_values_equal_sklearn(
    analysis: pd.DataFrame, by_prediction: dict[str, Any]
) -> None:
    for chunk, rows in zip(by_prediction["chunks"], chunks(analysis), strict=True):
        assert chunk["labeled"] == len(rows)
        for name, value in sklearn_metrics(rows, rows.y_pred).items():
            assert chunk["metrics"][name]["realized"] == pytest.approx(value, abs=1e-12)


def test_the_concept_drift_chunks_carry_a_warning(by_prediction: dict[str, Any]) -> None:
    """Chunks 5-9 change P(label | scores): the estimate stays ~7 points above the
    realized accuracy there, outside its band, and says why it may."""
    for chunk in by_prediction["chunks"]:
        accuracy = chunk["metrics"]["accuracy"]
        drifted = chunk["chunk"] >= 5
        assert bool(chunk["warnings"]) == drifted
        assert (accuracy["realized"] < accuracy["lower"]) == drifted


def test_without_a_prediction_column_the_highest_score_predicts(
    reference: pd.DataFrame, analysis: pd.DataFrame
) -> None:
    """--classes named in a comma list of columns (another order than the file's)."""
    columns = list(reversed(SCORES))
    classes = list(reversed(CLASSES))
    found = estimate_json(
        *MULTICLASS_FILES,
        *("--label", "y_true", "--score", ",".join(columns), "--classes", ",".join(classes)),
        *("--chunk-size", "30000"),
    )
    assert found["task"] == "multiclass" and found["prediction"] is None
    assert found["classes"] == dict(zip(classes, columns, strict=True))
    calibrator = fit_multiclass_calibrator(reference[columns].to_numpy(), reference.y_true, classes)
    for chunk, rows in zip(found["chunks"], chunks(analysis, 30_000), strict=True):
        highest = np.array(classes)[rows[columns].to_numpy().argmax(axis=1)]
        for name, value in sklearn_metrics(rows, highest).items():
            assert chunk["metrics"][name]["realized"] == pytest.approx(value, abs=1e-12)
        expected = estimate_multiclass(rows[columns].to_numpy(), None, calibrator)
        for name, metric in expected.metrics.items():
            assert chunk["metrics"][name]["value"] == pytest.approx(metric.value, abs=1e-9)


def test_text_output_shows_the_classes_and_each_chunks_warnings() -> None:
    done = run_estimate(*MULTICLASS_FILES, *MULTICLASS_COLUMNS, "--chunk-size", "30000")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("label-free estimates (multiclass, isotonic calibration")
    assert lines[1].startswith("classes 'prepaid_card' (y_pred_proba_prepaid_card), ")
    assert "predicted: the class with the highest score; chunks: 30,000 rows" in lines[1]
    table = lines[3:]
    assert [line[:5].strip() for line in table if line[:5].strip()] == ["0", "1"]
    assert len([line for line in table if line.split()[-5] == "roc_auc"]) == 2
    warned = [i for i, line in enumerate(table) if "warning: the scores moved away" in line]
    assert len(warned) == 1 and warned[0] > 5  # chunk 1 (rows 30,000-59,999) only


# -- bad input ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("bad_multiclass")
    reference = read_nannyml("multiclass_reference").head(3000)

    def write(name: str, frame: pd.DataFrame) -> str:
        return write_frame(frame, folder / name)

    no_upmarket = reference[reference.y_true != "upmarket_card"]
    return {
        "text_score": write("text.parquet", reference.assign(y_pred_proba_prepaid_card="high")),
        "outside": write("out.csv", reference.assign(y_pred_proba_upmarket_card=2.0)),
        "no_upmarket": write("no_upmarket.parquet", no_upmarket),
        "odd_label": write("odd.parquet", reference.assign(y_true="gold_card")),
        "odd_prediction": write("pred.parquet", reference.assign(y_pred="gold_card")),
        "analysis": str(NANNYML / "multiclass_analysis.parquet"),
    }


def _files(reference: str = "{analysis}") -> tuple[str, ...]:
    return ("--reference", reference, "--current", "{analysis}")


BAD_INPUT: dict[str, tuple[tuple[str, ...], str]] = {
    "score not numbers": (
        (*_files("{text_score}"), *MULTICLASS_COLUMNS),
        "error: --score: column 'y_pred_proba_prepaid_card' of {text_score} holds VARCHAR values",
    ),
    "scores outside [0, 1]": (
        (*_files("{outside}"), *MULTICLASS_COLUMNS),
        "error: --score: 3,000 values of column 'y_pred_proba_upmarket_card' in {outside} are "
        "outside [0, 1] (min 2, max 2)",
    ),
    "a class without reference labels": (
        (*_files("{no_upmarket}"), *MULTICLASS_COLUMNS),
        "error: class 'upmarket_card' (score column 'y_pred_proba_upmarket_card') has no "
        "labeled rows in {no_upmarket}",
    ),
    "labels that are not classes": (
        (*_files("{odd_label}"), *MULTICLASS_COLUMNS),
        "error: --label: column 'y_true' of {odd_label} holds values that are not classes "
        "('gold_card'): the classes are prepaid_card, highstreet_card, upmarket_card",
    ),
    "predictions that are not classes": (
        (*_files("{odd_prediction}"), *MULTICLASS_COLUMNS, "--prediction", "y_pred"),
        "error: --prediction: column 'y_pred' of {odd_prediction} holds values that are not "
        "classes ('gold_card')",
    ),
    "a glob matching no column": (
        (*_files(), "--task", "multiclass", "--score", "proba_*", "--label", "y_true"),
        "error: --score: column 'proba_*' not found in {analysis}",
    ),
    "one score column": (
        (*_files(), "--task", "multiclass", "--score", "y_pred_proba_up*", "--label", "y_true"),
        "error: --score 'y_pred_proba_up*' names one column of {analysis} "
        "('y_pred_proba_upmarket_card')",
    ),
    "an unknown score column": (
        (*_files(), "--score", "y_pred_proba_prepaid_card,y_pred_proba_gold", "--label", "y_true"),
        "error: --score: column 'y_pred_proba_gold' not found in {analysis} (closest: ",
    ),
    "classes for other columns": (
        (*_files(), *MULTICLASS_COLUMNS, "--classes", "a,b"),
        "error: --classes names 2 classes for 3 score columns",
    ),
    "a threshold": (
        (*_files(), *MULTICLASS_COLUMNS, "--threshold", "0.3"),
        "error: --threshold applies to binary models only",
    ),
    "platt": (
        (*_files(), *MULTICLASS_COLUMNS, "--method", "platt"),
        "error: --method platt applies to binary models only",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_exits_2_with_one_line(case: str, bad_files: dict[str, str]) -> None:
    assert_bad_input(*BAD_INPUT[case], bad_files)


def test_class_names_come_from_the_columns_after_their_common_prefix(tmp_path: Path) -> None:
    """Class names that share a start ('gold', 'golf', 'goal') keep it: the common prefix
    of the columns ('p_go') is cut back to its last separator ('p_')."""
    frame = read_nannyml("multiclass_reference").head(2000)
    relabel = dict(zip(CLASSES, ("gold", "golf", "goal"), strict=True))
    renamed = {f"y_pred_proba_{c}": f"p_{relabel[c]}" for c in CLASSES}
    frame = frame.rename(columns=renamed).assign(
        y_true=frame.y_true.map(relabel), y_pred=frame.y_pred.map(relabel)
    )
    path = str(tmp_path / "renamed.parquet")
    frame.to_parquet(path, index=False)
    files = ("--reference", path, "--current", path)
    found = estimate_json(*files, "--score", "p_go*", "--label", "y_true", "--chunk-size", "2000")
    assert found["classes"] == {"gold": "p_gold", "golf": "p_golf", "goal": "p_goal"}
    highest = np.array(list(relabel.values()))[frame[list(renamed.values())].to_numpy().argmax(1)]
    realized = found["chunks"][0]["metrics"]["accuracy"]["realized"]
    assert realized == pytest.approx(skm.accuracy_score(frame.y_true, highest), abs=1e-12)
