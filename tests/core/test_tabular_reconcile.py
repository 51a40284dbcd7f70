"""Two relations reconciled in DuckDB (monitor.core.tabular_reconcile): the facts counted
in SQL, the casts, what leaves the features, the notes; checked against pandas."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from monitor.core.tabular import FileDatabase, Relation, file_relation, select_sql
from monitor.core.tabular_reconcile import reconcile
from tests.core.test_reconcile import text_facts


@pytest.fixture
def db() -> Iterator[FileDatabase]:
    database = FileDatabase()
    yield database
    database.close()


def column(db: FileDatabase, relation: Relation, name: str) -> list[object]:
    found = relation.feature(name)
    assert found is not None
    rows = db.execute(select_sql([found.alias], relation.sql), relation.params)
    return [r[0] for r in rows]


def types(relation: Relation) -> dict[str, str]:
    return {c.name: c.sql_type for c in relation.features}


def test_csv_booleans_dates_and_numbers_meet_parquet_text(db: FileDatabase, tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "holiday": ["Yes", "No", "No", "Yes"] * 25,
            "day": [f"2024-01-{d:02d}" for d in range(1, 26)] * 4,
            "visits": [str(i) for i in range(97)] + ["n/a", "?", "n/a"],
        }
    )
    frame.iloc[:97].astype({"visits": int}).to_csv(tmp_path / "ref.csv", index=False)
    frame.to_parquet(tmp_path / "cur.parquet")
    ref = file_relation(db, tmp_path / "ref.csv")
    cur = file_relation(db, tmp_path / "cur.parquet")
    assert types(ref) == {"holiday": "BOOLEAN", "visits": "DOUBLE"}
    assert types(cur) == {"holiday": "VARCHAR", "day": "VARCHAR", "visits": "VARCHAR"}
    ref2, cur2 = reconcile(db, ref, cur)
    assert types(ref2) == {"holiday": "BOOLEAN", "visits": "DOUBLE"} == types(cur2)
    assert column(db, cur2, "holiday") == [v == "Yes" for v in frame["holiday"]]
    expected = pd.to_numeric(frame["visits"], errors="coerce")
    assert column(db, cur2, "visits") == [None if pd.isna(v) else float(v) for v in expected]
    assert dict(ref2.unsupported) == {"day": "DATE"} and dict(cur2.unsupported) == {"day": "DATE"}
    notes = {n.column: n.note for n in ref2.schema}
    assert ref2.schema == cur2.schema and ref2.reconciled and cur2.reconciled
    missing = int(expected.isna().sum())
    example = min(v for v in frame["visits"] if not v.isdigit())
    assert notes == {
        "holiday": f"holiday: read as boolean from {ref.label} and text from {cur.label}; "
        "compared as booleans (Yes/No)",
        "day": f"day: read as date from {ref.label} and text from {cur.label}; "
        "dates and times are not analysed",
        "visits": f"visits: read as integer from {ref.label} and text from {cur.label}; "
        f"compared as numbers; {missing} of 100 values in {cur.label} are not numbers "
        f"(e.g. {example!r}) and count as missing",
    }
    assert text_facts(list(frame["visits"])).numbers == 100 - missing
    assert reconcile(db, ref2, cur2) == (ref2, cur2)


def test_incomparable_columns_leave_both_sides(db: FileDatabase, tmp_path: Path) -> None:
    pd.DataFrame({"x": [1.5, 2.5] * 10, "k": range(20)}).to_parquet(tmp_path / "a.parquet")
    pd.DataFrame({"x": ["left", "right"] * 10, "k": range(20)}).to_parquet(tmp_path / "b.parquet")
    ref, cur = reconcile(
        db, file_relation(db, tmp_path / "a.parquet"), file_relation(db, tmp_path / "b.parquet")
    )
    assert [c.name for c in ref.features] == ["k"] == [c.name for c in cur.features]
    assert ref.unsupported == () == cur.unsupported
    (note,) = ref.schema
    assert note.incomparable and note.column == "x"
    assert note.detail == (
        f"numbers in {ref.label}; text in {cur.label} "
        f"(only 0% of the values in {cur.label} read as numbers)"
    )


def test_text_on_both_sides_is_read_as_a_csv_reader_would(db: FileDatabase, tmp_path: Path) -> None:
    frame = pd.DataFrame({"city": ["oslo", "rome"] * 10, "flag": ["t", "F"] * 10})
    frame.to_parquet(tmp_path / "a.parquet")
    frame.to_parquet(tmp_path / "b.parquet")
    ref, cur = reconcile(
        db, file_relation(db, tmp_path / "a.parquet"), file_relation(db, tmp_path / "b.parquet")
    )
    assert types(cur) == {"city": "VARCHAR", "flag": "BOOLEAN"}
    assert column(db, cur, "city") == list(frame["city"])
    assert column(db, cur, "flag") == [v == "t" for v in frame["flag"]]
    (note,) = ref.schema  # the city, text on both sides and compared as such, has none
    assert note.note == (
        f"flag: read as text from {ref.label} and {cur.label}; compared as booleans (t/F)"
    )


def test_booleans_against_zero_one_numbers_and_other_text(db: FileDatabase, tmp_path: Path) -> None:
    pd.DataFrame({"b": [True, False] * 10, "c": [True, False] * 10}).to_parquet(
        tmp_path / "a.parquet"
    )
    pd.DataFrame({"b": [1, 0, 0, 1] * 5, "c": ["yes", "NO", "maybe", "yes"] * 5}).to_csv(
        tmp_path / "b.csv", index=False
    )
    _, cur = reconcile(
        db, file_relation(db, tmp_path / "a.parquet"), file_relation(db, tmp_path / "b.csv")
    )
    assert column(db, cur, "b") == [True, False, False, True] * 5
    assert column(db, cur, "c") == ["true", "false", "maybe", "true"] * 5
    assert {n.column: n.resolved for n in cur.schema} == {"b": "boolean", "c": "category"}
