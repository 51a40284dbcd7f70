"""Two processes acknowledging the same alerts, and processes killed mid-write: the state
store records every committed action exactly once and stays consistent."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from monitor.core.state import StateStore
from monitor.core.store import LogStore
from monitor.ops.alerts import actions as alerts
from tests.conftest import REPO_ROOT
from tests.ops.alerts.support import alert_settings, minutes, series, write_predictions

FEATURES = 200
RULE = {"id": "holes", "metric": "missing_share", "threshold": 0.5, "window": "10m"}
REPO = REPO_ROOT

ACK_RACE = """
import json, sys, time
from pathlib import Path
from monitor.ops.alerts import actions as alerts
from monitor.core.state import Actor, StateStore
path, name, go = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
state = StateStore(path)
ids = sorted(a.alert_id for a in alerts.list_alerts(state, state_filter="firing"))
if name == "ben":  # opposite ends: both make progress, and they collide in the middle
    ids.reverse()
print("ready", flush=True)
while not go.exists():
    time.sleep(0.001)
won, lost = [], []
for alert_id in ids:
    try:
        alerts.acknowledge(state, alert_id, Actor(name), note="mine")
        won.append(alert_id)
    except alerts.AlreadyAcknowledged:
        lost.append(alert_id)
print(json.dumps({"won": won, "lost": lost}), flush=True)
"""

ACK_LOOP = """
import os, signal, sys
from pathlib import Path
from monitor.ops.alerts import actions as alerts
from monitor.core.state import Actor, StateStore
path, log, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
state = StateStore(path)
todo = [a.alert_id for a in alerts.list_alerts(state, state_filter="firing") if not a.acknowledged]
if mode != "random":  # die at a chosen statement: inside an ack's transaction or just after
    where, nth = mode.split(":")
    seen = {"update": 0, "commit": 0}
    def trace(sql):
        if sql.startswith("UPDATE alerts SET acknowledged_by"):
            seen["update"] += 1
            if where == "update" and seen["update"] == int(nth):
                os.kill(os.getpid(), signal.SIGKILL)
        elif sql == "COMMIT":
            seen["commit"] += 1
        elif where == "commit" and seen["commit"] == int(nth):
            os.kill(os.getpid(), signal.SIGKILL)
    connect = state._connect  # every transaction opens a connection: trace each one
    state._connect = lambda: (con := connect(), con.set_trace_callback(trace))[0]
print("ready", flush=True)
with log.open("a") as out:
    for alert_id in todo:
        alerts.acknowledge(state, alert_id, Actor("looper"), note="n" * 500)
        out.write(f"{alert_id}\\n")  # only after the commit returned
        out.flush()
        os.fsync(out.fileno())
print("done", flush=True)
"""

EVALUATE = """
import os, signal, sys
from pathlib import Path
from monitor.ops.alerts import actions as alerts
from monitor.core.config import parse_settings
from monitor.core.state import StateStore
from monitor.core.store import LogStore
data_dir, nth = Path(sys.argv[1]), int(sys.argv[2])
settings = parse_settings(
    {"data_dir": str(data_dir), "alerts": {"default_rules": False, "rules": [__RULE__]}},
    base_dir=data_dir,
)
state = StateStore(data_dir / "state.sqlite")
inserts = [0]
def trace(sql):
    if sql.startswith("INSERT INTO alerts"):
        inserts[0] += 1
        if inserts[0] == nth:
            os.kill(os.getpid(), signal.SIGKILL)
connect = state._connect  # every transaction opens a connection: trace each one
state._connect = lambda: (con := connect(), con.set_trace_callback(trace))[0]
print("ready", flush=True)
alerts.evaluate(LogStore(data_dir), settings, state, now=__NOW__)
print("done", flush=True)
"""


def _write_world(data_dir: Path) -> None:
    """Model m logged 200 features at first and none of them in the last 10 minutes:
    the missing-share rule fires once per feature, 200 alerts."""

    def features(i: int, _: Any) -> dict[str, float | None]:
        return {f"f{k:03d}": (1.0 if i < 5 else None) for k in range(FEATURES)}

    write_predictions(data_dir, "m", series("m", 0, 21, features=features))


def _spawn(script: str, *args: str) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line.strip() == "ready", child.stderr.read() if child.stderr else line
    return child


@pytest.fixture
def firing(tmp_path: Path) -> Path:
    _write_world(tmp_path)
    state = StateStore(tmp_path / "state.sqlite")
    settings = alert_settings(tmp_path, [RULE])
    result = alerts.evaluate(LogStore(tmp_path), settings, state, now=minutes(20))
    assert len(result.alerts) == FEATURES and {a.state for a in result.alerts} == {"firing"}
    state.close()
    return tmp_path / "state.sqlite"


def test_two_processes_acknowledging_the_same_200_alerts_record_each_once(
    firing: Path, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    racers = [_spawn(ACK_RACE, str(firing), name, str(go)) for name in ("ann", "ben")]
    go.touch()
    outcomes: dict[str, dict[str, list[int]]] = {}
    for name, racer in zip(("ann", "ben"), racers, strict=True):
        out, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err
        outcomes[name] = json.loads(out.strip().splitlines()[-1])
    ann, ben = outcomes["ann"], outcomes["ben"]
    assert len(ann["won"]) + len(ann["lost"]) == FEATURES
    assert len(ben["won"]) + len(ben["lost"]) == FEATURES
    assert not set(ann["won"]) & set(ben["won"])
    assert len(ann["won"]) + len(ben["won"]) == FEATURES
    assert set(ann["lost"]) == set(ben["won"]) and set(ben["lost"]) == set(ann["won"])
    state = StateStore(firing)
    audit = state.read("SELECT entity_id, actor FROM audit WHERE action = 'acknowledge'")
    assert len(audit) == FEATURES and len({r["entity_id"] for r in audit}) == FEATURES
    winners = {int(r["entity_id"]): r["actor"] for r in audit}
    for alert in alerts.list_alerts(state, state_filter="all"):
        assert alert.acknowledged_by == winners[alert.alert_id]
        expected = "ann" if alert.alert_id in ann["won"] else "ben"
        assert alert.acknowledged_by == expected


def _check_consistent(path: Path) -> set[int]:
    """integrity_check passes; every acknowledged alert has exactly one audit row."""
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        acked = {
            int(r[0])
            for r in con.execute("SELECT id FROM alerts WHERE acknowledged_by IS NOT NULL")
        }
        audit = [
            int(r[0])
            for r in con.execute("SELECT entity_id FROM audit WHERE action = 'acknowledge'")
        ]
        assert sorted(audit) == sorted(acked)
        assert con.execute("SELECT count(*) FROM alerts").fetchone()[0] == FEATURES
        return acked
    finally:
        con.close()


def _logged(log: Path) -> set[int]:
    return {int(x) for x in log.read_text().split()} if log.exists() else set()


def test_a_process_killed_mid_write_leaves_every_committed_ack(
    firing: Path, tmp_path: Path
) -> None:
    log = tmp_path / "acked.log"
    # killed inside the 7th acknowledgement's transaction: 6 committed, 6 logged
    _spawn(ACK_LOOP, str(firing), str(log), "update:7").communicate(timeout=60)
    assert _check_consistent(firing) == _logged(log) and len(_logged(log)) == 6
    # killed right after the 5th commit, before the child could log it: one more in the db
    _spawn(ACK_LOOP, str(firing), str(log), "commit:5").communicate(timeout=60)
    acked = _check_consistent(firing)
    assert _logged(log) < acked and len(acked) == 11 and len(_logged(log)) == 10
    # killed at random moments
    rng = random.Random(6)
    for _ in range(3):
        child = _spawn(ACK_LOOP, str(firing), str(log), "random")
        time.sleep(rng.uniform(0.01, 0.1))
        os.kill(child.pid, signal.SIGKILL)
        child.communicate(timeout=60)
        before = acked
        acked = _check_consistent(firing)
        assert before <= acked and _logged(log) <= acked
        assert len(acked - _logged(log)) <= 1 + 3  # per kill at most one unlogged commit
    child = _spawn(ACK_LOOP, str(firing), str(log), "random")
    assert child.communicate(timeout=120)[0].strip() == "done"
    assert len(_check_consistent(firing)) == FEATURES


@pytest.mark.parametrize("nth", [1, FEATURES])
def test_an_evaluation_killed_mid_write_writes_nothing(tmp_path: Path, nth: int) -> None:
    """Killed at the nth of 200 alert inserts (FEATURES: the last, before the commit)."""
    _write_world(tmp_path)
    script = EVALUATE.replace("__RULE__", repr(RULE)).replace(
        "__NOW__", f"__import__('datetime').datetime.fromisoformat({minutes(20).isoformat()!r})"
    )
    child = _spawn(script, str(tmp_path), str(nth))
    child.communicate(timeout=120)
    assert child.returncode == -signal.SIGKILL
    path = tmp_path / "state.sqlite"
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT count(*) FROM alerts").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM audit").fetchone()[0] == 0
    finally:
        con.close()
    state = StateStore(path)
    result = alerts.evaluate(
        LogStore(tmp_path), alert_settings(tmp_path, [RULE]), state, now=minutes(20)
    )
    assert len(result.alerts) == FEATURES
    assert len(state.read("SELECT id FROM audit WHERE entity = 'alert'")) == FEATURES
