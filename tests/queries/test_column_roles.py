"""The identifier rule of `monitor.queries.column_roles`, decided in DuckDB.

Each case writes a reference and a current Parquet file and compares the decision with
the rule applied by pandas to the raw rows (unique per row = as many distinct values as
rows); the detection must only run aggregate SQL (count DISTINCT), never fetch rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from monitor.core.tabular import FileDatabase, file_relation
from monitor.queries import column_roles
from monitor.queries.column_roles import ID_MIN_ROWS, ID_REFERENCE_ROWS, RoleNames


class SpyRunner(FileDatabase):
    """A FileDatabase that records the SQL it runs and refuses to fetch columns."""

    def __init__(self) -> None:
        super().__init__()
        self.sql: list[str] = []

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        self.sql.append(sql)
        return super().execute(sql, params)

    def fetch_arrays(self, sql: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        raise AssertionError("identifier detection fetched rows: " + sql)


def unique_per_row(column: pd.Series) -> bool:
    return bool(column.notna().all() and column.nunique() == len(column))


def expected(reference: pd.DataFrame, current: pd.DataFrame, name: str) -> bool:
    """The documented rule, on the raw rows."""
    column = reference[name]
    id_like = pd.api.types.is_string_dtype(column) or pd.api.types.is_integer_dtype(column)
    if not id_like or len(reference) < ID_MIN_ROWS or not unique_per_row(column):
        return False
    return len(reference) >= ID_REFERENCE_ROWS or unique_per_row(current[name])


def frames(n_ref: int, n_cur: int, *, repeat_current: bool = False) -> tuple[pd.DataFrame, ...]:
    rng = np.random.default_rng(n_ref + n_cur)

    def side(n: int, start: int, repeat: bool) -> pd.DataFrame:
        ids = np.arange(start, start + n)
        if repeat:
            ids[-1] = ids[0]
        return pd.DataFrame(
            {
                "entity_id": ids,
                "key": [f"k{i}" for i in ids],
                "amount": rng.normal(0, 1, n),  # unique floats: not an identifier
                "city": rng.choice(["oslo", "rome", "lima"], n),
                "code": ids * 1.5,  # unique but decimal
            }
        )

    return side(n_ref, 0, False), side(n_cur, 10**6, repeat_current)


CASES = {
    "both sides unique, small reference": (500, 300, False),
    "current repeats, small reference": (500, 300, True),
    "current repeats, large reference": (ID_REFERENCE_ROWS, 300, True),
    "too few rows": (ID_MIN_ROWS - 1, ID_MIN_ROWS - 1, False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_identifiers_follow_the_rule(case: str, tmp_path: Path) -> None:
    n_ref, n_cur, repeat = CASES[case]
    reference, current = frames(n_ref, n_cur, repeat_current=repeat)
    reference.to_parquet(tmp_path / "r.parquet")
    current.to_parquet(tmp_path / "c.parquet")
    runner = SpyRunner()
    try:
        ref = file_relation(runner, tmp_path / "r.parquet")
        cur = file_relation(runner, tmp_path / "c.parquet")
        runner.sql.clear()
        found = column_roles.identifiers(runner, ref, cur)
        queries = list(runner.sql)
        ref2, cur2, excluded = column_roles.split_columns(runner, ref, cur, RoleNames())
    finally:
        runner.close()
    names = {e.column for e in found}
    assert names == {c for c in reference.columns if expected(reference, current, c)}
    assert all("count(DISTINCT" in sql for sql in queries) and len(queries) <= 2
    assert {e.column for e in excluded} == names
    assert names.isdisjoint(c.name for c in (*ref2.features, *cur2.features))
    if case == "both sides unique, small reference":
        assert names == {"entity_id", "key"}
        assert found[0].detail == "unique per row in both tables: treated as an identifier"
    if case == "current repeats, large reference":
        assert names == {"entity_id", "key"}


def test_a_missing_value_or_a_repeat_is_not_an_identifier(tmp_path: Path) -> None:
    reference, current = frames(ID_REFERENCE_ROWS, 50)
    reference["key"] = reference["key"].where(reference.index != 3)  # one missing value
    reference["entity_id"] = reference["entity_id"].where(reference.index != 4, 5)  # a repeat
    reference.to_parquet(tmp_path / "r.parquet")
    current.to_parquet(tmp_path / "c.parquet")
    runner = FileDatabase()
    try:
        ref = file_relation(runner, tmp_path / "r.parquet")
        cur = file_relation(runner, tmp_path / "c.parquet")
        assert column_roles.identifiers(runner, ref, cur) == ()
        kept = column_roles.identifiers(runner, ref, cur, skip=("entity_id",))
    finally:
        runner.close()
    assert kept == ()


def test_one_id_column_is_the_relations_id(tmp_path: Path) -> None:
    reference, current = frames(200, 100)
    reference.to_parquet(tmp_path / "r.parquet")
    current.to_parquet(tmp_path / "c.parquet")
    runner = FileDatabase()
    try:
        ref = file_relation(runner, tmp_path / "r.parquet")
        cur = file_relation(runner, tmp_path / "c.parquet")
        roles = RoleNames(ids=("entity_id",), ignore=("city",))
        ref2, cur2, excluded = column_roles.split_columns(runner, ref, cur, roles, detect=False)
    finally:
        runner.close()
    assert [c.name for c in ref2.features] == ["key", "amount", "code"]
    assert ref2.id_alias == ref.feature("entity_id").alias  # type: ignore[union-attr]
    assert [(e.column, e.reason) for e in excluded] == [("entity_id", "id"), ("city", "ignore")]
    assert ref2.cache_key != ref.cache_key  # cached profiles are per feature set
    assert cur2.id_alias is not None


def test_closest_names_and_conflicts() -> None:
    names = ["entity_id", "label_value", "score", "race"]
    assert column_roles.closest("entityid", names) == "entity_id"
    assert column_roles.closest("LABEL", names) == "label_value"
    assert column_roles.closest("zzzz", names) is None
    with pytest.raises(Exception, match=r"--label: column 'lable' not found in f.csv \(closest"):
        column_roles.check_names(RoleNames(label="lable"), names, "f.csv")
    with pytest.raises(Exception, match="'race' is both the label and the id column"):
        column_roles.check_names(RoleNames(label="race", ids=("race",)), names, "f.csv")
