"""count_alerts (SQL counts per state filter) against plain Python counts over every
stored alert, and the audit row each evaluation leaves (last_evaluation)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from monitor.core.state import Actor, StateStore, to_text, utc_now
from monitor.core.store import LogStore
from monitor.ops.alerts import actions as alerts
from tests.ops.alerts.support import (
    T0,
    alert_settings,
    minutes,
    open_world,
    series,
    write_predictions,
)

FEATURES = 1100
"""More alerts than list_alerts' default limit (1000)."""
HOLES = {"id": "holes", "metric": "missing_share", "threshold": 0.5, "window": "10m"}
SLOW = {"id": "slow", "metric": "latency_p95_ms", "threshold": 100, "window": "10m"}
WAITING = {**SLOW, "id": "waiting", "for": "1h", "severity": "critical"}
GONE = {**SLOW, "id": "gone", "severity": "info"}
MODELS = [{"id": "ghost"}]
"""Configured, never logged: one nodata alert per rule."""
ALICE = Actor("alice")
NOW = minutes(20)
EVERYTHING = 10**6


def _holes(count: int) -> Any:
    def features(i: int, _: dt.datetime) -> dict[str, float | None]:
        return {f"f{k:04d}": (1.0 if i < 5 else None) for k in range(count)}

    return features


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, StateStore]:
    """Model m: 1,100 features missing (firing), slow (pending and firing alerts); model
    n: 3 features missing; ghost: nodata. Then the `gone` rule is removed (its alerts
    resolve), some alerts are acknowledged, some fingerprints silenced, one silence
    has ended by NOW and one was lifted."""
    data_dir = tmp_path_factory.mktemp("crowded")
    write_predictions(data_dir, "m", series("m", 0, 21, features=_holes(FEATURES), latency_ms=500))
    write_predictions(data_dir, "n", series("n", 0, 21, features=_holes(3)))
    store, state = open_world(data_dir)
    rules = [HOLES, SLOW, WAITING]
    alerts.evaluate(store, alert_settings(data_dir, [*rules, GONE], models=MODELS), state, now=NOW)
    alerts.evaluate(store, alert_settings(data_dir, rules, models=MODELS), state, now=NOW)

    firing = alerts.list_alerts(state, state_filter="firing", limit=EVERYTHING, now=NOW)
    for alert in firing[:5]:
        alerts.acknowledge(state, alert.alert_id, ALICE)
    until = {3: minutes(60), 4: minutes(60), 5: minutes(60), 6: minutes(15), 7: minutes(60)}
    for i, end in until.items():  # 3 and 4 are also acknowledged
        alerts.silence(state, firing[i].fingerprint, until=end, actor=ALICE, reason="r", now=T0)
    alerts.unsilence(state, firing[7].fingerprint, ALICE, now=T0)
    return data_dir, state


def _plain_counts(
    everything: tuple[alerts.Alert, ...], model_id: str | None, now: dt.datetime
) -> Counter[str]:
    counts: Counter[str] = Counter()
    for a in everything:
        if model_id is not None and a.labels.get("model") != model_id:
            continue
        counts["all"] += 1
        if a.state == "resolved":
            counts["resolved"] += 1
            continue
        # The views partition the open alerts: silenced, else acknowledged, else their state.
        counts["active"] += 1
        if a.silenced(now):
            counts["silenced"] += 1
        elif a.acknowledged:
            counts["acknowledged"] += 1
        else:
            counts[a.state] += 1
    return counts


@pytest.mark.parametrize("model_id", [None, "m", "n", "ghost", "nobody"])
def test_count_alerts_matches_a_plain_count_of_every_alert(
    crowded: tuple[Path, StateStore], model_id: str | None
) -> None:
    _, state = crowded
    everything = alerts.list_alerts(state, state_filter="all", limit=EVERYTHING, now=NOW)
    expected = _plain_counts(everything, model_id, NOW)
    counted = alerts.count_alerts(state, model_id=model_id, now=NOW)
    assert set(counted) == set(alerts.STATE_FILTERS)
    assert dict(counted) == {name: expected[name] for name in alerts.STATE_FILTERS}
    for name in alerts.STATE_FILTERS:  # and what list_alerts gives without a limit
        found = alerts.list_alerts(
            state, state_filter=name, model_id=model_id, limit=EVERYTHING, now=NOW
        )
        assert counted[name] == len(found), name


def test_the_crowded_state_has_every_kind_of_alert(crowded: tuple[Path, StateStore]) -> None:
    """The world above exercises every filter, beyond list_alerts' default limit."""
    _, state = crowded
    counted = alerts.count_alerts(state, now=NOW)
    assert counted["all"] > 1000 and counted["firing"] > 1000
    assert len(alerts.list_alerts(state, state_filter="all", now=NOW)) == 1000
    assert all(counted[name] > 0 for name in alerts.STATE_FILTERS), counted
    # 5 acknowledged, 2 of them also silenced: silenced wins (the views partition)
    assert (counted["acknowledged"], counted["silenced"]) == (3, 3)
    # a silence counts while it is in force
    assert alerts.count_alerts(state, now=minutes(10))["silenced"] == 4
    assert alerts.count_alerts(state, now=minutes(61))["silenced"] == 0


def test_active_counts_match_a_plain_count(crowded: tuple[Path, StateStore]) -> None:
    _, state = crowded
    everything = alerts.list_alerts(state, state_filter="all", limit=EVERYTHING, now=NOW)
    for model_id in (None, "m", "ghost"):
        expected = Counter(
            a.severity
            for a in everything
            if a.state != "resolved"
            and not a.acknowledged
            and not a.silenced(NOW)
            and (model_id is None or a.labels.get("model") == model_id)
        )
        counted = alerts.active_counts(state, model_id=model_id, now=NOW)
        assert dict(counted) == {s: expected[s] for s in ("info", "warning", "critical")}
    assert alerts.active_counts(state, now=NOW)["warning"] > 1000


# -- the evaluation's own audit row --------------------------------------------------------------


def test_each_evaluation_is_recorded_and_last_evaluation_reads_it(tmp_path: Path) -> None:
    write_predictions(tmp_path, "m", series("m", 0, 21, features=_holes(2), latency_ms=500))
    store, state = open_world(tmp_path)
    assert alerts.last_evaluation(state) is None
    settings = alert_settings(tmp_path, [HOLES, WAITING])

    before = utc_now()
    first = alerts.evaluate(store, settings, state, now=NOW)
    after = utc_now()
    checked = alerts.last_evaluation(state)
    # the wall clock of the run, not the evaluation time it was asked for (NOW, in 2026)
    assert checked is not None and before <= checked <= after
    second = alerts.evaluate(store, alert_settings(tmp_path, [HOLES]), state, now=minutes(21))
    later = alerts.last_evaluation(state)
    assert later is not None and later >= checked

    rows = state.audit_log(entity="evaluation")
    assert [r.action for r in rows] == ["evaluate", "evaluate"]
    assert all(r.actor == "monitor" and r.actor_verified for r in rows)
    assert rows[0].at == later
    for row, result, moment in ((rows[1], first, NOW), (rows[0], second, minutes(21))):
        assert row.entity_id == to_text(moment)
        assert row.before is None
        assert row.after == {
            "evaluated_at": to_text(moment),
            "alerts": len(result.alerts),
            "transitions": len(result.transitions),
            "errors": [],
        }
    # 2 firing features and one pending latency alert; then the latency rule is removed
    assert (rows[1].after["alerts"], rows[1].after["transitions"]) == (3, 3)
    assert (rows[0].after["alerts"], rows[0].after["transitions"]) == (3, 1)


def test_an_evaluation_without_rules_or_alerts_is_still_recorded(tmp_path: Path) -> None:
    store, state = open_world(tmp_path)
    result = alerts.evaluate(store, alert_settings(tmp_path, []), state)
    assert result.alerts == () and result.transitions == ()
    assert alerts.last_evaluation(state) is not None
    (row,) = state.audit_log(entity="evaluation")
    assert row.after == {
        "evaluated_at": to_text(result.evaluated_at),
        "alerts": 0,
        "transitions": 0,
        "errors": [],
    }


def test_the_evaluation_row_keeps_the_rules_that_failed(tmp_path: Path) -> None:
    write_predictions(tmp_path, "m", series("m", 0, 21))
    store, state = open_world(tmp_path)
    rules = [SLOW, {"id": "unfair", "metric": "fairness_ratio", "threshold": 0.8}]
    models = [{"id": "m", "sensitive_features": ["not_logged"]}]
    result = alerts.evaluate(store, alert_settings(tmp_path, rules, models=models), state, now=NOW)
    assert len(result.errors) == 1
    (row,) = state.audit_log(entity="evaluation")
    assert row.after["errors"] == list(result.errors)


def test_the_evaluation_row_is_in_the_same_transaction_as_the_changes(tmp_path: Path) -> None:
    """An evaluation that fails while writing leaves neither alerts nor its audit row."""
    write_predictions(tmp_path, "m", series("m", 0, 21, features=_holes(2)))
    store, state = open_world(tmp_path)
    with state.transaction() as tx:  # a trigger makes the evaluation's audit row fail
        tx.execute(
            "CREATE TRIGGER no_evaluations BEFORE INSERT ON audit"
            " WHEN NEW.entity = 'evaluation' BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    with pytest.raises(Exception, match="refused"):
        alerts.evaluate(LogStore(tmp_path), alert_settings(tmp_path, [HOLES]), state, now=NOW)
    assert state.read("SELECT count(*) FROM alerts")[0][0] == 0
    assert state.read("SELECT count(*) FROM audit")[0][0] == 0
    assert alerts.last_evaluation(state) is None
    with state.transaction() as tx:
        tx.execute("DROP TRIGGER no_evaluations")
    alerts.evaluate(store, alert_settings(tmp_path, [HOLES]), state, now=NOW)
    assert state.read("SELECT count(*) FROM alerts")[0][0] == 2
    assert alerts.last_evaluation(state) is not None
