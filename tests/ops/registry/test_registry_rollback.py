"""Rollback marks: lifecycle with audit rows, refusals, the exported file, and two
processes marking the same model at once (a StateStore on a temporary path per test,
the shared demo logs)."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from monitor.core.config import Settings, Thresholds, load_settings
from monitor.core.errors import InputError
from monitor.core.state import Actor, StateStore, to_text, utc_now
from monitor.core.store import LogStore
from monitor.ops.registry import rollback, rollback_file
from monitor.ops.registry import versions as registry
from monitor.ops.registry.health import check
from monitor.ops.registry.rollback_evidence import EVIDENCE_SPAN, gather
from monitor.ops.registry.rollback_marks import marks_document
from monitor.ops.registry.version_metrics import model_info
from monitor.ops.registry.versions import Conflict
from tests.registry_support import insert_alert

CREDIT = "credit-risk"
ANN, BOB = Actor("ann"), Actor("bob", verified=True)


@pytest.fixture(scope="module")
def store(demo_dir: Path) -> LogStore:
    return LogStore(demo_dir)


@pytest.fixture(scope="module")
def settings(demo_dir: Path) -> Settings:
    return load_settings(demo_dir / "monitor.toml", env={})


@pytest.fixture
def state(tmp_path: Path) -> StateStore:
    return StateStore(tmp_path / "state.sqlite")


def exported(state: StateStore) -> Any:
    return json.loads(rollback_file.export_path(state).read_text(encoding="utf-8"))


def open_document(state: StateStore) -> Any:
    return json.loads(json.dumps(marks_document(rollback.marks(state))))


def test_mark_then_cancel_with_audit_and_export(
    store: LogStore, settings: Settings, state: StateStore
) -> None:
    registry.set_alias(state, store, CREDIT, "v3", actor=ANN)
    alert = insert_alert(state, CREDIT)
    mark = rollback.mark(
        state, store, settings, CREDIT, reason=" v3 loses accuracy ", actor=ANN, alert_ids=[alert]
    )
    # default target: the last healthy version before the champion v3
    assert (mark.from_version, mark.to_version, mark.status) == ("v3", "v2", "requested")
    assert (mark.reason, mark.alert_ids, mark.requested_by) == (
        "v3 loses accuracy",
        (alert,),
        "ann",
    )
    assert not mark.requested_verified and mark.closed_at is None
    evidence = mark.evidence  # about v3, on its own traffic; then v2 and the two side by side
    assert (evidence["version"], evidence["verdict"], evidence["target"]["version"]) == (
        "v3",
        "reject",
        "v2",
    )
    compared = evidence["comparison"]
    assert (compared["baseline"]["version"], compared["candidate"]["version"]) == ("v2", "v3")
    assert compared["same_period"] is True and compared["verdict"] == "reject"
    assert rollback.marks(state) == (mark,) and rollback.get(state, mark.id) == mark
    assert exported(state) == open_document(state)
    assert exported(state)["rollbacks"][0]["id"] == mark.id

    closed = rollback.cancel(state, mark.id, actor=BOB, note="false alarm")
    assert (closed.status, closed.closed_by, closed.closed_verified) == ("cancelled", "bob", True)
    assert closed.close_note == "false alarm" and closed.closed_at is not None
    assert rollback.marks(state) == ()
    assert rollback.marks(state, status="cancelled") == (closed,)
    assert exported(state) == {"rollbacks": []}
    assert registry.current_version(state, store, settings, CREDIT) == ("v3", "alias")

    entries = state.audit_log(entity="rollback", entity_id=str(mark.id))
    assert [(e.action, e.actor, e.actor_verified, e.note) for e in entries] == [
        ("rollback.cancel", "bob", True, "false alarm"),
        ("rollback.mark", "ann", False, "v3 loses accuracy"),
    ]
    assert (entries[0].before, entries[0].after) == (
        {"status": "requested"},
        {"status": "cancelled"},
    )
    assert entries[1].after == {
        "model_id": CREDIT,
        "from_version": "v3",
        "to_version": "v2",
        "status": "requested",
        "alert_ids": [alert],
    }
    assert [e.action for e in registry.history(state, CREDIT)] == [
        "rollback.cancel",
        "rollback.mark",
        "alias.set",
    ]


def test_apply_moves_the_champion_alias(
    store: LogStore, settings: Settings, state: StateStore
) -> None:
    registry.set_alias(state, store, CREDIT, "v3", actor=ANN)
    mark = rollback.mark(state, store, settings, CREDIT, to_version="v1", reason="r", actor=ANN)
    applied = rollback.apply(state, mark.id, actor=BOB)
    assert (applied.status, applied.closed_by) == ("applied", "bob")
    assert registry.current_version(state, store, settings, CREDIT) == ("v1", "alias")
    actions = [(e.action, e.entity) for e in registry.history(state, CREDIT)]
    assert actions[:3] == [
        ("alias.set", "model"),
        ("rollback.apply", "rollback"),
        ("rollback.mark", "rollback"),
    ]
    moved = state.audit_log(entity="model", entity_id=CREDIT)[0]
    assert (moved.before["version"], moved.after["version"]) == ("v3", "v1")
    assert moved.note == f"rollback #{mark.id} applied"
    assert exported(state) == {"rollbacks": []}


def test_a_closed_mark_cannot_be_closed_again(
    store: LogStore, settings: Settings, state: StateStore
) -> None:
    mark = rollback.mark(state, store, settings, CREDIT, to_version="v3", reason="r", actor=ANN)
    rollback.apply(state, mark.id, actor=BOB)
    with pytest.raises(Conflict, match=f"rollback #{mark.id} was already applied by bob"):
        rollback.cancel(state, mark.id, actor=ANN)
    with pytest.raises(Conflict, match="already applied"):
        rollback.apply(state, mark.id, actor=ANN)
    with pytest.raises(InputError, match="there is no rollback mark #999"):
        rollback.apply(state, 999, actor=ANN)
    assert len(state.audit_log(entity="rollback", entity_id=str(mark.id))) == 2


def test_refusals(store: LogStore, settings: Settings, state: StateStore) -> None:
    def refused(words: str, **kwargs: Any) -> None:
        arguments: dict[str, Any] = {"reason": "why", "actor": ANN} | kwargs
        model = arguments.pop("model", CREDIT)
        with pytest.raises(InputError, match=words):
            rollback.mark(state, store, settings, model, **arguments)

    # without an alias the current version is v2 (most traffic in the last day)
    refused("v2 is the current version of credit-risk", to_version="v2")
    refused("unknown model 'nope'", model="nope")
    refused("no version 'v9'", to_version="v9")
    refused("give a reason", reason="  \n")
    refused("reason is too long", reason="x" * 5000)
    refused("no alert with id 424242", alert_ids=[424242])
    registry.set_alias(state, store, CREDIT, "v1", actor=ANN)
    refused("no version of credit-risk before v1 is healthy")
    assert rollback.marks(state, status="all") == ()
    assert not rollback_file.export_path(state).exists()

    first = rollback.mark(state, store, settings, CREDIT, to_version="v2", reason="r", actor=ANN)
    with pytest.raises(Conflict, match=f"rollback #{first.id} of credit-risk .* is still open"):
        rollback.mark(state, store, settings, CREDIT, to_version="v3", reason="r", actor=BOB)
    assert rollback.marks(state) == (first,)


def test_the_schema_allows_one_open_mark_per_model(state: StateStore) -> None:
    row = (CREDIT, "v3", "v2", "r", "[]", "{}", "ann", 0, to_text(utc_now()))
    sql = (
        "INSERT INTO rollbacks (model_id, from_version, to_version, reason, alert_ids, evidence,"
        " requested_by, requested_verified, requested_at, status)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'requested')"
    )
    with state.transaction() as tx:
        tx.execute(sql, row)
    with pytest.raises(sqlite3.IntegrityError), state.transaction() as tx:
        tx.execute(sql, row)
    with state.transaction() as tx:
        tx.execute(sql, ("demand-forecast", *row[1:]))


def test_the_evidence_shown_is_the_evidence_kept(
    store: LogStore, settings: Settings, state: StateStore
) -> None:
    window = registry.default_window(model_info(store, CREDIT), EVIDENCE_SPAN)
    shown = gather(store, settings, CREDIT, "v2", "v1", window)
    mark = rollback.mark(
        state, store, settings, CREDIT, to_version="v1", reason="r", actor=ANN, evidence=shown
    )
    assert mark.evidence == json.loads(json.dumps(shown.to_document()))
    other = gather(store, settings, CREDIT, "v3", "v1", window)  # not the versions marked
    rollback.cancel(state, mark.id, actor=ANN)
    again = rollback.mark(
        state, store, settings, CREDIT, to_version="v1", reason="r", actor=ANN, evidence=other
    )
    assert again.evidence["version"] == "v2" and again.evidence["target"]["version"] == "v1"


def test_mark_any_version_with_evidence_about_it(
    store: LogStore, settings: Settings, state: StateStore
) -> None:
    """Without an alias v2 serves most traffic (the current version); the canary v3 is the
    one to roll back, to the newest healthy version before it."""
    assert registry.current_version(state, store, settings, CREDIT) == ("v2", "traffic")
    window = registry.default_window(model_info(store, CREDIT), EVIDENCE_SPAN)
    mark = rollback.mark(
        state, store, settings, CREDIT, from_version="v3", reason="unfair", actor=ANN
    )
    assert (mark.from_version, mark.to_version) == ("v3", "v2")
    judged = check(store, settings, CREDIT, "v3", window)
    evidence = mark.evidence
    assert (evidence["version"], evidence["verdict"]) == ("v3", "reject")
    assert evidence["failed"] == list(judged.failed)
    assert any(f.startswith("fairness ratio") and "gender" in f for f in evidence["failed"])
    assert evidence["summary"] == judged.summary
    assert evidence["metrics"]["window"] == {
        "start": window.start.isoformat(timespec="microseconds"),
        "end": window.end.isoformat(timespec="microseconds"),
    }
    assert evidence["target"]["verdict"] == "healthy"
    assert state.audit_log(entity="rollback", entity_id=str(mark.id))[0].after == {
        "model_id": CREDIT,
        "from_version": "v3",
        "to_version": "v2",
        "status": "requested",
        "alert_ids": [],
    }
    # a champion elsewhere does not matter when the version is named
    rollback.cancel(state, mark.id, actor=ANN)
    registry.set_alias(state, store, CREDIT, "v1", actor=ANN)
    named = rollback.mark(
        state, store, settings, CREDIT, from_version="v3", to_version="v1", reason="r", actor=ANN
    )
    assert (named.from_version, named.to_version) == ("v3", "v1")


def test_refusals_of_the_version_to_roll_back(
    store: LogStore, settings: Settings, state: StateStore
) -> None:
    def refused(words: str, **kwargs: Any) -> None:
        with pytest.raises(InputError, match=words):
            rollback.mark(state, store, settings, CREDIT, reason="r", actor=ANN, **kwargs)

    refused(
        r"the version to roll back: .*no version 'v9' .*\(known: v1, v2, v3\)", from_version="v9"
    )
    refused("the version to roll back to: .*no version 'v8'", from_version="v3", to_version="v8")
    refused(
        "v3 is the version to roll back; a rollback needs another version",
        from_version="v3",
        to_version="v3",
    )
    refused(r"no version of credit-risk before v1 is healthy \(there is none\)", from_version="v1")
    strict = dataclasses.replace(settings, thresholds=Thresholds(latency_p95_ms=1.0))
    with pytest.raises(InputError) as raised:
        rollback.mark(state, store, strict, CREDIT, from_version="v3", reason="r", actor=ANN)
    message = str(raised.value)
    assert message.startswith("no version of credit-risk before v3 is healthy (checked v2: ")
    assert "; v1: " in message and "ms is above 1 ms" in message
    assert message.endswith("; name the target version explicitly")
    assert rollback.marks(state, status="all") == ()


WORKER = """
import sys, time
from pathlib import Path
from monitor.ops.registry import rollback
from monitor.core.config import load_settings
from monitor.ops.registry.versions import Conflict
from monitor.core.state import Actor, StateStore
from monitor.core.store import LogStore

demo_dir, state_path, go, name = sys.argv[1:]
store = LogStore(Path(demo_dir))
store.refresh()
settings = load_settings(Path(demo_dir) / "monitor.toml", env={})
state = StateStore(Path(state_path))
print("ready", flush=True)
while not Path(go).exists():
    time.sleep(0.005)
try:
    found = rollback.mark(
        state, store, settings, "credit-risk", to_version="v1", reason=name, actor=Actor(name)
    )
    print(f"marked #{found.id}", flush=True)
except Conflict as exc:
    print(f"conflict: {exc}", flush=True)
"""


def test_two_processes_marking_at_once_leave_one_open_mark(demo_dir: Path, tmp_path: Path) -> None:
    """Both pass the early check (nothing is open yet) and compute their evidence at the
    same time; the one that commits second is refused inside its transaction."""
    path, go = tmp_path / "state.sqlite", tmp_path / "go"
    StateStore(path).close()
    workers = {
        name: subprocess.Popen(
            [sys.executable, "-c", WORKER, str(demo_dir), str(path), str(go), name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("ann", "bob")
    }
    for worker in workers.values():
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready"
    go.touch()
    outcomes = {}
    for name, worker in workers.items():
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        outcomes[name] = out.strip()
    state = StateStore(path)
    (kept,) = rollback.marks(state, status="all")
    other = "bob" if kept.requested_by == "ann" else "ann"
    assert outcomes[kept.requested_by] == f"marked #{kept.id}", outcomes
    assert outcomes[other].startswith("conflict:") and "still open" in outcomes[other]
    assert exported(state) == open_document(state)
    assert len(state.audit_log(entity="rollback")) == 1
