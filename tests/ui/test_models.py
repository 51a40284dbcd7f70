"""The Models page under AppTest: versions table against the raw demo rows, the canary
comparison against sklearn, a rollback marked through the confirmation dialog and
cancelled, a stale action shown as a warning, and the read-only mode.

The demo's state.sqlite is shared with other tests: each test cancels any open mark of
credit-risk first (through the core, as another session would) and looks only at marks
carrying its own unique reason.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from monitor.core.state import Actor, StateStore
from monitor.ops.registry import rollback
from monitor.ops.registry import versions as registry
from tests.performance_truth import labeled_predictions
from tests.registry_support import (
    accuracy,
    between,
    f1,
    insert_alert,
    labeled_in,
    raw_predictions,
    reference_rows,
    selection_screen,
    shared_period,
)
from tests.ui.test_app import APP, assert_no_exception

CREDIT = "credit-risk"
TESTER = "ui tester"


@pytest.fixture(scope="module")
def raw(demo_dir: Path) -> pd.DataFrame:
    return raw_predictions(demo_dir)


@pytest.fixture
def state(demo_dir: Path) -> StateStore:
    found = StateStore.for_data_dir(demo_dir)
    for mark in rollback.marks(found, model_id=CREDIT):
        rollback.cancel(found, mark.id, actor=Actor("test setup"), note="clearing the way")
    return found


def open_page(config: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("MONITOR_CONFIG", str(config))
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    at.switch_page("pages/models.py").run()
    assert_no_exception(at)
    return at


def frame_with(at: AppTest, *columns: str) -> pd.DataFrame:
    found = [d.value for d in at.dataframe if set(columns) <= set(d.value.columns)]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    frame: pd.DataFrame = found[0]
    return frame


def buttons(at: AppTest) -> set[str]:
    return {str(b.key) for b in at.button if b.key and str(b.key).startswith("models_")}


def test_versions_table_matches_the_raw_rows(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch, raw: pd.DataFrame
) -> None:
    at = open_page(demo_dir / "monitor.toml", monkeypatch)
    assert at.sidebar.selectbox(key="filter_model").value == CREDIT
    table = frame_with(at, "version", "traffic share", "predictions (all time)")
    credit = raw[raw["model_id"] == CREDIT]
    end = credit["timestamp"].max()
    day = between(credit, end - pd.Timedelta(days=1), end)
    assert list(table["version"]) == ["v1", "v2", "v3"]
    for _, row in table.iterrows():
        own = credit[credit["version"] == row["version"]]
        assert row["predictions (all time)"] == len(own)
        served = int((day["version"] == row["version"]).sum())
        assert row["predictions in window"] == served
        assert row["traffic share"] == pytest.approx(served / len(day))
    # nobody named: no action buttons, and the page says why
    assert buttons(at) == set()
    assert any("Your name (for the audit trail)" in c.value for c in at.caption)


def test_comparison_of_the_canary(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch, raw: pd.DataFrame
) -> None:
    at = open_page(demo_dir / "monitor.toml", monkeypatch)
    at.sidebar.selectbox(key="filter_window").set_value("All data").run()
    at.selectbox(key=f"models_baseline_{CREDIT}").set_value("v2").run()
    at.selectbox(key=f"models_candidate_{CREDIT}").set_value("v3").run()
    assert_no_exception(at)
    table = frame_with(at, "measure", "v2 (baseline)", "v3 (candidate)").set_index("measure")
    credit = raw[raw["model_id"] == CREDIT]
    start, end = shared_period(credit, "v2", "v3")
    labeled = labeled_predictions(demo_dir, CREDIT)
    for version, column in (("v2", "v2 (baseline)"), ("v3", "v3 (candidate)")):
        value, labels = accuracy(labeled, version, start, end)
        assert table.loc["accuracy", column] == f"{value:.3f} ({labels:,} labels)"
        served = between(credit[credit["version"] == version], start, end)
        assert table.loc["predictions", column] == f"{len(served):,}"
    assert [e.value for e in at.error] == ["Verdict: do not promote."]
    reasons = "\n".join(t.value for t in at.text)
    assert "points worse than v2's" in reasons


def test_mark_a_rollback_through_the_dialog_then_cancel_it(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch, state: StateStore
) -> None:
    reason = f"ui test {uuid.uuid4().hex[:8]}: <b>not html</b>"
    at = open_page(demo_dir / "monitor.toml", monkeypatch)
    at.sidebar.text_input(key="actor_name").set_value(TESTER).run()
    assert {"models_mark", "models_set_champion"} <= buttons(at)
    at.button(key="models_mark").click().run()
    assert_no_exception(at)
    # the dialog: evidence, a target (the last healthy version), a reason, alerts
    assert "models_mark_confirm" in buttons(at)
    source = at.selectbox(key=f"models_from_{CREDIT}").value
    target = at.selectbox(key=f"models_target_{CREDIT}").value
    evidence = frame_with(at, "measure", f"{target} (to)", f"{source} (from)")
    assert list(evidence["measure"])[:3] == ["accuracy", "latency p95", "error rate"]
    assert not [m for m in rollback.marks(state, model_id=CREDIT)]  # nothing saved yet
    at.text_area(key="models_reason").set_value(reason).run()
    at.button(key="models_mark_confirm").click().run()
    assert_no_exception(at)
    (mark,) = rollback.marks(state, model_id=CREDIT)
    assert (mark.reason, mark.requested_by, mark.to_version) == (reason, TESTER, target)
    assert mark.from_version == source
    assert not mark.requested_verified
    assert any(f"to {target}" in s.value for s in at.success)
    marks = frame_with(at, "id", "status", "reason")
    row = marks[marks["id"] == mark.id].iloc[0]
    assert (row["status"], row["reason"]) == ("requested", reason)
    assert row["requested by"] == f"{TESTER} (unverified)"
    assert "models_mark" not in buttons(at)  # one open mark per model

    at.button(key=f"models_cancel_{mark.id}").click().run()
    assert_no_exception(at)
    assert rollback.get(state, mark.id).status == "cancelled"
    history = frame_with(at, "action", "what", "note")
    mine = history[history["what"] == f"rollback #{mark.id}"]
    assert list(mine["action"]) == ["rollback.cancel", "rollback.mark"]
    assert mine.iloc[1]["note"] == reason


def test_the_dialog_offers_the_canary_and_judges_it_on_its_own_traffic(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch, state: StateStore, raw: pd.DataFrame
) -> None:
    """v2 is the current version (most traffic); v3, the canary, fails its checks: it is the
    default version to roll back, v2 the default target, and the verdict is about v3."""
    at = open_page(demo_dir / "monitor.toml", monkeypatch)
    at.sidebar.text_input(key="actor_name").set_value(TESTER).run()
    at.button(key="models_mark").click().run()
    assert_no_exception(at)
    source = at.selectbox(key=f"models_from_{CREDIT}")
    assert source.value == "v3"
    assert source.options == ["v1: healthy", "v2 (current): healthy", "v3: reject"]
    target = at.selectbox(key=f"models_target_{CREDIT}")
    assert (target.value, target.options) == ("v2", ["v1", "v2"])

    # the verdict and the checks, against the raw rows (7 days: the sidebar's day widened)
    credit = raw[raw["model_id"] == CREDIT]
    end = credit["timestamp"].max()
    start = end - pd.Timedelta(days=7)
    labeled = labeled_predictions(demo_dir, CREDIT, ("gender",))
    own = labeled_in(labeled, "v3", start, end)
    group, largest, ratio = selection_screen(own, "gender")
    _, _, on_reference = selection_screen(reference_rows(demo_dir, CREDIT), "gender")
    folded, reference_folded = min(ratio, 1 / ratio), min(on_reference, 1 / on_reference)
    (verdict,) = [
        e.value.replace("\\", "") for e in at.error if "v3: reject" in e.value.replace("\\", "")
    ]
    assert verdict.startswith("v3: reject — ")
    assert (
        f"fairness ratio {folded:.2f} for gender: the selection rate of {group} is "
        f"{ratio:.2f}x {largest}'s on v3's traffic" in verdict
    )
    assert not [m for m in (*at.success, *at.info) if "promote" in m.value]
    checks = frame_with(at, "check", "value", "bound", "outcome").set_index("check")
    assert checks.loc["fairness (gender)", "outcome"] == "FAILED"
    assert checks.loc["fairness (gender)", "value"] == (
        f"{folded:.2f} (selection rate of {group} {ratio:.2f}x {largest}'s)"
    )
    assert checks.loc["fairness (gender)", "bound"] == (
        f"at least 0.80; reference dataset {reference_folded:.2f}"
    )
    value, labels = accuracy(labeled, "v3", start.to_pydatetime(), end.to_pydatetime())
    assert checks.loc["accuracy", "value"] == f"{value:.3f} ({labels:,} labels)"
    assert checks.loc["f1", "value"] == f"{f1(own):.3f} ({labels:,} labels)"
    assert checks.loc["f1", "outcome"] == "not a check"

    # choosing another version to roll back changes the verdict and the default target
    source.set_value("v2").run()
    assert_no_exception(at)
    assert at.selectbox(key=f"models_target_{CREDIT}").value == "v1"
    assert any(i.value.replace("\\", "").startswith("v2: healthy — ") for i in at.info)
    at.selectbox(key=f"models_from_{CREDIT}").set_value("v3").run()
    assert at.selectbox(key=f"models_target_{CREDIT}").value == "v2"

    at.text_area(key="models_reason").set_value("v3 selects women five times as often").run()
    at.button(key="models_mark_confirm").click().run()
    assert_no_exception(at)
    (mark,) = rollback.marks(state, model_id=CREDIT)
    assert (mark.from_version, mark.to_version) == ("v3", "v2")
    assert (mark.evidence["version"], mark.evidence["verdict"]) == ("v3", "reject")
    assert any("from v3 to v2" in s.value for s in at.success)
    rollback.cancel(state, mark.id, actor=Actor("test cleanup"))


def test_an_action_someone_else_took_first_is_a_warning(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch, state: StateStore
) -> None:
    at = open_page(demo_dir / "monitor.toml", monkeypatch)
    at.sidebar.text_input(key="actor_name").set_value(TESTER).run()
    from monitor.core.config import load_settings
    from monitor.core.store import LogStore

    settings = load_settings(demo_dir / "monitor.toml", env={})
    mark = rollback.mark(
        state,
        LogStore(demo_dir),
        settings,
        CREDIT,
        to_version="v1",
        reason=f"other session {uuid.uuid4().hex[:8]}",
        actor=Actor("someone else"),
    )
    at.run()  # this session now shows the open mark
    rollback.cancel(state, mark.id, actor=Actor("someone else"))  # ...and it is closed elsewhere
    at.button(key=f"models_apply_{mark.id}").click().run()
    assert_no_exception(at)
    assert any("already cancelled by someone else" in w.value for w in at.warning)
    assert [e.value for e in at.error if not e.value.startswith("Verdict")] == []
    assert rollback.get(state, mark.id).status == "cancelled"


def test_read_only_hides_every_action(
    demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (demo_dir / "monitor.toml").read_text(encoding="utf-8")
    assert 'data_dir = "."' in text
    config = tmp_path / "monitor.toml"
    config.write_text(
        text.replace('data_dir = "."', f"data_dir = {str(demo_dir)!r}")
        + "\n[dashboard]\nread_only = true\n",
        encoding="utf-8",
    )
    at = open_page(config, monkeypatch)
    assert not [t for t in at.sidebar.text_input if t.key == "actor_name"]
    assert buttons(at) == set()
    assert any("Read-only dashboard" in c.value for c in at.caption)
    frame_with(at, "version", "traffic share")


def test_link_a_firing_alert_and_fix_a_refusal_in_the_dialog(
    demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a data directory of its own (the demo's logs linked in), so that the alert
    inserted here does not show up in other tests' inboxes."""
    for name in ("logs", "reference"):
        (tmp_path / name).symlink_to(demo_dir / name, target_is_directory=True)
    shutil.copyfile(demo_dir / "monitor.toml", tmp_path / "monitor.toml")
    state = StateStore.for_data_dir(tmp_path)

    at = open_page(tmp_path / "monitor.toml", monkeypatch)
    # inserted after the Overview's first-visit evaluation of the rules (which would
    # resolve an alert no rule raised)
    alert = insert_alert(state, CREDIT)
    insert_alert(state, "demand-forecast")
    at.sidebar.text_input(key="actor_name").set_value(TESTER).run()
    at.button(key="models_mark").click().run()
    # the firing alerts of credit-risk: the one inserted here and those the evaluation
    # raised; never demand-forecast's
    firing = registry.firing_alerts(state, CREDIT)
    offered = at.multiselect(key="models_alerts").options
    assert offered == [f"#{a.id} {a.severity} {a.rule}: {a.summary or ''}" for a in firing]
    assert f"#{alert} critical accuracy_drop: accuracy of {CREDIT} dropped" in offered
    at.button(key="models_mark_confirm").click().run()  # no reason yet
    assert_no_exception(at)
    assert any("give a reason" in e.value for e in at.error)
    assert "models_mark_confirm" in buttons(at)  # the dialog stays open
    assert rollback.marks(state, status="all") == ()

    at.text_area(key="models_reason").set_value("accuracy alert").run()
    at.multiselect(key="models_alerts").select(alert).run()
    at.button(key="models_mark_confirm").click().run()
    assert_no_exception(at)
    (mark,) = rollback.marks(state)
    assert (mark.alert_ids, mark.reason) == ((alert,), "accuracy alert")
    assert "models_mark_confirm" not in buttons(at)
    assert frame_with(at, "id", "alerts")["alerts"].tolist() == [f"#{alert}"]
