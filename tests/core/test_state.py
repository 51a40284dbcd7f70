"""The SQLite state store: schema, transactions, concurrency and the audit trail."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from monitor.core.state import SCHEMA_VERSION, Actor, StateError, StateStore, record_audit

TABLES = {
    "audit",
    "alerts",
    "silences",
    "notifications",
    "model_aliases",
    "version_notes",
    "rollbacks",
    "datasets",
}


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as con:
        return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_schema_is_created_once_in_wal_mode(tmp_path: Path) -> None:
    store = StateStore.for_data_dir(tmp_path)
    path = tmp_path / "state.sqlite"
    assert _tables(path) >= TABLES
    store.close()
    again = StateStore.for_data_dir(tmp_path)  # safe to open twice
    again.close()
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_newer_schema_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with sqlite3.connect(path) as con:
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StateError, match="newer version of monitor"):
        StateStore(path)


def test_an_error_inside_a_transaction_leaves_nothing_behind(tmp_path: Path) -> None:
    store = StateStore.for_data_dir(tmp_path)
    with pytest.raises(RuntimeError), store.transaction() as tx:
        record_audit(tx, actor=Actor("ann"), action="ack", entity="alert", entity_id=1)
        raise RuntimeError("boom")
    assert store.audit_log() == ()
    with store.transaction() as tx:
        record_audit(
            tx,
            actor=Actor("ann"),
            action="ack",
            entity="alert",
            entity_id=1,
            before={"state": "firing"},
            after={"state": "firing", "acknowledged_by": "ann"},
            note="<script>alert(1)</script>",
        )
    (entry,) = store.audit_log()
    assert (entry.actor, entry.actor_verified, entry.action, entry.entity_id) == (
        "ann",
        False,
        "ack",
        "1",
    )
    assert entry.before == {"state": "firing"}
    assert entry.after["acknowledged_by"] == "ann"
    assert entry.note == "<script>alert(1)</script>"
    assert store.audit_log(entity="alert", entity_id="2") == ()


def test_an_empty_actor_name_is_refused() -> None:
    with pytest.raises(StateError, match="name must not be empty"):
        Actor("   ")


def _open_and_write(directory: str, worker: int, rows: int) -> None:
    store = StateStore.for_data_dir(Path(directory))
    for i in range(rows):
        with store.transaction() as tx:
            record_audit(tx, actor=Actor(f"w{worker}"), action="write", entity="test", entity_id=i)
    store.close()


def test_processes_creating_and_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    """Four processes open a fresh database at the same moment and write 50 rows each."""
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_open_and_write, args=(str(tmp_path), w, 50)) for w in range(4)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
        assert process.exitcode == 0
    store = StateStore.for_data_dir(tmp_path)
    entries = store.audit_log(entity="test", limit=1000)
    assert len(entries) == 200
    by_worker = {(e.actor, e.entity_id) for e in entries}
    assert len(by_worker) == 200
    with sqlite3.connect(tmp_path / "state.sqlite") as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_threads_share_one_store_safely(tmp_path: Path) -> None:
    import threading

    store = StateStore.for_data_dir(tmp_path)

    def write(worker: int) -> None:
        for i in range(25):
            with store.transaction() as tx:
                record_audit(
                    tx, actor=Actor(f"t{worker}"), action="write", entity="thread", entity_id=i
                )

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.audit_log(entity="thread", limit=1000)) == 200
    store.close()


def test_an_unwritable_location_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StateError, match="cannot open the state database"):
        StateStore(blocker / "state.sqlite")
