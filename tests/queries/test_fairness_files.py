"""`load_file_by_attribute`: one read of a file, one table per sensitive column, each
equal to `load_file` with that column alone (CSV, Parquet and JSONL; prediction or score
with a threshold; weights; missing sensitive values), and its cells equal to pandas'."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from monitor.core.errors import InputError
from monitor.metrics.fairness.groups import MISSING, LabeledCells
from monitor.queries.fairness import FileTarget, load_file, load_file_by_attribute
from tests.metrics.fairness.test_fairness import COMPAS

ATTRIBUTES = ["race", "sex", "age_cat"]
TARGET = FileTarget("label_value", prediction="score")


@pytest.fixture(scope="module")
def compas() -> pd.DataFrame:
    frame = pd.read_csv(COMPAS)
    frame["w"] = np.random.default_rng(5).uniform(0.5, 2.0, len(frame))
    frame.loc[frame.index[:40], "sex"] = None
    return frame


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
@pytest.mark.parametrize(
    "target",
    [
        {"prediction": "score"},
        {"score": "score", "threshold": 0.5, "weight": "w"},
    ],
)
def test_each_table_equals_the_single_column_read(
    compas: pd.DataFrame, tmp_path: Path, suffix: str, target: dict[str, Any]
) -> None:
    path = tmp_path / f"compas{suffix}"
    if suffix == ".csv":
        compas.to_csv(path, index=False)
    elif suffix == ".parquet":
        compas.to_parquet(path)
    else:
        compas.to_json(path, orient="records", lines=True, double_precision=15)
    tables = load_file_by_attribute(path, FileTarget("label_value", **target), ATTRIBUTES)
    assert list(tables) == ATTRIBUTES
    for attribute, data in tables.items():
        alone = load_file(path, label="label_value", sensitive=[attribute], **target)
        assert data == alone, attribute
        assert isinstance(data, LabeledCells)
        groups = compas[attribute].fillna(MISSING)
        weight = compas["w"] if "weight" in target else pd.Series(1.0, index=compas.index)
        expected = weight.groupby(groups).sum()
        found: dict[str, float] = {}
        for key, w in zip(data.groups, data.weight, strict=True):
            found[key[0]] = found.get(key[0], 0.0) + w
        assert found == pytest.approx(expected.to_dict(), rel=1e-12)


def test_refusals_name_the_column(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="column 'religion' not found"):
        load_file_by_attribute(COMPAS, TARGET, ["race", "religion"])
    with pytest.raises(InputError, match="at least one sensitive feature"):
        load_file_by_attribute(COMPAS, TARGET, [])
