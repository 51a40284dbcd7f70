"""One decision per drift verdict (issue 12): a row's status is its verdict, prediction
drift reads both outputs, and p-values are written by one function; numbers against
scipy on the same data."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from monitor.core.config import ModelConfig
from monitor.core.tabular import FileDatabase, file_relation
from monitor.metrics.drift.pvalue import format_p_value
from monitor.metrics.drift.report import DRIFTED, JUDGED, OK
from monitor.metrics.drift.targets import target_verdict
from monitor.queries.drift import target_drift
from tests.metrics.drift.test_drift import by_name, compare_files, write


@pytest.fixture
def db() -> Iterator[FileDatabase]:
    database = FileDatabase()
    yield database
    database.close()


def test_a_rows_status_is_its_verdict(db: FileDatabase, tmp_path: Path) -> None:
    """Contradiction 2: "drifted" ticked with status "ok" cannot happen any more."""
    rng = np.random.default_rng(3)
    n = 4000
    ref = {
        "shifted": rng.normal(0, 1, n),
        "same": rng.normal(0, 1, n),
        "cat": rng.choice(["a", "b", "c"], n),
        "few": np.where(np.arange(n) < 3, 1.0, np.nan),
    }
    cur = {
        "shifted": rng.normal(0.5, 1, n),
        "same": rng.normal(0, 1, n),
        "cat": rng.choice(["a", "b", "c", "new"], n, p=[0.3, 0.3, 0.2, 0.2]),
        "few": np.where(np.arange(n) < 3, 1.0, np.nan),
    }
    report = compare_files(
        db, write(tmp_path / "r.parquet", ref), write(tmp_path / "c.parquet", cur)
    )
    found = by_name(report)
    assert (found["shifted"].status, found["shifted"].drifted) == (DRIFTED, True)
    assert (found["cat"].status, found["cat"].drifted) == (DRIFTED, True)
    assert (found["same"].status, found["same"].drifted) == (OK, False)
    assert found["few"].status == "not enough data" and not found["few"].drifted
    for f in report.features:
        assert f.drifted == (f.status == DRIFTED) and not (f.drifted and f.status == OK)
    assert [f.feature for f in report.evaluated] == [
        f.feature for f in report.features if f.status in JUDGED
    ]
    assert report.share_drifted == pytest.approx(2 / 3)
    expected = stats.wasserstein_distance(ref["shifted"], cur["shifted"]) / np.std(ref["shifted"])
    assert found["shifted"].effect_size == pytest.approx(expected, rel=1e-9)


def test_prediction_drift_is_a_drifted_prediction_or_probability(
    db: FileDatabase, tmp_path: Path
) -> None:
    """Contradiction 3: a stable prediction with a drifted probability is prediction drift."""
    rng = np.random.default_rng(5)
    n = 5000
    ref_p = rng.beta(2, 5, n)
    cur_p = rng.beta(2.6, 5, n)
    ref_y = (rng.random(n) < 0.3).astype(float)
    columns = {"x": rng.normal(size=n), "label": ref_y}
    model = ModelConfig("m", task="binary")
    ref = write(tmp_path / "r.parquet", columns | {"prediction": ref_y, "probability": ref_p})
    cur = write(
        tmp_path / "c.parquet",
        columns | {"prediction": rng.permutation(ref_y), "probability": cur_p},
    )
    targets = target_drift(
        db, file_relation(db, ref, model=model), file_relation(db, cur, model=model), task="binary"
    )
    rows = by_name(targets)
    assert not rows["prediction"].drifted and rows["probability"].drifted
    verdict = target_verdict(targets, "prediction")
    assert verdict.tested and verdict.drifted and verdict.causes == ("probability",)
    label = target_verdict(targets, "label")
    assert label.tested and not label.drifted
    w1 = stats.wasserstein_distance(ref_p, cur_p) / np.std(ref_p)
    assert rows["probability"].effect_size == pytest.approx(w1, rel=1e-9)
    ks = stats.ks_2samp(ref_p, cur_p)
    assert rows["probability"].stats["ks_p_value"] == pytest.approx(ks.pvalue, rel=1e-6)


def test_untested_targets_give_no_verdict(db: FileDatabase, tmp_path: Path) -> None:
    model = ModelConfig("m", task="binary")
    ref = write(tmp_path / "r.parquet", {"x": np.arange(50.0), "label": np.arange(50) % 2 * 1.0})
    cur = write(tmp_path / "c.parquet", {"x": np.arange(50.0), "label": np.full(50, np.nan)})
    targets = target_drift(
        db, file_relation(db, ref, model=model), file_relation(db, cur, model=model), task="binary"
    )
    label = target_verdict(targets, "label")
    assert not label.tested and not label.drifted
    assert [f.status for f in label.untested] == ["no values in current"]
    assert not target_verdict(targets, "prediction").tested


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.0, "< 1e-300"),
        (1e-320, "< 1e-300"),
        (1.6724553579721828e-39, "1.67e-39"),
        (1.7811635157210577e-59, "1.78e-59"),
        (0.000123456, "0.000123"),
        (0.03066380071491138, "0.0307"),
        (0.4317301267126582, "0.432"),
        (1.0, "1"),
        (math.nan, "n/a"),
    ],
)
def test_p_values_are_written_with_three_significant_digits(p: float, text: str) -> None:
    """Contradiction 5: never a run of forty zeros."""
    assert format_p_value(p) == text


def test_a_tiny_scipy_p_value_reads_back_to_three_digits() -> None:
    rng = np.random.default_rng(11)
    a, b = rng.normal(0, 1, 3000), rng.normal(0.3, 1, 3000)
    p = float(stats.ks_2samp(a, b).pvalue)
    assert 1e-300 < p < 1e-10
    written = format_p_value(p)
    assert "e-" in written and len(written) <= 9 and "0000" not in written
    assert float(written) == pytest.approx(p, rel=5e-3)
