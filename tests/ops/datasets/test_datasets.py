"""Stored datasets: Parquet under uploads/, rows in the state store, audit, duplicates,
rename and delete, and analysis on hostile column names (real files, real SQLite and
DuckDB; expected numbers computed with pandas and plain Python over the raw rows)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from monitor.core.errors import InputError
from monitor.core.state import Actor, StateError, StateStore
from monitor.core.tabular import FileDatabase
from monitor.metrics.drift.report import compare
from monitor.metrics.fairness.audit import audit
from monitor.ops.datasets.analysis import dataset_relation, fairness_data
from monitor.ops.datasets.ingest import read_upload
from monitor.ops.datasets.library import (
    ColumnRoles,
    Dataset,
    DuplicateDataset,
    find_duplicate,
    get_dataset,
    list_datasets,
    rename_dataset,
)
from monitor.ops.datasets.storage import ORPHAN_AGE, delete_dataset, save_dataset, sweep_orphans
from monitor.queries.drift_profile import profiles
from monitor.queries.quality import quality_report

ACTOR = Actor("ana", verified=True)
LIMIT = 10 * 1024 * 1024
CSV = b"age,sex,y,pred\n30,F,1,1\n41,M,0,1\n52,F,1,0\n23,M,0,0\n"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Path, StateStore]]:
    data_dir = tmp_path / "data"
    state = StateStore.for_data_dir(data_dir)
    yield data_dir, state
    state.close()


def _save(
    store: tuple[Path, StateStore],
    data: bytes,
    name: str,
    role: str = "current",
    roles: ColumnRoles | None = None,
) -> Dataset:
    data_dir, state = store
    ingested = read_upload(data, f"{name}.csv", max_bytes=LIMIT)
    return save_dataset(
        state,
        data_dir,
        ingested,
        name=name,
        role=role,  # type: ignore[arg-type]
        actor=ACTOR,
        column_roles=roles or ColumnRoles(),
    )


def test_save_writes_parquet_and_registers_it(store: tuple[Path, StateStore]) -> None:
    data_dir, state = store
    roles = ColumnRoles(label="y", prediction="pred", sensitive=("sex",))
    dataset = _save(store, CSV, "  train 2024  ", "reference", roles)
    assert dataset.name == "train 2024"
    assert dataset.role == "reference" and dataset.rows == 4
    assert dataset.sha256 == hashlib.sha256(CSV).hexdigest()
    assert dataset.columns == (
        ("age", "numeric"),
        ("sex", "categorical"),
        ("y", "numeric"),
        ("pred", "numeric"),
    )
    assert dataset.column_roles == roles
    assert dataset.created_by == "ana" and dataset.created_verified
    assert dataset.path.parent == data_dir / "uploads"
    assert [p.name for p in (data_dir / "uploads").iterdir()] == [dataset.path.name]
    stored = pq.read_table(dataset.path).to_pandas()
    expected = pd.read_csv(io.BytesIO(CSV))
    pd.testing.assert_frame_equal(stored, expected, check_dtype=False)
    entry = state.audit_log(entity="dataset", entity_id=str(dataset.id))[0]
    assert entry.action == "create" and entry.actor == "ana" and entry.actor_verified
    assert entry.after["name"] == "train 2024" and entry.after["rows"] == 4
    assert list_datasets(state) == (dataset,)
    assert list_datasets(state, role="current") == ()
    assert [c.name for c in dataset.column_reports()] == ["age", "sex", "y", "pred"]


def test_same_file_twice_is_recognised(store: tuple[Path, StateStore]) -> None:
    _, state = store
    first = _save(store, CSV, "first")
    with pytest.raises(
        DuplicateDataset, match="already uploaded as 'first' \\(current\\) on "
    ) as info:
        _save(store, CSV, "second")
    assert info.value.existing == first
    as_reference = _save(store, CSV, "as reference", "reference")
    assert find_duplicate(state, first.sha256) == first
    assert find_duplicate(state, first.sha256, "reference") == as_reference
    assert find_duplicate(state, "0" * 64) is None


def test_rename_and_delete_are_audited(store: tuple[Path, StateStore]) -> None:
    data_dir, state = store
    dataset = _save(store, CSV, "old")
    _save(store, b"a\n1\n", "other")
    with pytest.raises(InputError, match="'other' already exists"):
        rename_dataset(state, "old", "other", ACTOR)
    renamed = rename_dataset(state, "old", "new 🧪 <i>name</i>", Actor("bo"))
    assert renamed.path == dataset.path and renamed.id == dataset.id
    entry = state.audit_log(entity="dataset", entity_id=str(dataset.id))[0]
    assert (entry.action, entry.actor, entry.actor_verified) == ("rename", "bo", False)
    assert (entry.before, entry.after) == ({"name": "old"}, {"name": "new 🧪 <i>name</i>"})
    with pytest.raises(InputError, match=r"no dataset named 'nwe 🧪 <i>name</i>' \(did you mean"):
        get_dataset(state, "nwe 🧪 <i>name</i>")
    delete_dataset(state, data_dir, "new 🧪 <i>name</i>", ACTOR)
    assert not dataset.path.exists()
    assert [d.name for d in list_datasets(state)] == ["other"]
    entry = state.audit_log(entity="dataset", entity_id=str(dataset.id))[0]
    assert entry.action == "delete" and entry.before["name"] == "new 🧪 <i>name</i>"
    assert sorted(p.suffix for p in (data_dir / "uploads").iterdir()) == [".parquet"]
    with pytest.raises(InputError, match="no dataset named"):
        delete_dataset(state, data_dir, "new 🧪 <i>name</i>", ACTOR)


def test_failed_insert_leaves_the_data_dir_as_it_was(store: tuple[Path, StateStore]) -> None:
    data_dir, state = store
    with state.transaction() as tx:
        tx.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON datasets BEGIN SELECT RAISE(ABORT, 'disk"
            " full'); END"
        )
    with pytest.raises(StateError, match="could not register the dataset: disk full"):
        _save(store, CSV, "doomed")
    assert not (data_dir / "uploads").exists()
    assert state.read("SELECT count(*) FROM datasets")[0][0] == 0
    assert state.read("SELECT count(*) FROM audit")[0][0] == 0
    with state.transaction() as tx:
        tx.execute("DROP TRIGGER refuse")
    _save(store, b"a\n1\n", "kept")
    with state.transaction() as tx:
        tx.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON datasets BEGIN SELECT RAISE(ABORT, 'no'); END"
        )
    before = sorted(p.name for p in (data_dir / "uploads").iterdir())
    with pytest.raises(StateError):
        _save(store, CSV, "doomed")
    assert sorted(p.name for p in (data_dir / "uploads").iterdir()) == before


def test_two_saves_under_one_name_at_once(store: tuple[Path, StateStore]) -> None:
    data_dir, state = store
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def save(rows: int) -> None:
        data = b"a\n" + b"".join(f"{i}\n".encode() for i in range(rows))
        ingested = read_upload(data, "a.csv", max_bytes=LIMIT)
        barrier.wait()
        try:
            save_dataset(state, data_dir, ingested, name="race", role="current", actor=ACTOR)
        except InputError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(n,)) for n in (3, 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 1 and "already exists" in str(errors[0])
    assert len(list_datasets(state)) == 1
    assert [p.name for p in (data_dir / "uploads").iterdir()] == [
        get_dataset(state, "race").path.name
    ]


def test_missing_stored_file_is_a_clear_error(store: tuple[Path, StateStore]) -> None:
    dataset = _save(store, CSV, "gone")
    dataset.path.unlink()
    with pytest.raises(InputError, match="stored file of dataset 'gone' is missing"):
        dataset_relation(FileDatabase(), dataset)


HOSTILE = {
    "label": 'the "label"',
    "prediction": "pred'); DROP TABLE datasets;--",
    "group": "<script>alert('g')</script>",
    "amount": "amount; 💶",
    "long": "l" * 300,
}


def _hostile_csv(rows: list[tuple[int, int, str, str, str]]) -> bytes:
    names = list(HOSTILE.values())
    header = ",".join('"' + n.replace('"', '""') + '"' for n in names)
    lines = [header] + [",".join(map(str, row)) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def test_hostile_names_work_in_drift_quality_and_fairness(store: tuple[Path, StateStore]) -> None:
    reference_rows = [(i % 2, (i // 2) % 2, "ab"[i % 3 == 0], str(i), "x") for i in range(60)]
    current_rows = [
        (i % 2, i % 2, "ab"[i % 4 == 0], "" if i % 5 == 0 else str(i * 2), "y") for i in range(80)
    ]
    roles = ColumnRoles(
        label=HOSTILE["label"], prediction=HOSTILE["prediction"], sensitive=(HOSTILE["group"],)
    )
    reference = _save(store, _hostile_csv(reference_rows), "ref", "reference", roles)
    current = _save(store, _hostile_csv(current_rows), "cur", "current", roles)
    runner = FileDatabase()
    ref, cur = dataset_relation(runner, reference), dataset_relation(runner, current)
    features = [HOSTILE["group"], HOSTILE["amount"], HOSTILE["long"]]
    assert [c.name for c in cur.features] == features
    assert {role: c.name for role, c in cur.targets.items()} == {
        "label": HOSTILE["label"],
        "prediction": HOSTILE["prediction"],
    }
    report = compare(*profiles(runner, ref, cur))
    assert [f.feature for f in report.features] == features
    assert report.reference_rows == 60 and report.current_rows == 80
    quality = quality_report(runner, ref, cur)
    missing = {f.feature: f.missing for f in quality.features}
    assert missing[HOSTILE["amount"]] == sum(1 for r in current_rows if r[3] == "")
    assert quality.missing_columns == () and quality.type_changes == ()
    groups = audit(fairness_data(current), min_group_size=1, min_class_count=0).groups
    for group in groups:
        members = [r for r in current_rows if r[2] == group.key[0]]
        selected = sum(1 for r in members if r[1] == 1) / len(members)
        assert group.count == len(members)
        assert group.metrics["selection_rate"] == pytest.approx(selected)
    runner.close()


def test_fairness_needs_its_roles(store: tuple[Path, StateStore]) -> None:
    plain = _save(store, CSV, "plain")
    with pytest.raises(InputError, match="has no label column"):
        fairness_data(plain)
    labelled = _save(store, CSV + b"60,F,1,1\n", "labelled", roles=ColumnRoles(label="y"))
    with pytest.raises(InputError, match="has no sensitive columns"):
        fairness_data(labelled)
    with pytest.raises(InputError, match="has no prediction or score column"):
        fairness_data(labelled, sensitive=["sex"])


def test_state_rows_match_the_files(store: tuple[Path, StateStore]) -> None:
    """Every row points at a file that exists and every file belongs to a row."""
    data_dir, state = store
    for name in ("a", "b", "c"):
        _save(store, CSV + name.encode() + b",F,1,1\n", name)
    delete_dataset(state, data_dir, "b", ACTOR)
    rows = {Path(r["path"]).name for r in state.read("SELECT path FROM datasets")}
    files = {p.name for p in (data_dir / "uploads").iterdir()}
    assert rows == files and len(files) == 2
    con = sqlite3.connect(data_dir / "state.sqlite")
    try:
        check = con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()
    assert check == "ok"


def test_a_save_sweeps_old_unregistered_files_only(tmp_path: Path) -> None:
    """What a killed save left behind (a file without a row) goes at the next save, once
    it is older than a save in flight can be; registered and young files stay."""
    data_dir = tmp_path / "data"
    state = StateStore.for_data_dir(data_dir)
    first = save_dataset(
        state,
        data_dir,
        read_upload(b"a,b\n1,2\n3,4\n", "first.csv", max_bytes=LIMIT),
        name="first",
        role="reference",
        actor=Actor("ann"),
    )
    uploads = data_dir / "uploads"
    old = uploads / "killed-save-0000.parquet"
    old.write_bytes(b"PAR1 left behind")
    stale = time.time() - ORPHAN_AGE.total_seconds() - 60
    os.utime(old, (stale, stale))
    os.utime(first.path, (stale, stale))  # old but registered: stays
    young = uploads / "in-flight.parquet.tmp"
    young.write_bytes(b"being written")
    assert sweep_orphans(state, data_dir, older_than=dt.timedelta(days=365)) == ()
    save_dataset(
        state,
        data_dir,
        read_upload(b"a,b\n5,6\n", "second.csv", max_bytes=LIMIT),
        name="second",
        role="current",
        actor=Actor("ann"),
    )
    assert not old.exists()
    assert young.exists() and first.path.exists()
    assert {d.name for d in list_datasets(state)} == {"first", "second"}
