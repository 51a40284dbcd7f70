"""NannyML's synthetic data sets (tests/data/nannyml, see its README.md) as the estimate
tests read them: rows in id order, cut into NannyML's chunks."""

from __future__ import annotations

import pandas as pd

from tests.conftest import REPO_ROOT

NANNYML = REPO_ROOT / "tests" / "data" / "nannyml"
CHUNK_ROWS = 6000
"""NannyML's docs chunk the multiclass and regression data by 6,000 rows."""


def read_nannyml(name: str) -> pd.DataFrame:
    """`name`: e.g. "multiclass_reference", "regression_analysis"; rows in id order."""
    frame = pd.read_parquet(NANNYML / f"{name}.parquet")
    return frame.sort_values("id").reset_index(drop=True)


def chunks(frame: pd.DataFrame, rows: int = CHUNK_ROWS) -> list[pd.DataFrame]:
    """Consecutive chunks of `rows` rows."""
    return [frame.iloc[i : i + rows] for i in range(0, len(frame), rows)]
