"""Helpers of the label-free estimate tests (tests/cli/test_estimate*.py,
tests/queries/test_estimate_*.py, tests/ui/test_performance_uploads.py): NannyML's
car-loan, multiclass and regression files, the command's flags for them, and the pure
binary estimator called directly on the car-loan data."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from monitor.cli.main import main
from monitor.metrics.performance.estimation import (
    Method,
    ScoreCells,
    estimate_binary,
    fit_calibrator,
)
from tests.conftest import REPO_ROOT

NANNYML = REPO_ROOT / "tests" / "data" / "nannyml"
REFERENCE = NANNYML / "car_loan_reference.parquet"
ANALYSIS = NANNYML / "car_loan_analysis.parquet"
MULTICLASS_FILES = (
    *("--reference", str(NANNYML / "multiclass_reference.parquet")),
    *("--current", str(NANNYML / "multiclass_analysis.parquet")),
)
MULTICLASS_COLUMNS = ("--task", "multiclass", "--score", "y_pred_proba_*", "--label", "y_true")
CLASSES = ("prepaid_card", "highstreet_card", "upmarket_card")
"""In the files' column order."""
SCORES = [f"y_pred_proba_{c}" for c in CLASSES]
REGRESSION_FILES = (
    *("--reference", str(NANNYML / "regression_reference.parquet")),
    *("--current", str(NANNYML / "regression_analysis.parquet")),
)
REGRESSION_COLUMNS = ("--task", "regression", "--label", "y_true", "--prediction", "y_pred")
FEATURES = [
    "car_age", "km_driven", "price_new", "accident_count", "door_count", "fuel", "transmission"
]  # fmt: skip


def pure_estimate(
    reference: pd.DataFrame,
    scores: pd.Series,
    predicted: pd.Series,
    method: Method = "isotonic",
) -> dict[str, float]:
    """Each metric's estimate from `estimate_binary` with one cell per (score, predicted
    class), calibrated on all the car-loan reference's rows (`fit_calibrator` directly).
    Car-loan scores are multiples of 0.01, so every score bin of the product holds one
    score and the product's estimates must agree."""
    calibrator = fit_calibrator(
        np.asarray(reference.y_pred_proba, dtype=np.float64),
        np.asarray(reference.repaid == 1, dtype=np.float64),
        method=method,
        replicates=0,
    )
    frame = pd.DataFrame({"score": np.asarray(scores), "positive": np.asarray(predicted)})
    cells = frame.groupby(["score", "positive"])
    counts, sums = cells.size(), cells.score.sum()
    flags = np.array([positive for _, positive in counts.index], dtype=bool)
    found = estimate_binary(
        ScoreCells(np.asarray(counts, dtype=np.float64), np.asarray(sums, dtype=np.float64), flags),
        calibrator,
    )
    return {name: m.value for name, m in found.metrics.items() if m.value is not None}


def run_estimate(*args: str) -> subprocess.CompletedProcess[str]:
    """`monitor estimate ARGS` run in this process (fast), its output captured."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["estimate", *args])
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def estimate_json(*args: str) -> dict[str, Any]:
    """The JSON document of `monitor estimate ARGS --json` (which must succeed)."""
    done = run_estimate(*args, "--json")
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def write_frame(frame: pd.DataFrame, path: Path) -> str:
    """The frame written as CSV, JSONL or Parquet (by the suffix); returns the path."""
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True, date_format="iso")
    else:
        frame.to_parquet(path, index=False)
    return str(path)


def assert_bad_input(args: Sequence[str], message: str, files: Mapping[str, str]) -> None:
    """`monitor estimate ARGS` (with `{name}` filled from `files`) exits 2 with one
    `error:` line that starts with `message` (filled the same way), and prints nothing."""
    done = run_estimate(*(a.format(**files) for a in args))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(message.format(**files)), done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
