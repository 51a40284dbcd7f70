"""Identifier and ignored columns of uploaded datasets: saved with the other roles, left
out of drift and data quality with identifier-like columns (`analysis.pair_relations`),
checked when saved. Real data (tests/data/compas_for_aequitas.csv); expected numbers
from pandas and scipy on the raw rows."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from monitor.core.errors import InputError
from monitor.core.state import Actor, StateStore
from monitor.core.tabular import FileDatabase
from monitor.metrics.drift.report import compare
from monitor.ops.datasets.analysis import pair_relations
from monitor.ops.datasets.ingest import read_upload
from monitor.ops.datasets.library import ColumnRoles, Dataset, get_dataset
from monitor.ops.datasets.storage import save_dataset
from monitor.queries.drift_profile import profiles
from monitor.queries.quality import quality_report
from tests.conftest import REPO_ROOT

ACTOR = Actor("ana", verified=True)
COMPAS = REPO_ROOT / "tests" / "data" / "compas_for_aequitas.csv"
ROLES = ColumnRoles(label="label_value", prediction="score", sensitive=("race", "sex"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Path, StateStore]]:
    data_dir = tmp_path / "data"
    state = StateStore.for_data_dir(data_dir)
    yield data_dir, state
    state.close()


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = pd.read_csv(COMPAS)
    in_reference = np.random.default_rng(5).random(len(raw)) < 0.3
    current = pd.concat([raw[~in_reference], raw[~in_reference].head(4)])  # 4 repeated ids
    return raw[in_reference].reset_index(drop=True), current.reset_index(drop=True)


def save(
    store: tuple[Path, StateStore], frame: pd.DataFrame, name: str, role: str, roles: ColumnRoles
) -> Dataset:
    data_dir, state = store
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    ingested = read_upload(buffer.getvalue().encode(), f"{name}.csv", max_bytes=10**8)
    return save_dataset(
        state,
        data_dir,
        ingested,
        name=name,
        role=role,  # type: ignore[arg-type]
        actor=ACTOR,
        column_roles=roles,
    )


def test_id_and_ignore_roles_are_saved_and_left_out(store: tuple[Path, StateStore]) -> None:
    reference, current = frames()
    roles = dataclasses.replace(ROLES, sensitive=("race",), ids=("entity_id",), ignore=("sex",))
    ref = save(store, reference, "ref", "reference", roles)
    cur = save(store, current, "cur", "current", roles)
    assert get_dataset(store[1], "cur").column_roles == roles
    runner = FileDatabase()
    try:
        pair = pair_relations(runner, ref, cur)
        report = compare(*profiles(runner, pair.reference, pair.current))
        quality = quality_report(runner, pair.reference, pair.current)
    finally:
        runner.close()
    assert [(e.column, e.reason) for e in pair.excluded] == [("entity_id", "id"), ("sex", "ignore")]
    assert [f.feature for f in report.features] == ["race", "age_cat"]
    categories = sorted(set(reference.race) | set(current.race))
    table = np.array([[(f.race == c).sum() for c in categories] for f in (reference, current)])
    race = next(f for f in report.features if f.feature == "race")
    assert race.stats["chisquare"] == pytest.approx(stats.chi2_contingency(table).statistic)
    assert [f.feature for f in quality.features] == ["race", "age_cat"]
    assert quality.duplicate_ids == len(current) - current.entity_id.nunique() == 4


def test_identifier_like_columns_are_left_out_unless_kept(store: tuple[Path, StateStore]) -> None:
    reference, current = frames()
    ref = save(store, reference, "ref", "reference", ROLES)
    cur = save(store, current, "cur", "current", ROLES)
    kept = save(
        store, current.head(-1), "kept", "current", dataclasses.replace(ROLES, keep_ids=True)
    )
    runner = FileDatabase()
    try:
        pair = pair_relations(runner, ref, cur)
        keeping = pair_relations(runner, ref, kept)
        report = compare(*profiles(runner, keeping.reference, keeping.current))
    finally:
        runner.close()
    assert [(e.column, e.reason) for e in pair.excluded] == [("entity_id", "identifier")]
    assert pair.excluded[0].detail == (
        f"unique per row in the reference ({len(reference):,} rows): treated as an identifier"
    )
    assert [c.name for c in pair.current.features] == ["race", "sex", "age_cat"]
    assert keeping.excluded == ()
    entity = next(f for f in report.features if f.feature == "entity_id")
    ks = stats.ks_2samp(reference.entity_id, current.head(-1).entity_id)
    assert entity.stats["ks"] == pytest.approx(ks.statistic, rel=1e-12)


def test_roles_are_checked_when_saved(store: tuple[Path, StateStore]) -> None:
    reference, _ = frames()
    cases = {
        "identifier column 'entityid' is not in the dataset (did you mean 'entity_id'?)": (
            ColumnRoles(ids=("entityid",))
        ),
        "column 'race' cannot be an identifier: it has another role": dataclasses.replace(
            ROLES, ids=("race",)
        ),
        "column 'score' cannot be ignored: it has another role": dataclasses.replace(
            ROLES, ignore=("score",)
        ),
        "column 'age_cat' cannot be ignored: it has another role": ColumnRoles(
            ids=("age_cat",), ignore=("age_cat",)
        ),
    }
    for message, roles in cases.items():
        with pytest.raises(InputError) as raised:
            save(store, reference, "bad", "reference", roles)
        assert str(raised.value) == message


def test_records_saved_before_the_new_roles_read_as_none(store: tuple[Path, StateStore]) -> None:
    reference, _ = frames()
    saved = save(store, reference, "old", "reference", ROLES)
    _, state = store
    with state.transaction() as tx:
        tx.execute(
            "UPDATE datasets SET column_roles = ? WHERE id = ?",
            ('{"label": "label_value", "prediction": "score", "score": null, '
             '"sensitive": ["race", "sex"]}', saved.id),
        )  # fmt: skip
    assert get_dataset(state, "old").column_roles == ROLES
