"""Model versions from the logs plus the registry (aliases, notes), checked against the
raw demo files read with pyarrow and json; a StateStore on a temporary path per test."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from monitor.core.catalog import Window
from monitor.core.config import Settings, load_settings
from monitor.core.errors import InputError
from monitor.core.state import Actor, StateStore
from monitor.core.store import LogStore
from monitor.ops.registry import versions as registry
from monitor.ops.registry.versions import Conflict
from tests.registry_support import between, insert_alert, p95, raw_predictions

CREDIT = "credit-risk"
ANN = Actor("ann")


@pytest.fixture(scope="module")
def store(demo_dir: Path) -> LogStore:
    return LogStore(demo_dir)


@pytest.fixture(scope="module")
def settings(demo_dir: Path) -> Settings:
    return load_settings(demo_dir / "monitor.toml", env={})


@pytest.fixture(scope="module")
def raw(demo_dir: Path) -> pd.DataFrame:
    return raw_predictions(demo_dir)


@pytest.fixture
def state(tmp_path: Path) -> StateStore:
    return StateStore(tmp_path / "state.sqlite")


def busiest_last_day(rows: pd.DataFrame) -> str:
    """The version with the most predictions in the 24 hours before the newest one."""
    end = rows["timestamp"].max()
    recent = between(rows, end - pd.Timedelta(days=1), end)
    counts = recent.groupby("version").size()
    return str(counts.idxmax())


@pytest.mark.parametrize("span", [dt.timedelta(days=1), dt.timedelta(days=7), None])
def test_versions_match_the_raw_rows(
    store: LogStore,
    settings: Settings,
    raw: pd.DataFrame,
    state: StateStore,
    span: dt.timedelta | None,
) -> None:
    for model_id, rows in raw.groupby("model_id"):
        end = rows["timestamp"].max().to_pydatetime()
        start = rows["timestamp"].min().to_pydatetime() if span is None else end - span
        found = registry.model_versions(
            state, registry.usage(store, settings, str(model_id), Window(start, end))
        )
        in_window = between(rows, start, end)
        expected = rows.groupby("version")
        assert [v.version for v in found.usage.versions] == sorted(
            expected.groups, key=lambda v: expected.get_group(v)["timestamp"].min()
        )
        for version in found.usage.versions:
            own = expected.get_group(version.version)
            assert version.predictions == len(own)
            assert version.first_seen == own["timestamp"].min().to_pydatetime()
            assert version.last_seen == own["timestamp"].max().to_pydatetime()
            served = in_window[in_window["version"] == version.version]
            assert version.window_predictions == len(served)
            assert version.traffic_share == pytest.approx(len(served) / len(in_window))
            if len(served):
                errors = (served["status"] == "error").mean()
                assert version.error_rate == pytest.approx(errors)
                assert version.latency_p95_ms == pytest.approx(p95(served["latency_ms"]))
            else:
                assert (version.error_rate, version.metric_value) == (None, None)
        assert found.current_source == "traffic"
        assert found.current_version == busiest_last_day(rows)


def test_the_canary_is_not_current_without_an_alias(
    store: LogStore, settings: Settings, raw: pd.DataFrame, state: StateStore
) -> None:
    """v3 serves 10% until the end: the busiest version of the last day (v2) is current."""
    found = registry.model_versions(state, registry.usage(store, settings, CREDIT))
    credit = raw[raw["model_id"] == CREDIT]
    last = credit.sort_values("timestamp")["version"].iloc[-1]
    assert found.current_version == "v2" == busiest_last_day(credit)
    shares = {v.version: v.traffic_share for v in found.usage.versions}
    assert shares["v3"] < 0.2 < shares["v2"]
    assert last in ("v2", "v3")  # whichever answered last does not matter


def test_champion_alias_decides_the_current_version_and_moves_with_audit(
    store: LogStore, settings: Settings, state: StateStore
) -> None:
    registry.set_alias(state, store, CREDIT, "v3", actor=ANN, note="promote the canary")
    found = registry.model_versions(state, registry.usage(store, settings, CREDIT, metrics=False))
    assert (found.current_version, found.current_source) == ("v3", "alias")
    assert found.aliases_of("v3") == ("champion",)
    registry.set_alias(state, store, CREDIT, "v2", actor=Actor("bob", verified=True))
    assert registry.current_version(state, store, settings, CREDIT) == ("v2", "alias")
    document = registry.model_versions(
        state, registry.usage(store, settings, CREDIT, metrics=False)
    ).to_document()
    assert {v["version"]: v["alias"] for v in document["versions"]} == {
        "v1": None,
        "v2": "champion",
        "v3": None,
    }
    entries = state.audit_log(entity="model", entity_id=CREDIT)
    assert [(e.action, e.actor, e.actor_verified) for e in entries] == [
        ("alias.set", "bob", True),
        ("alias.set", "ann", False),
    ]
    assert entries[0].before == {"alias": "champion", "version": "v3"}
    assert entries[0].after == {"alias": "champion", "version": "v2"}
    assert entries[1].before == {"alias": "champion", "version": None}
    assert entries[1].note == "promote the canary"


def test_alias_refusals(store: LogStore, state: StateStore) -> None:
    registry.set_alias(state, store, CREDIT, "v2", actor=ANN)
    with pytest.raises(Conflict, match="already holds"):
        registry.set_alias(state, store, CREDIT, "v2", actor=ANN)
    with pytest.raises(InputError, match="no version 'v9'"):
        registry.set_alias(state, store, CREDIT, "v9", actor=ANN)
    with pytest.raises(InputError, match="unknown model 'nope'"):
        registry.set_alias(state, store, "nope", "v1", actor=ANN)
    with pytest.raises(InputError, match="not valid"):
        registry.set_alias(state, store, CREDIT, "v1", alias="Champion; DROP", actor=ANN)
    assert len(state.audit_log(entity="model", entity_id=CREDIT)) == 1


def test_notes_are_kept_verbatim_and_audited(store: LogStore, state: StateStore) -> None:
    text = "<script>alert(1)</script> **not bold**"
    note = registry.add_note(state, store, CREDIT, "v3", f"  {text}\n", actor=ANN)
    assert registry.notes(state, CREDIT) == (note,)
    assert note.note == text and note.version == "v3"
    with pytest.raises(InputError, match="empty"):
        registry.add_note(state, store, CREDIT, "v3", "   ", actor=ANN)
    with pytest.raises(InputError, match="too long"):
        registry.add_note(state, store, CREDIT, "v3", "x" * 2001, actor=ANN)
    with pytest.raises(InputError, match="no version"):
        registry.add_note(state, store, CREDIT, "v7", "hello", actor=ANN)
    (entry,) = state.audit_log(entity="model", entity_id=CREDIT)
    assert (entry.action, entry.note, entry.after) == (
        "note.add",
        text,
        {"version": "v3", "note_id": note.id},
    )


def test_firing_alerts_of_one_model(state: StateStore) -> None:
    firing = insert_alert(state, CREDIT)
    insert_alert(state, CREDIT, alert_state="resolved")
    insert_alert(state, "demand-forecast")
    found = registry.firing_alerts(state, CREDIT)
    assert [a.id for a in found] == [firing]
    assert (found[0].rule, found[0].severity) == ("accuracy_drop", "critical")
    assert registry.firing_alerts(state, "nope") == ()
