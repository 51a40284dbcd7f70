"""The Alerts page and the Overview's active alerts under AppTest.

Each test works on its own copy of a small demo data directory (4 days, 3,000
predictions) so acknowledgements and silences never leak between tests. What the page
shows is checked against the state read back with monitor.ops.alerts, and the Overview's
counts against a plain count over every stored alert.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from monitor.core.config import load_settings
from monitor.core.errors import MonitorError
from monitor.core.state import Actor, StateStore, utc_now
from monitor.core.store import LogStore
from monitor.findings.rules_config import alerts_config
from monitor.ops.alerts import actions as alerts
from monitor.ops.alerts import format as alert_format
from monitor.ui import alerts as ui_alerts
from monitor.ui import context as ui
from tests.ops.alerts.support import make_alert
from tests.ui.test_app import APP, assert_no_exception

PAGE = "pages/alerts.py"
HOSTILE = "<script>alert(1)</script> **bold** [link](javascript:alert(2)) :red[x]"


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from monitor.demo import generate_demo

    path = tmp_path_factory.mktemp("alerts_demo") / "data"
    generate_demo(path, days=4, predictions=3000)
    return path


@pytest.fixture
def data_dir(small_demo: Path, tmp_path: Path) -> Path:
    """A private copy of the small demo (logs and monitor.toml; no state yet)."""
    path = tmp_path / "data"
    shutil.copytree(small_demo, path, ignore=shutil.ignore_patterns("state.sqlite*"))
    return path


def state_of(data_dir: Path) -> StateStore:
    return StateStore.for_data_dir(data_dir)


def evaluate_directly(data_dir: Path) -> alerts.EvaluationResult:
    settings = load_settings(data_dir / "monitor.toml")
    state = state_of(data_dir)
    try:
        return alerts.evaluate(LogStore(settings.data_dir), settings, state)
    finally:
        state.close()


def open_app(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, *, config: Path | None = None
) -> AppTest:
    monkeypatch.setenv("MONITOR_CONFIG", str(config or data_dir / "monitor.toml"))
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    assert_no_exception(at)
    return at


def open_alerts(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, *, name: str | None = None
) -> AppTest:
    monkeypatch.setenv("MONITOR_CONFIG", str(data_dir / "monitor.toml"))
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.switch_page(PAGE).run()  # straight to the page, without drawing the Overview first
    assert_no_exception(at)
    assert at.title[0].value == "Alerts"
    if name is not None:
        at.sidebar.text_input(key="actor_name").input(name).run()
        assert_no_exception(at)
    return at


def shown_alert_ids(at: AppTest) -> list[int]:
    """The ids in the card headings, in page order."""
    ids = []
    for block in at.markdown:
        if " · alert " in block.value:
            ids.append(int(block.value.rsplit(" · alert ", 1)[1]))
    return ids


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def open_drawer(at: AppTest, key: str) -> None:
    """Open a popover (Acknowledge, Silence): its form is drawn only while it is open."""
    at.session_state[key] = True
    at.run()
    assert_no_exception(at)


def show(at: AppTest, view: str) -> None:
    at.button_group(key="alerts_view").set_value(view).run()
    assert_no_exception(at)


def test_first_visit_checks_the_rules_and_the_inbox_matches_the_state(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_alerts(data_dir, monkeypatch)
    assert at.title[0].value == "Alerts"
    # the state had never been evaluated: the page did it once
    assert any(s.value.startswith("Checked the rules") for s in at.success)

    state = state_of(data_dir)
    stored = {view: alerts.list_alerts(state, state_filter=view) for view in ui_alerts.VIEWS}
    everything = alerts.list_alerts(state, state_filter="all")
    assert everything, "the small demo raised no alert at all"
    assert stored["firing"], "the small demo has nothing firing"
    # nobody acknowledged or silenced anything yet
    counts: Counter[str] = Counter(a.state for a in everything)
    control = at.button_group(key="alerts_view")
    assert control.value == "firing"
    assert control.options == [
        f"{ui_alerts.VIEW_LABELS[view]} ({counts[view]})" for view in ui_alerts.VIEWS
    ]
    assert [len(stored[view]) for view in ui_alerts.VIEWS] == [
        counts[view] for view in ui_alerts.VIEWS
    ]
    # firing first, most severe first: the order list_alerts gives
    assert shown_alert_ids(at) == [a.alert_id for a in stored["firing"]]

    show(at, "nodata")
    nodata = sorted(a.alert_id for a in everything if a.state == "nodata")
    assert sorted(shown_alert_ids(at)) == nodata

    # when the rules were last checked: by the page, a moment ago
    checked = alerts.last_evaluation(state)
    assert checked is not None
    assert f"Rules last checked just now ({alert_format.format_utc(checked)})." in captions(at)

    # a second session does not evaluate again: the state was evaluated
    audited = len(state.audit_log(entity="alert", limit=10_000))
    again = open_alerts(data_dir, monkeypatch)
    assert not any(s.value.startswith("Checked the rules") for s in again.success)
    assert len(state.audit_log(entity="alert", limit=10_000)) == audited
    assert alerts.last_evaluation(state) == checked


def test_check_rules_now_reports_the_transitions(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_alerts(data_dir, monkeypatch)
    state = state_of(data_dir)
    before = len(state.audit_log(entity="alert", limit=10_000))
    at.button(key="alerts_check_now").click().run()
    assert_no_exception(at)
    after = len(state.audit_log(entity="alert", limit=10_000))
    # every transition is audited once: the message counts what the audit gained
    changes = after - before
    messages = [s.value for s in at.success if s.value.startswith("Checked the rules")]
    assert len(messages) == 1, messages
    assert f": {changes} change{'s' if changes != 1 else ''} of state" in messages[0]
    unresolved = len(alerts.list_alerts(state, state_filter="active"))
    assert f"{unresolved} unresolved alert" in messages[0]


def test_a_state_checked_with_nothing_to_report_is_not_checked_again(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "Checked, all quiet" is not "never checked": no rules, no alerts, one evaluation."""
    quiet = data_dir / "quiet.toml"
    config = (data_dir / "monitor.toml").read_text(encoding="utf-8")
    assert config.count("[alerts]") == 1  # the last table: replaced by one without rules
    quiet.write_text(
        config.split("[alerts]")[0] + "[alerts]\ndefault_rules = false\n", encoding="utf-8"
    )
    settings = load_settings(quiet)
    assert alerts_config(settings).rules == ()
    state = state_of(data_dir)
    result = alerts.evaluate(LogStore(settings.data_dir), settings, state)
    assert result.alerts == ()
    checked = alerts.last_evaluation(state)
    assert checked is not None

    at = open_app(data_dir, monkeypatch, config=quiet)  # the Overview: zeros, not a hint
    assert not any("have not been checked yet" in i.value for i in at.info)
    assert {m.label: m.value for m in at.metric}["Critical"] == "0"
    # The Overview evaluates the rules itself (once per data version): the Alerts page
    # then finds them checked and does not check again.
    overview_checked = alerts.last_evaluation(state)
    assert overview_checked is not None and overview_checked >= checked
    at.switch_page(PAGE).run()
    assert_no_exception(at)
    assert not any(s.value.startswith("Checked the rules") for s in at.success)
    assert alerts.last_evaluation(state) == overview_checked
    assert (
        f"Rules last checked just now ({alert_format.format_utc(overview_checked)})."
        in captions(at)
    )
    assert at.button_group(key="alerts_view").options[0] == "Firing (0)"


def test_acknowledge_with_a_note_is_persisted_and_audited(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_alerts(data_dir, monkeypatch, name="Ann")
    state = state_of(data_dir)
    target = alerts.list_alerts(state, state_filter="firing")[0]
    assert not at.text_area  # no form is drawn until its popover opens
    open_drawer(at, f"ack_open_{target.alert_id}")
    at.text_area(key=f"ack_note_{target.alert_id}").input("looking into it")
    at.button(key=f"ack_{target.alert_id}").click().run()
    assert_no_exception(at)

    stored = alerts.get_alert(state, target.alert_id)
    assert stored.acknowledged_by == "Ann"
    assert stored.acknowledged_verified is False
    assert stored.note == "looking into it"
    assert [a.alert_id for a in alerts.list_alerts(state, state_filter="acknowledged")] == [
        target.alert_id
    ]
    assert any(f"Alert {target.alert_id} acknowledged" in s.value for s in at.success)
    # it left the Firing view (someone has it) for the Acknowledged one, whose card
    # offers to take it back instead
    assert f"ack_open_{target.alert_id}" not in {b.key for b in at.button}
    at.button_group(key="alerts_view").set_value("acknowledged").run()
    keys = {b.key for b in at.button}
    assert f"ack_{target.alert_id}" not in keys
    assert f"unack_{target.alert_id}" in keys
    assert "looking into it" in [t.value for t in at.text]
    assert at.button_group(key="alerts_view").options[3] == "Acknowledged (1)"

    history = at.dataframe[0].value
    mine = (history["action"] == "acknowledge") & (history["alert"] == f"alert {target.alert_id}")
    row = history[mine]
    assert len(row) == 1
    assert row.iloc[0]["who"] == "Ann (unverified)"
    assert row.iloc[0]["note"] == "looking into it"

    at.button(key=f"unack_{target.alert_id}").click().run()
    assert_no_exception(at)
    assert not alerts.get_alert(state, target.alert_id).acknowledged


def test_a_second_acknowledgement_gets_a_warning_not_an_error(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = open_alerts(data_dir, monkeypatch, name="Ann")
    second = open_alerts(data_dir, monkeypatch, name="Bob")
    state = state_of(data_dir)
    target = alerts.list_alerts(state, state_filter="firing")[0].alert_id
    # both sessions show the alert unacknowledged; Ann is first
    open_drawer(first, f"ack_open_{target}")
    open_drawer(second, f"ack_open_{target}")
    first.button(key=f"ack_{target}").click().run()
    second.text_area(key=f"ack_note_{target}").input("me too")
    second.button(key=f"ack_{target}").click().run()
    assert_no_exception(second)

    warnings = [w.value for w in second.warning]
    assert any(
        w.startswith(f"alert {target} was already acknowledged by Ann (unverified) at ")
        for w in warnings
    ), warnings
    assert not second.error
    stored = alerts.get_alert(state, target)
    assert (stored.acknowledged_by, stored.note) == ("Ann", None)
    audit = state.audit_log(entity="alert", entity_id=str(target))
    assert [e.actor for e in audit if e.action == "acknowledge"] == ["Ann"]


def test_silence_needs_a_reason_then_mutes_the_fingerprint_until_the_preset(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_alerts(data_dir, monkeypatch, name="Ann")
    state = state_of(data_dir)
    target = alerts.list_alerts(state, state_filter="firing")[0]
    key = target.alert_id

    open_drawer(at, f"silence_open_{key}")
    at.radio(key=f"silence_for_{key}").set_value("4 hours")
    at.button(key=f"silence_{key}").click().run()
    assert_no_exception(at)
    assert any("reason" in e.value for e in at.error), [e.value for e in at.error]
    assert alerts.active_silences(state) == ()

    at.radio(key=f"silence_for_{key}").set_value("4 hours")
    at.text_input(key=f"silence_reason_{key}").input("planned retraining")
    started = utc_now()
    at.button(key=f"silence_{key}").click().run()
    assert_no_exception(at)
    silences = alerts.active_silences(state)
    assert [(s.fingerprint, s.reason, s.created_by) for s in silences] == [
        (target.fingerprint, "planned retraining", "Ann")
    ]
    expected = started + dt.timedelta(hours=4)
    assert abs((silences[0].until - expected).total_seconds()) < 60
    assert at.button_group(key="alerts_view").options[4] == "Silenced (1)"
    at.button_group(key="alerts_view").set_value("silenced").run()

    at.button(key=f"unsilence_{key}").click().run()
    assert_no_exception(at)
    assert alerts.active_silences(state) == ()
    audit = state.audit_log(entity="fingerprint", entity_id=target.fingerprint)
    assert [e.action for e in audit] == ["unsilence", "silence"]


def test_silence_until_a_date_that_has_passed_is_refused(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_alerts(data_dir, monkeypatch, name="Ann")
    state = state_of(data_dir)
    key = alerts.list_alerts(state, state_filter="firing")[0].alert_id
    open_drawer(at, f"silence_open_{key}")
    at.radio(key=f"silence_for_{key}").set_value("Until the date below")
    at.date_input(key=f"silence_date_{key}").set_value(dt.date(2020, 1, 1))
    at.text_input(key=f"silence_reason_{key}").input("too late")
    at.button(key=f"silence_{key}").click().run()
    assert_no_exception(at)
    assert any("future" in e.value for e in at.error), [e.value for e in at.error]
    assert alerts.active_silences(state) == ()


def test_read_only_config_hides_every_action(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    evaluate_directly(data_dir)
    config = data_dir / "read_only.toml"
    config.write_text(
        (data_dir / "monitor.toml").read_text(encoding="utf-8")
        + "\n[dashboard]\nread_only = true\n",
        encoding="utf-8",
    )
    at = open_app(data_dir, monkeypatch, config=config)
    at.switch_page(PAGE).run()
    assert_no_exception(at)

    firing = alerts.list_alerts(state_of(data_dir), state_filter="firing")
    assert shown_alert_ids(at) == [a.alert_id for a in firing]
    assert [b.key for b in at.main.button] == []
    # not even an open popover would draw a form: there is none
    open_drawer(at, f"ack_open_{firing[0].alert_id}")
    open_drawer(at, f"silence_open_{firing[0].alert_id}")
    assert not at.main.text_area and not at.main.text_input and not at.main.radio
    assert not [t for t in at.sidebar.text_input if t.key == "actor_name"]
    assert any("Read-only" in c.value for c in at.caption)
    checked = alerts.last_evaluation(state_of(data_dir))
    assert checked is not None
    assert any(f"Rules last checked just now ({alert_format.format_utc(checked)})." in c
               for c in captions(at))  # fmt: skip


def test_without_a_name_there_are_no_actions_and_a_hint(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_alerts(data_dir, monkeypatch)
    assert [b.key for b in at.main.button] == ["alerts_check_now"]
    assert any("Your name (for the audit trail)" in i.value for i in at.info)
    first = alerts.list_alerts(state_of(data_dir), state_filter="firing")[0].alert_id
    open_drawer(at, f"ack_open_{first}")
    open_drawer(at, f"silence_open_{first}")
    assert not at.main.text_area and not at.main.radio


def test_a_hostile_note_is_shown_as_literal_text(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    evaluate_directly(data_dir)
    state = state_of(data_dir)
    target = alerts.list_alerts(state, state_filter="firing")[0].alert_id
    alerts.acknowledge(state, target, Actor("<b>Mallory</b>"), HOSTILE)

    at = open_alerts(data_dir, monkeypatch)
    show(at, "acknowledged")
    assert shown_alert_ids(at) == [target]
    assert HOSTILE in [t.value for t in at.text]  # st.text: shown character for character
    for block in [*at.markdown, *at.caption]:
        assert "<script>" not in block.value and "<b>" not in block.value, block.value
    acked = [m.value for m in at.markdown if "Acknowledged by" in m.value]
    assert acked and r"\<b\>Mallory\</b\> \(unverified\)" in acked[0]
    history = at.dataframe[0].value
    assert HOSTILE in set(history["note"])


def test_overview_counts_active_alerts_by_severity(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(data_dir, monkeypatch)
    # A first visit is never "not checked yet": the Overview evaluates the rules.
    assert not any("have not been checked yet" in i.value for i in at.info)
    assert "Critical" in {m.label for m in at.metric}
    assert alerts.last_evaluation(state_of(data_dir)) is not None

    evaluate_directly(data_dir)
    state = state_of(data_dir)
    everything = alerts.list_alerts(state, state_filter="all")
    now = utc_now()

    def needing_someone(model_id: str | None = None) -> Counter[str]:
        return Counter(
            a.severity
            for a in everything
            if a.state != "resolved"
            and not a.acknowledged
            and not a.silenced(now)
            and (model_id is None or a.labels.get("model") == model_id)
        )

    at.run()
    assert_no_exception(at)
    values = {m.label: m.value for m in at.metric}
    expected = needing_someone()
    assert sum(expected.values()) > 0
    active = alerts.active_counts(state)
    for severity in ("critical", "warning", "info"):
        assert int(values[severity.capitalize()]) == expected[severity] == active[severity]

    for model_id in {a.labels["model"] for a in everything}:
        counts = needing_someone(model_id)
        parts = [f"{counts[s]} {s}" for s in ("critical", "warning", "info") if counts[s]]
        line = f":material/notifications: Active alerts: {', '.join(parts)}"
        assert line in [c.value for c in at.caption], (model_id, line)

    # acknowledging one takes it off the count
    first = next(a for a in everything if a.state != "resolved")
    alerts.acknowledge(state, first.alert_id, Actor("Ann"))
    at.run()
    values = {m.label: m.value for m in at.metric}
    assert int(values[first.severity.capitalize()]) == expected[first.severity] - 1


# -- the formatting helpers ----------------------------------------------------------------------


NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (dt.timedelta(seconds=30), "just now"),
        (dt.timedelta(minutes=5), "5 min ago"),
        (dt.timedelta(hours=3, minutes=12), "3 h 12 min ago"),
        (dt.timedelta(hours=2), "2 h ago"),
        (dt.timedelta(days=2, hours=1, minutes=40), "2 d 1 h ago"),
        (dt.timedelta(days=7), "7 d ago"),
        (-dt.timedelta(hours=4), "in 4 h"),
    ],
)
def test_ago(delta: dt.timedelta, text: str) -> None:
    assert alert_format.ago(NOW - delta, NOW) == text


def test_silence_until_presets_and_dates() -> None:
    assert alert_format.silence_until("1 hour", None, None, NOW) == NOW + dt.timedelta(hours=1)
    assert alert_format.silence_until("7 days", None, None, NOW) == NOW + dt.timedelta(days=7)
    chosen = alert_format.silence_until(
        "Until the date below", dt.date(2024, 5, 3), dt.time(9, 30), NOW
    )
    assert chosen == dt.datetime(2024, 5, 3, 9, 30, tzinfo=dt.UTC)
    with pytest.raises(MonitorError, match="date and time"):
        alert_format.silence_until("Until the date below", None, dt.time(9), NOW)


def test_audit_change_lists_only_what_changed() -> None:
    assert (
        alert_format.change({"state": "pending", "value": 0.3}, {"state": "firing", "value": 0.3})
        == "state: pending -> firing"
    )
    acknowledged = {"acknowledged_by": "Ann", "acknowledged_at": "2024-05-01T12:00:00+00:00"}
    assert (
        alert_format.change({"acknowledged_by": None}, acknowledged) == "acknowledged_by: – -> Ann"
    )
    assert alert_format.change(
        None, {"state": "firing", "evaluated_at": "2024-05-01T12:00:00+00:00"}
    ) == ("state: – -> firing")
    silence = {"until": "2024-05-01T16:00:00.000000+00:00", "reason": "retraining"}
    assert alert_format.change(None, silence) == (
        "reason: – -> retraining; until: – -> 2024-05-01 16:00 UTC"
    )


def test_escape_markdown_leaves_no_markup() -> None:
    text = "a_b *c* <i>d</i> :red[e] [f](g) `h` $x$ # i"
    escaped = ui.escape_markdown(text)
    # every markup character is backslash-escaped, and nothing else changed
    assert re.search(r"(?<!\\)[_*<>\[\]():`$#]", escaped) is None, escaped
    assert escaped.replace("\\", "") == text


def test_value_against_threshold_in_the_metrics_unit() -> None:
    assert alert_format.comparison(make_alert(), "ms") == "value 612 ms > 500 ms"
    share = make_alert(value=0.0731, threshold=0.05)
    assert alert_format.comparison(share, "share") == "value 7.3% > 5.0%"
    assert alert_format.comparison(share, None) == "value 0.0731 > 0.05"
    missing = make_alert(value=None, comparator=">=", threshold=0.5)
    assert alert_format.comparison(missing, "") == "no data (the rule fires when ≥ 0.5)"
    assert alert_format.comparison(make_alert(value=12_345.6), None) == "value 12,346 > 500"


def test_counts_are_whole_numbers_never_cut() -> None:
    assert ui_alerts.count_label("firing", 3) == "Firing (3)"
    assert ui_alerts.count_label("resolved", 1000) == "Resolved (1,000)"
    assert ui_alerts.count_label("nodata", 12_345) == "No data (12,345)"
