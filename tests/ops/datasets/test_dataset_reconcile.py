"""Uploaded datasets read two ways (issue 13): a CSV reference against a Parquet current
whose booleans, numbers and dates are typed differently gives the statistics of the same
data uploaded as CSV on both sides (checked with scipy), and the Datasets page's check
before saving names the columns read two ways as the saved pair does."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial import distance

from monitor.core.state import StateStore
from monitor.core.tabular import FileDatabase
from monitor.metrics.drift.report import DriftReport
from monitor.ops.datasets.analysis import pair_relations, upload_schema
from monitor.ops.datasets.ingest import Ingested, read_upload
from monitor.ops.datasets.library import ColumnRoles, Dataset
from monitor.ops.datasets.storage import save_dataset
from monitor.queries.drift import drift_between
from tests.ops.datasets.test_datasets import ACTOR, LIMIT, store
from tests.queries.test_drift_reconcile import assert_same

__all__ = ["store"]  # the fixture, shared with the other dataset tests


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(21)
    ref = pd.DataFrame(
        {
            "holiday": np.where(rng.random(400) < 0.25, "Yes", "No"),
            "visits": rng.poisson(5.0, 400),
            "day": pd.date_range("2023-01-01", periods=400, freq="D").strftime("%Y-%m-%d"),
        }
    )
    visits = rng.poisson(5.5, 300).astype(str).astype(object)
    visits[[3, 50, 99]] = "n/a"  # a few text values in a number column
    cur = pd.DataFrame(
        {
            "holiday": rng.random(300) < 0.31,
            "visits": visits,
            "day": pd.date_range("2024-01-01", periods=300, freq="D").strftime("%Y-%m-%d"),
        }
    )
    return ref, cur


def as_csv(frame: pd.DataFrame) -> pd.DataFrame:
    """The same data as a CSV writer spells it: booleans as Yes/No, as in the reference."""
    return frame.assign(holiday=np.where(frame["holiday"], "Yes", "No"))


def upload(frame: pd.DataFrame, name: str) -> Ingested:
    buffer = io.BytesIO()
    if name.endswith(".csv"):
        buffer.write(frame.to_csv(index=False).encode())
    else:
        frame.to_parquet(buffer)
    return read_upload(buffer.getvalue(), name, max_bytes=LIMIT)


def save(store: tuple[Path, StateStore], ingested: Ingested, name: str, role: str) -> Dataset:
    data_dir, state = store
    return save_dataset(
        state,
        data_dir,
        ingested,
        name=name,
        role=role,  # type: ignore[arg-type]
        actor=ACTOR,
        column_roles=ColumnRoles(),
    )


def drift(reference: Dataset, current: Dataset) -> tuple[DriftReport, tuple[str, ...]]:
    runner = FileDatabase()
    try:
        pair = pair_relations(runner, reference, current)
        notes = tuple(n.note for n in pair.reference.schema)
        return drift_between(runner, pair.reference, pair.current), notes
    finally:
        runner.close()


def test_csv_reference_against_parquet_current(store: tuple[Path, StateStore]) -> None:
    ref, cur = frames()
    reference = save(store, upload(ref, "ref.csv"), "ref", "reference")
    parquet = upload(cur, "cur.parquet")
    assert {c.name: c.inferred_type for c in parquet.columns} == {
        "holiday": "boolean",
        "visits": "categorical",
        "day": "text",
    }
    mixed, notes = drift(reference, save(store, parquet, "cur", "current"))
    both_csv, csv_notes = drift(
        reference, save(store, upload(as_csv(cur), "cur.csv"), "c", "current")
    )
    assert [f.feature for f in mixed.features] == ["holiday", "visits"]
    assert_same(mixed, both_csv)
    found = {f.feature: f for f in mixed.features}
    table = np.array(
        [
            [int((ref["holiday"] == "No").sum()), int((ref["holiday"] == "Yes").sum())],
            [int((~cur["holiday"]).sum()), int(cur["holiday"].sum())],
        ]
    )
    assert found["holiday"].stats["chisquare"] == pytest.approx(
        stats.chi2_contingency(table).statistic, rel=1e-12
    )
    assert found["holiday"].stats["jensenshannon"] == pytest.approx(
        distance.jensenshannon(table[0], table[1], base=2), abs=1e-12
    )
    numbers = pd.to_numeric(cur["visits"], errors="coerce").dropna()
    assert found["visits"].current_count == len(numbers) == 297
    assert found["visits"].stats["ks"] == pytest.approx(
        stats.ks_2samp(ref["visits"], numbers).statistic, abs=1e-12
    )
    # Uploads keep Yes/No as text (only true/false is typed boolean); the CSV upload reads
    # visits as numbers, its 'n/a' missing.
    assert csv_notes == (
        "holiday: read as text from dataset 'ref' and dataset 'c'; compared as booleans (Yes/No)",
    )
    assert notes == (
        "holiday: read as text from dataset 'ref' and boolean from dataset 'cur'; "
        "compared as booleans (Yes/No)",
        "visits: read as integer from dataset 'ref' and text from dataset 'cur'; compared as "
        "numbers; 3 of 300 values in dataset 'cur' are not numbers (e.g. 'n/a') and count "
        "as missing",
        "day: read as timestamp from dataset 'ref' and text from dataset 'cur'; "
        "dates and times are not analysed",
    )


def test_the_check_before_saving_names_the_same_columns() -> None:
    ref, cur = frames()
    notes = upload_schema(upload(ref, "ref.csv"), upload(cur, "cur.parquet"))
    assert [(n.column, n.resolved) for n in notes] == [
        ("holiday", "boolean"),
        ("visits", "number"),
        ("day", "datetime"),
    ]
    assert notes[0].note == (
        "holiday: read as text from ref.csv and boolean from cur.parquet; "
        "compared as booleans (Yes/No)"
    )
