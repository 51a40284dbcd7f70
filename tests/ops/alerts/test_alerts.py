"""Alert rules and the alert state machine, promtool style: synthetic series written to a
temporary log directory, evaluated at chosen times, states checked at each step."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from monitor.core.config import Thresholds, parse_settings
from monitor.core.errors import ConfigError, InputError
from monitor.core.state import Actor
from monitor.findings.rules import default_rules, format_duration, parse_duration
from monitor.findings.rules_config import alerts_config
from monitor.ops.alerts import actions as alerts
from tests.conftest import REPO_ROOT
from tests.ops.alerts.support import (
    T0,
    alert_settings,
    minutes,
    open_world,
    series,
    write_predictions,
)

SLOW: list[dict[str, Any]] = [
    {
        "id": "slow",
        "metric": "latency_p95_ms",
        "comparator": ">",
        "threshold": 100,
        "window": "10m",
        "for": "10m",
        "severity": "critical",
    }
]
ALICE = Actor("alice")
BOB = Actor("bob@example.org", verified=True)


def _latency(slow: list[tuple[float, float]]) -> Any:
    def latency(_: int, ts: dt.datetime) -> float:
        at = (ts - T0).total_seconds() / 60
        return 500.0 if any(a <= at < b for a, b in slow) else 10.0

    return latency


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """Model m: one prediction a minute for 2 hours; slow from minute 30 to 60 and from
    90 to 100."""
    write_predictions(
        tmp_path, "m", series("m", 0, 120, latency_ms=_latency([(30, 60), (90, 100)]))
    )
    return tmp_path


def _only(result: alerts.EvaluationResult, rule: str = "slow") -> alerts.Alert:
    found = [a for a in result.alerts if a.rule == rule]
    assert len(found) == 1, found
    return found[0]


def test_pending_then_firing_after_for_then_resolved_then_a_new_episode(world: Path) -> None:
    store, state = open_world(world)
    settings = alert_settings(world, SLOW)

    assert alerts.evaluate(store, settings, state, now=minutes(20)).alerts == ()

    first = _only(alerts.evaluate(store, settings, state, now=minutes(32)))
    assert (first.state, first.pending_since, first.started_at) == ("pending", minutes(32), None)
    assert first.value == pytest.approx(500.0)  # 3 of 11 values are slow: p95 is slow

    held = _only(alerts.evaluate(store, settings, state, now=minutes(41)))
    assert (held.alert_id, held.state) == (first.alert_id, "pending")  # 9 minutes < for

    fired = alerts.evaluate(store, settings, state, now=minutes(42))
    alert = _only(fired)
    assert (alert.alert_id, alert.state, alert.started_at) == (
        first.alert_id,
        "firing",
        minutes(42),
    )
    assert [(t.before, t.after) for t in fired.transitions] == [("pending", "firing")]

    again = alerts.evaluate(store, settings, state, now=minutes(42))
    assert again.transitions == () and _only(again).alert_id == first.alert_id
    rows = state.read("SELECT count(*) FROM alerts WHERE fingerprint = ?", (alert.fingerprint,))
    assert rows[0][0] == 1  # re-evaluation updates, never duplicates

    resolved = alerts.evaluate(store, settings, state, now=minutes(75))
    done = _only(resolved)
    assert (done.alert_id, done.state, done.resolved_at) == (
        first.alert_id,
        "resolved",
        minutes(75),
    )
    assert done.value == pytest.approx(10.0)

    alerts.evaluate(store, settings, state, now=minutes(92))
    second = _only(alerts.evaluate(store, settings, state, now=minutes(102)))
    assert second.state == "firing"
    assert second.fingerprint == first.fingerprint and second.alert_id != first.alert_id
    assert second.episode == first.episode + 1
    history = alerts.list_alerts(state, state_filter="all")
    assert sorted((a.episode, a.state) for a in history) == [(1, "resolved"), (2, "firing")]
    actions = [e.action for e in reversed(state.audit_log(entity="alert"))]
    assert actions == ["pending", "firing", "resolved", "pending", "firing"]


def test_a_pending_alert_whose_condition_clears_resolves_without_firing(world: Path) -> None:
    store, state = open_world(world)
    settings = alert_settings(world, SLOW)
    alerts.evaluate(store, settings, state, now=minutes(92))
    result = alerts.evaluate(store, settings, state, now=minutes(112))  # before for elapsed
    alert = _only(result)
    assert (alert.state, alert.started_at, alert.resolved_at) == ("resolved", None, minutes(112))


def test_for_zero_fires_at_once(world: Path) -> None:
    store, state = open_world(world)
    settings = alert_settings(world, [{**SLOW[0], "for": "0m"}])
    result = alerts.evaluate(store, settings, state, now=minutes(32))
    assert _only(result).state == "firing" and _only(result).started_at == minutes(32)
    assert [(t.before, t.after) for t in result.transitions] == [(None, "firing")]


def test_no_data_in_the_window_is_nodata_never_healthy(world: Path) -> None:
    store, state = open_world(world)
    rules = [*SLOW, {"id": "quiet", "metric": "throughput", "threshold": 0.5, "window": "10m"}]
    settings = alert_settings(world, rules)
    alerts.evaluate(store, settings, state, now=minutes(32))
    result = alerts.evaluate(store, settings, state, now=minutes(200))
    slow = _only(result)
    assert slow.state == "nodata" and slow.value is None
    assert "no predictions" in slow.summary
    quiet = _only(result, "quiet")
    assert (quiet.state, quiet.value) == ("firing", 0.0)  # throughput zero is a value
    assert alerts.list_alerts(state, state_filter="nodata") == (slow,)
    assert alerts.active_counts(state)["critical"] == 1  # nodata counts as active
    back = _only(alerts.evaluate(store, settings, state, now=minutes(115)))
    assert (back.alert_id, back.state) == (slow.alert_id, "resolved")  # data again, fast


def test_nodata_creates_an_alert_for_a_model_that_never_logged(tmp_path: Path) -> None:
    store, state = open_world(tmp_path)
    settings = alert_settings(tmp_path, SLOW, models=[{"id": "configured-only"}])
    alert = _only(alerts.evaluate(store, settings, state, now=T0))
    assert (alert.state, dict(alert.labels)) == ("nodata", {"model": "configured-only"})


def test_series_that_disappear_resolve_and_removed_rules_resolve(tmp_path: Path) -> None:
    records = series("m", 0, 30, version="v1") + series("m", 30, 60, version="v2", prefix="b")
    write_predictions(tmp_path, "m", records)
    store, state = open_world(tmp_path)
    rule = {"id": "acc", "metric": "accuracy", "threshold": 2.0, "window": "20m"}
    settings = alert_settings(tmp_path, [rule], models=[{"id": "m", "score_column": ""}])
    # no labels and no estimate (no reference): every version is nodata
    first = alerts.evaluate(store, settings, state, now=minutes(35))
    assert sorted(a.labels["version"] for a in first.alerts) == ["v1", "v2"]
    assert {a.state for a in first.alerts} == {"nodata"}
    later = alerts.evaluate(store, settings, state, now=minutes(55))  # v1 left the window
    states = {a.labels["version"]: a.state for a in later.alerts}
    assert states == {"v1": "resolved", "v2": "nodata"}
    gone = alerts.evaluate(store, alert_settings(tmp_path, []), state, now=minutes(55))
    assert {a.state for a in gone.alerts} == {"resolved"}
    assert alerts.list_alerts(state) == ()


def test_a_model_without_predictions_turns_its_open_series_nodata(tmp_path: Path) -> None:
    def x(i: int, _: dt.datetime) -> dict[str, Any]:
        return {"x": 1.0 if i < 5 else None, "y": 1.0}  # x: logged at first, then missing

    write_predictions(tmp_path, "m", series("m", 0, 30, features=x))
    store, state = open_world(tmp_path)
    rule = {"id": "holes", "metric": "missing_share", "threshold": 0.5, "window": "10m"}
    settings = alert_settings(tmp_path, [rule])
    firing = alerts.evaluate(store, settings, state, now=minutes(20)).alerts
    assert [(a.labels["feature"], a.state) for a in firing] == [("x", "firing")]
    later = alerts.evaluate(store, settings, state, now=minutes(90)).alerts
    assert [(a.alert_id, a.state) for a in later] == [(firing[0].alert_id, "nodata")]


def test_the_data_clock_ends_each_models_windows_at_its_newest_prediction(world: Path) -> None:
    store, state = open_world(world)
    rule = {**SLOW[0], "for": "0m", "window": "30m"}
    wall = alerts.evaluate(store, alert_settings(world, [rule]), state)
    assert _only(wall).state == "nodata"  # the wall clock is years after the data
    data = alerts.evaluate(store, alert_settings(world, [rule], clock="data"), state)
    alert = _only(data)
    assert alert.last_evaluated_at == minutes(119)  # the newest prediction
    assert alert.state == "firing"  # minutes 90-100 are inside the 30 minutes before


def test_rule_label_filters_choose_the_series(tmp_path: Path) -> None:
    slow = _latency([(0, 60)])
    write_predictions(tmp_path, "a", series("a", 0, 60, latency_ms=slow))
    write_predictions(tmp_path, "b", series("b", 0, 60, latency_ms=slow))
    store, state = open_world(tmp_path)
    rule = {**SLOW[0], "for": "0m", "labels": {"model": "b"}}
    result = alerts.evaluate(store, alert_settings(tmp_path, [rule]), state, now=minutes(30))
    assert [a.labels["model"] for a in result.alerts] == ["b"]
    assert [a.labels["model"] for a in alerts.list_alerts(state, model_id="a")] == []


def test_errors_of_one_rule_are_recorded_and_leave_its_alerts_alone(world: Path) -> None:
    store, state = open_world(world)
    rules = [*SLOW, {"id": "unfair", "metric": "fairness_ratio", "threshold": 0.8}]
    models = [{"id": "m", "sensitive_features": ["not_logged"]}]
    result = alerts.evaluate(
        store, alert_settings(world, rules, models=models), state, now=minutes(32)
    )
    assert _only(result).state == "pending"
    assert len(result.errors) == 1 and "unfair" in result.errors[0]
    assert "not_logged" in result.errors[0]


def test_acknowledge_is_a_compare_and_set_and_is_audited(world: Path) -> None:
    store, state = open_world(world)
    settings = alert_settings(world, [{**SLOW[0], "for": "0m"}])
    alert = _only(alerts.evaluate(store, settings, state, now=minutes(32)))
    done = alerts.acknowledge(state, alert.alert_id, ALICE, "  looking <b>now</b>  ")
    assert (done.acknowledged_by, done.acknowledged_verified, done.note) == (
        "alice",
        False,
        "looking <b>now</b>",
    )
    assert done.acknowledged and done.acknowledged_at is not None
    with pytest.raises(alerts.AlreadyAcknowledged) as refused:
        alerts.acknowledge(state, alert.alert_id, BOB)
    expected = f"{done.acknowledged_at:%Y-%m-%d %H:%M:%S} UTC"
    assert str(refused.value) == (
        f"alert {alert.alert_id} was already acknowledged by alice (unverified) at {expected}"
    )
    again = _only(alerts.evaluate(store, settings, state, now=minutes(35)))
    assert again.acknowledged_by == "alice"  # evaluation never touches the human axis
    assert alerts.list_alerts(state, state_filter="acknowledged") == (again,)
    assert alerts.active_counts(state)["critical"] == 0  # acknowledged: handled
    undone = alerts.unacknowledge(state, alert.alert_id, BOB, "wrong alert")
    assert (undone.acknowledged_by, undone.note) == (None, None)
    with pytest.raises(InputError, match="not acknowledged"):
        alerts.unacknowledge(state, alert.alert_id, BOB)
    entries = alerts.alert_history(state, alert.alert_id)
    assert [e.action for e in entries][:2] == ["unacknowledge", "acknowledge"]
    assert entries[0].before["acknowledged_by"] == "alice" and entries[0].actor_verified
    assert entries[1].note == "looking <b>now</b>" and not entries[1].actor_verified


def test_refusals(world: Path) -> None:
    store, state = open_world(world)
    settings = alert_settings(world, [{**SLOW[0], "for": "0m"}])
    alert = _only(alerts.evaluate(store, settings, state, now=minutes(32)))
    with pytest.raises(InputError, match="no alert with id 999"):
        alerts.acknowledge(state, 999, ALICE)
    with pytest.raises(InputError, match="no alert with id 999"):
        alerts.get_alert(state, 999)
    with pytest.raises(InputError, match="no alert has fingerprint"):
        alerts.silence(state, "feedbeef", until=minutes(60), actor=ALICE, reason="x", now=T0)
    with pytest.raises(InputError, match="reason"):
        alerts.silence(state, alert.fingerprint, until=minutes(60), actor=ALICE, reason=" ", now=T0)
    with pytest.raises(InputError, match="in the future"):
        alerts.silence(
            state, alert.fingerprint, until=minutes(10), actor=ALICE, reason="x", now=minutes(20)
        )
    with pytest.raises(InputError, match="is not silenced"):
        alerts.unsilence(state, alert.fingerprint, ALICE)
    with pytest.raises(InputError, match="unknown alert state"):
        alerts.list_alerts(state, state_filter="bogus")  # type: ignore[arg-type]
    alerts.evaluate(store, settings, state, now=minutes(75))
    with pytest.raises(InputError, match="resolved"):
        alerts.acknowledge(state, alert.alert_id, ALICE)
    assert state.audit_log(entity="alert", entity_id=str(alert.alert_id))[0].action == "resolved"


def test_silences_still_evaluate_do_not_gate_and_expire_by_themselves(world: Path) -> None:
    store, state = open_world(world)
    settings = alert_settings(world, [{**SLOW[0], "for": "0m"}])
    alert = _only(alerts.evaluate(store, settings, state, now=minutes(32)))
    assert alerts.blocking([alert], now=minutes(32)) == (alert,)
    quiet = alerts.silence(
        state, alert.fingerprint, until=minutes(50), actor=ALICE, reason="deploying", now=T0
    )
    assert (quiet.until, quiet.reason, quiet.created_by) == (minutes(50), "deploying", "alice")
    assert alerts.active_silences(state, now=minutes(40)) == (quiet,)
    during = _only(alerts.evaluate(store, settings, state, now=minutes(45)))
    assert during.state == "firing" and during.last_evaluated_at == minutes(45)  # still updated
    assert during.silenced(minutes(45)) and during.silence_reason == "deploying"
    assert alerts.blocking([during], now=minutes(45)) == ()
    assert alerts.list_alerts(state, state_filter="silenced", now=minutes(45)) == (during,)
    assert alerts.active_counts(state, now=minutes(45))["critical"] == 0
    after = _only(alerts.evaluate(store, settings, state, now=minutes(55)))
    assert not after.silenced(minutes(55)) and after.silenced_until is None
    assert alerts.blocking([after], now=minutes(55)) == (after,)
    assert alerts.active_silences(state, now=minutes(55)) == ()
    assert alerts.list_alerts(state, state_filter="silenced", now=minutes(55)) == ()
    assert alerts.active_counts(state, now=minutes(55))["critical"] == 1


def test_a_new_silence_replaces_the_one_in_force_and_unsilence_lifts_it(world: Path) -> None:
    store, state = open_world(world)
    settings = alert_settings(world, [{**SLOW[0], "for": "0m"}])
    alert = _only(alerts.evaluate(store, settings, state, now=minutes(32)))
    fp = alert.fingerprint
    alerts.silence(state, fp, until=minutes(50), actor=ALICE, reason="one", now=T0)
    second = alerts.silence(state, fp, until=minutes(40), actor=BOB, reason="two", now=T0)
    assert alerts.active_silences(state, now=minutes(1)) == (second,)
    alerts.unsilence(state, fp, ALICE, now=minutes(2))
    assert alerts.active_silences(state, now=minutes(3)) == ()
    entries = state.audit_log(entity="fingerprint", entity_id=fp)
    assert [e.action for e in entries] == ["unsilence", "silence", "silence"]
    assert entries[1].before["reason"] == "one" and entries[1].after["reason"] == "two"


def test_blocking_honours_the_severity_floor(world: Path) -> None:
    store, state = open_world(world)
    rules = [{**SLOW[0], "for": "0m", "severity": "warning"}]
    alert = _only(alerts.evaluate(store, alert_settings(world, rules), state, now=minutes(32)))
    assert alerts.blocking([alert], fail_on="critical") == ()
    assert alerts.blocking([alert], fail_on="warning") == (alert,)


def test_fingerprints_are_stable_and_depend_on_rule_and_labels() -> None:
    one = alerts.fingerprint("r", {"model": "m", "feature": "x"})
    assert one == alerts.fingerprint("r", {"feature": "x", "model": "m"})
    assert one != alerts.fingerprint("r", {"model": "m", "feature": "y"})
    assert one != alerts.fingerprint("s", {"model": "m", "feature": "x"})
    assert len(one) == 16 and int(one, 16) >= 0


# -- configuration ---------------------------------------------------------------------------


def _config(tmp_path: Path, alerts_table: dict[str, Any], **thresholds: float) -> Any:
    raw: dict[str, Any] = {"alerts": alerts_table}
    if thresholds:
        raw["thresholds"] = thresholds
    return alerts_config(parse_settings(raw, base_dir=tmp_path, source=tmp_path / "monitor.toml"))


def test_default_rules_come_from_the_thresholds(tmp_path: Path) -> None:
    config = _config(tmp_path, {}, latency_p95_ms=123.0, psi=0.3, fairness_tau=0.7)
    rules = {r.id: r for r in config.rules}
    assert set(rules) == {r.id for r in default_rules(Thresholds())}
    assert (rules["latency_p95"].threshold, rules["latency_p95"].comparator) == (123.0, ">")
    assert rules["feature_psi"].threshold == 0.3
    assert (rules["fairness_ratio"].threshold, rules["fairness_ratio"].comparator) == (0.7, "<")
    assert (rules["no_traffic"].metric, rules["no_traffic"].threshold) == ("throughput", 0.0)
    assert config.clock == "wall" and config.webhook is None


def test_a_rule_with_a_default_id_changes_only_what_it_names(tmp_path: Path) -> None:
    table = {
        "clock": "data",
        "rules": [
            {"id": "latency_p95", "threshold": 250, "labels": {"model": ["a", "b"]}},
            {"id": "no_traffic", "enabled": False},
            {"id": "canary", "metric": "accuracy", "threshold": 0.8, "labels": {"version": "v3"}},
        ],
    }
    config = _config(tmp_path, table)
    latency = config.rule("latency_p95")
    assert latency is not None and latency.threshold == 250.0
    assert latency.window == dt.timedelta(hours=1) and latency.for_ == dt.timedelta(minutes=5)
    assert latency.labels == {"model": ("a", "b")}
    assert config.rule("no_traffic") is None
    canary = config.rule("canary")
    assert canary is not None and (canary.comparator, canary.severity) == ("<", "warning")
    assert canary.matches({"model": "m", "version": "v3"})
    assert not canary.matches({"model": "m", "version": "v2"})
    assert config.clock == "data"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"clock": "sundial"}, "alerts.clock must be one of wall, data (got 'sundial')"),
        ({"colour": 1}, "unknown key alerts.colour"),
        ({"default_rules": "yes"}, "alerts.default_rules must be true or false"),
        ({"rules": {"id": "x"}}, "alerts.rules must be an array of tables"),
        (
            {"rules": [{"id": "a", "metric": "psi", "threshold": 1}] * 2},
            "alerts.rules[1].id 'a' is defined twice",
        ),
        (
            {
                "rules": [{"id": "latency_p95"}, {"id": "x", "metric": "psi", "threshold": 1}] * 1
                + [{"id": "y", "metric": "psi", "threshold": 1, "severity": "x"}]
            },
            "alerts.rules[2].severity must be one of info, warning, critical (got 'x')",
        ),
        ({"rules": [{"id": "new", "metric": "psi"}]}, "alerts.rules[0].threshold is required"),
        ({"rules": [{"id": "n", "metric": "speed", "threshold": 1}]}, "alerts.rules[0].metric"),
        (
            {"rules": [{"id": "n", "metric": "psi", "threshold": 1, "comparator": "=="}]},
            "alerts.rules[0].comparator must be one of >, >=, <, <= (got '==')",
        ),
        ({"rules": [{"id": "n", "metric": "psi", "threshold": "1"}]}, "threshold must be a number"),
        (
            {"rules": [{"id": "n", "metric": "psi", "threshold": 1, "window": "1 hour"}]},
            "alerts.rules[0].window must be a duration such as 15m",
        ),
        (
            {"rules": [{"id": "n", "metric": "psi", "threshold": 1, "window": "0m"}]},
            "alerts.rules[0].window must be longer than 0",
        ),
        (
            {"rules": [{"id": "n", "metric": "psi", "threshold": 1, "labels": {"group": "a"}}]},
            "alerts.rules[0].labels.group does not apply to metric psi (its labels: model, ",
        ),
        (
            {"rules": [{"id": "n", "metric": "psi", "threshold": 1, "labels": {"model": []}}]},
            "alerts.rules[0].labels.model must be a string or a non-empty list of strings",
        ),
        ({"rules": [{"id": "bad id", "metric": "psi", "threshold": 1}]}, "alerts.rules[0].id"),
        ({"rules": [{"id": "x", "enabled": "no"}]}, "alerts.rules[0].enabled must be true"),
        ({"webhook_url": "ftp://x"}, "alerts.webhook_url must be an http:// or https:// URL"),
        ({"webhook_retries": 2}, "alerts.webhook_retries needs alerts.webhook_url"),
        (
            {"webhook_url": "http://h", "webhook_timeout_s": 0},
            "alerts.webhook_timeout_s must be a number of seconds in (0, 60]",
        ),
        (
            {"webhook_url": "http://h", "webhook_retries": 11},
            "alerts.webhook_retries must be a whole number from 0 to 10",
        ),
    ],
)
def test_every_config_error_is_one_message_naming_the_key(
    tmp_path: Path, table: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        _config(tmp_path, table)
    assert str(raised.value).startswith("monitor.toml: ")
    assert message in str(raised.value)


def test_webhook_options(tmp_path: Path) -> None:
    table = {
        "webhook_url": "https://hooks.example.org/T0/B1/secret",
        "webhook_timeout_s": 2,
        "webhook_retries": 0,
        "dashboard_url": "http://monitor.local:8501/",
    }
    webhook = _config(tmp_path, table).webhook
    assert webhook is not None
    assert (webhook.timeout_s, webhook.retries, webhook.backoff_s) == (2.0, 0, 0.5)
    assert webhook.dashboard_url == "http://monitor.local:8501"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("1h", 3600), ("24h", 86400), ("7d", 604800), ("1h30m", 5400)],
)
def test_durations(text: str, seconds: int) -> None:
    span = parse_duration(text)
    assert span.total_seconds() == seconds
    assert parse_duration(format_duration(span)) == span


@pytest.mark.parametrize("text", ["", "1", "h", "1 h", "1y", "-1h", "1.5h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="must be a duration"):
        parse_duration(text)


def test_the_demo_config_evaluates_on_the_data_clock(tmp_path: Path) -> None:
    from monitor.core.config import load_settings
    from monitor.demo import demo_config_toml

    (tmp_path / "monitor.toml").write_text(demo_config_toml("."), encoding="utf-8")
    config = alerts_config(load_settings(tmp_path / "monitor.toml", env={}))
    latency = config.rule("latency_p95")
    assert config.clock == "data" and latency is not None and latency.threshold == 250.0
    shipped = REPO_ROOT / "monitor.toml"
    assert shipped.read_text(encoding="utf-8") == demo_config_toml("data")


def test_alert_dataclasses_are_frozen(world: Path) -> None:
    store, state = open_world(world)
    settings = alert_settings(world, [{**SLOW[0], "for": "0m"}])
    alert = _only(alerts.evaluate(store, settings, state, now=minutes(32)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        alert.state = "resolved"  # type: ignore[misc]
