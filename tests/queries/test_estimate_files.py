"""estimate_files (and the file reading of estimate_inputs) on NannyML's car-loan data:
every file format reads the rows in file order, partly labeled and partly scored files,
label values of every kind, chunks by time; numbers against scikit-learn, pandas and the
pure estimator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from monitor.core.errors import InputError
from monitor.core.tabular import FileDatabase
from monitor.queries.column_roles import RoleNames
from monitor.queries.estimate_files import estimate_files
from monitor.queries.estimate_types import DEFAULT_CHUNKS, Chunking, EstimateSpec, FileEstimate
from tests.estimate_support import ANALYSIS, REFERENCE, pure_estimate, write_frame

ROLES = RoleNames(label="repaid", score="y_pred_proba", prediction="y_pred")


@pytest.fixture
def runner() -> Iterator[FileDatabase]:
    database = FileDatabase()
    yield database
    database.close()


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_parquet(REFERENCE)


@pytest.fixture(scope="module")
def analysis() -> pd.DataFrame:
    return pd.read_parquet(ANALYSIS)


def _write(frame: pd.DataFrame, path: Path) -> Path:
    return Path(write_frame(frame, path))


def _numbers(result: FileEstimate) -> list[float | None]:
    """Every number of the result, in order (None where there is none)."""
    return [
        number
        for chunk in result.chunks
        for m in chunk.metrics.values()
        for number in (m.value, m.lower, m.upper, m.realized)
    ]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_text_formats_give_the_parquet_numbers(
    runner: FileDatabase,
    tmp_path: Path,
    reference: pd.DataFrame,
    analysis: pd.DataFrame,
    suffix: str,
) -> None:
    """Same rows, same order: the same calibration sample, chunks and bands."""
    spec = EstimateSpec(ROLES, chunking=Chunking(size=7000))
    expected = estimate_files(runner, REFERENCE, ANALYSIS, spec)
    found = estimate_files(
        runner,
        _write(reference, tmp_path / f"reference{suffix}"),
        _write(analysis, tmp_path / f"analysis{suffix}"),
        spec,
    )
    assert [(c.start, c.end, c.rows) for c in found.chunks] == [
        (c.start, c.end, c.rows) for c in expected.chunks
    ]
    assert _numbers(found) == pytest.approx(_numbers(expected), abs=1e-12)


def test_partly_labeled_partly_scored_current_file(
    runner: FileDatabase, tmp_path: Path, reference: pd.DataFrame, analysis: pd.DataFrame
) -> None:
    rng = np.random.default_rng(3)
    current = analysis.astype({"repaid": "float64"})
    current.loc[rng.random(len(current)) < 0.4, "repaid"] = np.nan
    current.loc[rng.random(len(current)) < 0.1, "y_pred_proba"] = np.nan
    path = _write(current, tmp_path / "partly.parquet")
    result = estimate_files(runner, REFERENCE, path, EstimateSpec(ROLES))
    unscored = int(current.y_pred_proba.isna().sum())
    assert result.warnings == (
        f"{unscored:,} of 50,000 rows of {path} have no score: left out of the estimates",
    )
    assert len(result.chunks) == DEFAULT_CHUNKS
    for chunk in result.chunks:
        assert isinstance(chunk.start, int) and isinstance(chunk.end, int)
        rows = current.iloc[chunk.start : chunk.end + 1]
        assert chunk.rows == len(rows) == 5000
        scored = rows[rows.y_pred_proba.notna()]  # estimates: from the scored rows
        labeled = rows[rows.repaid.notna()]  # realized: every labeled prediction
        assert chunk.labeled == len(labeled)
        realized = chunk.metrics["precision"].realized
        assert realized == pytest.approx(
            skm.precision_score(labeled.repaid, labeled.y_pred), abs=1e-12
        )
        expected = pure_estimate(reference, scored.y_pred_proba, scored.y_pred == 1)
        for name, value in expected.items():
            assert chunk.metrics[name].value == pytest.approx(value, abs=1e-9)


@pytest.mark.parametrize(
    ("values", "given", "positive"),
    [
        (("yes", "no"), None, "yes"),
        ((True, False), None, "true"),
        (("good", "bad"), "good", "good"),
        ((1.0, 0.0), "1.0", "1"),
    ],
)
def test_the_positive_label_is_named_or_guessed(
    runner: FileDatabase,
    tmp_path: Path,
    reference: pd.DataFrame,
    analysis: pd.DataFrame,
    values: tuple[object, object],
    given: str | None,
    positive: str,
) -> None:
    def relabel(frame: pd.DataFrame) -> pd.DataFrame:
        def outcome(value: float) -> object:
            return values[0] if value == 1 else values[1]

        return frame.assign(repaid=frame.repaid.map(outcome), y_pred=frame.y_pred.map(outcome))

    ref = _write(relabel(reference), tmp_path / "reference.parquet")
    cur = _write(relabel(analysis), tmp_path / "analysis.parquet")
    spec = EstimateSpec(ROLES, positive=given)
    found = estimate_files(runner, ref, cur, spec)
    expected = estimate_files(runner, REFERENCE, ANALYSIS, EstimateSpec(ROLES))
    assert found.positive == positive and found.warnings == ()
    assert _numbers(found) == pytest.approx(_numbers(expected), abs=1e-12)


def test_a_text_label_needs_the_positive_named(
    runner: FileDatabase, tmp_path: Path, reference: pd.DataFrame
) -> None:
    ref = _write(
        reference.assign(repaid=np.where(reference.repaid == 1, "good", "bad")),
        tmp_path / "reference.parquet",
    )
    with pytest.raises(InputError, match="which value of column 'repaid' is the positive outcome"):
        estimate_files(runner, ref, ANALYSIS, EstimateSpec(ROLES))


def test_values_unknown_to_the_reference_are_warned_about(
    runner: FileDatabase, tmp_path: Path, analysis: pd.DataFrame
) -> None:
    current = analysis.astype({"repaid": "object", "y_pred": "object"})
    current.loc[:9, "repaid"] = "unknown"
    current.loc[:4, "y_pred"] = 7
    path = _write(current.astype({"repaid": str, "y_pred": str}), tmp_path / "odd.parquet")
    found = estimate_files(runner, REFERENCE, path, EstimateSpec(ROLES), names=("ref", "cur"))
    assert found.reference == ("ref", 50_000) and found.current == ("cur", 50_000)
    assert found.warnings == (
        "column 'repaid' of cur holds label values the reference does not have ('unknown'): "
        "they count as negative",
        "column 'y_pred' of cur holds values that are not labels ('7'): they count as negative",
    )


def test_the_current_file_may_name_its_columns_differently(
    runner: FileDatabase, tmp_path: Path, analysis: pd.DataFrame
) -> None:
    renamed = analysis.rename(columns={"repaid": "truth", "y_pred_proba": "p", "y_pred": "hat"})
    path = _write(renamed, tmp_path / "renamed.parquet")
    spec = EstimateSpec(ROLES, RoleNames(label="truth", score="p", prediction="hat"))
    found = estimate_files(runner, REFERENCE, path, spec)
    expected = estimate_files(runner, REFERENCE, ANALYSIS, EstimateSpec(ROLES))
    assert found.prediction == "hat"
    assert _numbers(found) == _numbers(expected)


def test_chunks_by_day_leave_out_rows_without_a_time(
    runner: FileDatabase, tmp_path: Path, analysis: pd.DataFrame
) -> None:
    current = analysis.copy()
    current.loc[current.index % 50 == 0, "timestamp"] = pd.NaT
    path = _write(current, tmp_path / "timed.parquet")
    roles = RoleNames(label="repaid", score="y_pred_proba", timestamp="timestamp")
    found = estimate_files(
        runner, REFERENCE, path, EstimateSpec(roles, chunking=Chunking(period="day"))
    )
    assert found.warnings == (f"1,000 rows of {path} have no time in 'timestamp': left out",)
    timed = current[current.timestamp.notna()]
    days = timed.groupby(timed.timestamp.dt.floor("D"))
    assert [(pd.Timestamp(c.start), c.rows) for c in found.chunks] == [
        (day.tz_localize("UTC"), len(rows)) for day, rows in days
    ]
    for chunk, (_, rows) in zip(found.chunks, days, strict=True):
        predicted = rows.y_pred_proba >= 0.5
        realized = chunk.metrics["recall"].realized
        assert realized == pytest.approx(skm.recall_score(rows.repaid, predicted), abs=1e-12)
