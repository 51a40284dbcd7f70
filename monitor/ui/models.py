"""The Models page: versions, canary comparison, champion alias, rollback marks, history.

What the logs say (versions, comparisons, the last healthy version) is cached with the
store's version in the key; what people decided (aliases, marks, notes, audit) is read
from the state store on every run, so a change made elsewhere shows at the next rerun.
Version names, reasons, notes and alert summaries are shown as plain text (tables,
st.text), never as markdown or HTML. A change someone else made first (a second click,
another session) comes back as `registry.Conflict` and is shown as a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

import streamlit as st

from monitor.core.catalog import Window
from monitor.core.config import Settings
from monitor.core.errors import MonitorError
from monitor.core.state import Actor, actor_label
from monitor.core.store import LogStore
from monitor.metrics.performance.report import ReferenceFit
from monitor.ops.registry import compare as registry_compare
from monitor.ops.registry import rollback as registry_rollback
from monitor.ops.registry import versions as registry
from monitor.ops.registry.compare import Comparison, HealthyVersion, VersionMetrics
from monitor.ops.registry.rollback import RollbackMark
from monitor.ops.registry.versions import Conflict, ModelUsage, ModelVersions
from monitor.ui.context import PageContext, escape_markdown
from monitor.ui.performance import ReferenceStamp, reference_fit, reference_stamp

_FLASH: Final = "models_flash"
_PENDING: Final = "models_pending_mark"
_NOTE_TEXT: Final = "models_note_text"
_REASON: Final = "models_reason"
_ALERTS: Final = "models_alerts"
VERDICT_TEXT: Final = {
    "promote": "Verdict: promote. No check failed.",
    "reject": "Verdict: do not promote.",
    "inconclusive": "Verdict: inconclusive (not enough data); do not promote yet.",
}


# -- cached aggregates from the logs ---------------------------------------------------------


def _fit(store: LogStore, settings: Settings, model_id: str) -> ReferenceFit:
    model = settings.model(model_id)
    return reference_fit(store, model, model_id, reference_stamp(model))


def _stamp(context: PageContext, model_id: str) -> ReferenceStamp:
    """The reference file in the cache keys below (an uploaded reference can replace it)."""
    return reference_stamp(context.settings.model(model_id))


@st.cache_data(ttl=300, show_spinner="Reading versions...", max_entries=64)
def _usage(
    _store: LogStore,
    version: str,
    _settings: Settings,
    model_id: str,
    stamp: ReferenceStamp,
    window: Window,
) -> ModelUsage:
    fit = _fit(_store, _settings, model_id)
    return registry.usage(_store, _settings, model_id, window, reference=fit)


@st.cache_data(ttl=300, show_spinner="Comparing versions...", max_entries=64)
def _comparison(
    _store: LogStore,
    version: str,
    _settings: Settings,
    model_id: str,
    stamp: ReferenceStamp,
    baseline: str,
    candidate: str,
    window: Window,
    apart: str,
) -> Comparison:
    fit = _fit(_store, _settings, model_id)
    return registry_compare.compare(
        _store,
        _settings,
        model_id,
        baseline,
        candidate,
        window,
        reference=fit,
        apart="own_windows" if apart == "own_windows" else "inconclusive",
    )


@st.cache_data(ttl=300, show_spinner="Looking for the last healthy version...", max_entries=64)
def _healthy(
    _store: LogStore,
    version: str,
    _settings: Settings,
    model_id: str,
    stamp: ReferenceStamp,
    current: str,
    window: Window,
) -> HealthyVersion:
    fit = _fit(_store, _settings, model_id)
    return registry_compare.last_healthy(
        _store, _settings, model_id, current, window, reference=fit
    )


def versions(context: PageContext, model_id: str, window: Window) -> ModelVersions:
    store = context.store
    found = _usage(
        store, store.version, context.settings, model_id, _stamp(context, model_id), window
    )
    return registry.model_versions(context.state, found)


def comparison(
    context: PageContext,
    model_id: str,
    baseline: str,
    candidate: str,
    window: Window,
    *,
    apart: str = "inconclusive",
) -> Comparison:
    store = context.store
    return _comparison(
        store,
        store.version,
        context.settings,
        model_id,
        _stamp(context, model_id),
        baseline,
        candidate,
        window,
        apart,
    )


# -- tables ----------------------------------------------------------------------------------


def _name(version: str) -> str:
    return version or "(unversioned)"


def versions_table(found: ModelVersions) -> list[dict[str, Any]]:
    metric = found.usage.metric
    return [
        {
            "version": _name(v.version),
            "alias": ", ".join(found.aliases_of(v.version)),
            "current": "yes" if v.version == found.current_version else "",
            "first seen (UTC)": v.first_seen,
            "last seen (UTC)": v.last_seen,
            "predictions (all time)": v.predictions,
            "predictions in window": v.window_predictions,
            "traffic share": v.traffic_share,
            "error rate": v.error_rate,
            "p95 (ms)": v.latency_p95_ms,
            metric: v.metric_value,
            f"{metric} estimated": "estimated" if v.metric_estimated else "",
        }
        for v in found.usage.versions
    ]


def comparison_table(result: Comparison) -> list[dict[str, Any]]:
    """One row per measure, one column per version (baseline first)."""
    pair: Sequence[VersionMetrics] = (result.baseline, result.candidate)
    columns = [
        f"{_name(m.version)} ({role})"
        for m, role in zip(pair, ("baseline", "candidate"), strict=True)
    ]

    def row(measure: str, show: Callable[[VersionMetrics], str]) -> dict[str, Any]:
        return {"measure": measure} | {c: show(m) for c, m in zip(columns, pair, strict=True)}

    return [
        row(pair[0].metric, _metric_text),
        row("latency p95", lambda m: _or_na(m.latency_p95_ms, "{:,.0f} ms")),
        row("error rate", lambda m: _or_na(m.error_rate, "{:.2%}")),
        row("predictions", lambda m: f"{m.predictions:,}"),
        row("drift", lambda m: f"{m.drift.state}: {m.drift.summary}"),
        row("fairness", lambda m: f"{m.fairness.state}: {m.fairness.summary}"),
        row(
            "window (UTC)",
            lambda m: f"{m.window.start:%Y-%m-%d %H:%M} to {m.window.end:%Y-%m-%d %H:%M}",
        ),
    ]


def marks_table(found: Sequence[RollbackMark]) -> list[dict[str, Any]]:
    return [
        {
            "id": m.id,
            "from": _name(m.from_version),
            "to": _name(m.to_version),
            "status": m.status,
            "requested by": actor_label(m.requested_by, m.requested_verified),
            "requested at (UTC)": m.requested_at,
            "reason": m.reason,
            "alerts": ", ".join(f"#{a}" for a in m.alert_ids),
            "closed by": ""
            if m.closed_by is None
            else actor_label(m.closed_by, bool(m.closed_verified)),
            "closed at (UTC)": m.closed_at,
        }
        for m in found
    ]


def _metric_text(metrics: VersionMetrics) -> str:
    if metrics.value is None:
        return "n/a"
    kind = "estimated" if metrics.estimated else f"{metrics.labeled:,} labels"
    return f"{metrics.value:.3f} ({kind})"


def _or_na(value: float | None, pattern: str) -> str:
    return "n/a" if value is None else pattern.format(value)


# -- sections --------------------------------------------------------------------------------


def flash() -> None:
    """The outcome of the last action (kept across the rerun that follows it)."""
    shows = {"success": st.success, "warning": st.warning, "error": st.error}
    for kind, message in st.session_state.pop(_FLASH, []):
        shows[kind](escape_markdown(message))


def _say(kind: str, message: str) -> None:
    st.session_state[_FLASH] = [(kind, message)]


def _outcome(action: Callable[[], object], message: str) -> bool:
    """Run a state change and keep what happened for `flash`: a Conflict (someone else
    was first) is a warning, any other refusal an error."""
    try:
        action()
    except Conflict as exc:
        _say("warning", str(exc))
        return False
    except MonitorError as exc:
        _say("error", str(exc))
        return False
    _say("success", message)
    return True


def _act(action: Callable[[], object], message: str) -> None:
    """A button callback: it runs before the next run draws the page, so its outcome
    shows even when the button is gone by then (someone else closed the mark)."""
    _outcome(action, message)


def actions_note(settings: Settings, actor: Actor | None) -> None:
    if actor is not None:
        return
    if settings.read_only:
        st.caption("Read-only dashboard: marking rollbacks and setting aliases are turned off.")
    else:
        st.caption(
            'Type your name in the sidebar ("Your name (for the audit trail)") to set '
            "aliases and mark rollbacks."
        )


def render_versions(context: PageContext, found: ModelVersions, actor: Actor | None) -> None:
    window = found.usage.window
    source = (
        "holds the champion alias"
        if found.current_source == "alias"
        else "no champion alias: most predictions in the last 24 hours of traffic"
    )
    st.subheader("Versions")
    st.caption(
        f"Current version: {escape_markdown(_name(found.current_version))} ({source}). "
        f"Traffic share, error rate, p95 and {found.usage.metric} in the window "
        f"{window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC; all versions, "
        "whatever the sidebar's version filter."
    )
    st.dataframe(
        versions_table(found),
        hide_index=True,
        column_config={
            "first seen (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "last seen (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "traffic share": st.column_config.NumberColumn(format="percent"),
            "error rate": st.column_config.NumberColumn(format="percent"),
            "p95 (ms)": st.column_config.NumberColumn(format="%.0f"),
            found.usage.metric: st.column_config.NumberColumn(format="%.3f"),
        },
    )
    if actor is None:
        return
    names = [v.version for v in found.usage.versions]
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    chosen = left.selectbox(
        "Champion (the version that should serve)",
        names,
        index=names.index(found.current_version) if found.current_version in names else 0,
        format_func=_name,
        key=f"models_champion_{found.model_id}",
    )
    right.button(
        "Set champion",
        key="models_set_champion",
        on_click=_act,
        args=(
            lambda: registry.set_alias(
                context.state, context.store, found.model_id, chosen, actor=actor
            ),
            f"{_name(chosen)} is now the champion of {found.model_id}.",
        ),
    )


def render_comparison(context: PageContext, found: ModelVersions, window: Window) -> None:
    st.subheader("Compare two versions")
    names = [v.version for v in found.usage.versions]
    if len(names) < 2:
        st.caption("This model has a single version: nothing to compare.")
        return
    current = found.current_version if found.current_version in names else names[-1]
    others = [n for n in names if n != current]
    left, right = st.columns(2)
    baseline = left.selectbox(
        "Baseline",
        names,
        index=names.index(current),
        format_func=_name,
        key=f"models_baseline_{found.model_id}",
    )
    default_candidate = others[-1] if baseline == current else current
    candidate = right.selectbox(
        "Candidate",
        names,
        index=names.index(default_candidate),
        format_func=_name,
        key=f"models_candidate_{found.model_id}",
    )
    if baseline == candidate:
        st.info("Choose two different versions.")
        return
    result = comparison(context, found.model_id, baseline, candidate, window)
    st.caption(
        "Both measured over the part of the window in which both served (same traffic, same days)."
        if result.same_period
        else "They did not serve at the same time."
    )
    st.dataframe(comparison_table(result), hide_index=True)
    show_verdict(result)


def show_verdict(result: Comparison) -> None:
    banner = {"promote": st.success, "reject": st.error, "inconclusive": st.warning}
    banner[result.verdict](VERDICT_TEXT[result.verdict])
    if result.reasons:
        st.text("\n".join(f"- {r}" for r in result.reasons))
    if result.notes:
        st.caption("Not judged:")
        st.text("\n".join(f"- {n}" for n in result.notes))


def render_rollbacks(
    context: PageContext, found: ModelVersions, window: Window, actor: Actor | None
) -> None:
    st.subheader("Rollback")
    model_id = found.model_id
    marks = registry_rollback.marks(context.state, status="all", model_id=model_id)
    opened = next((m for m in marks if m.is_open), None)  # at most one per model
    if opened is not None:
        _open_mark(context, opened, actor)
    elif actor is not None:
        if st.button(
            "Mark for rollback",
            key="models_mark",
            help="Ask to roll this model back from its current version: a confirmation "
            "shows the evidence first.",
        ):
            st.session_state[_PENDING] = model_id
        if st.session_state.get(_PENDING) == model_id:
            _mark_dialog(context, found, window, actor)
    if not marks:
        st.caption("No rollback marks for this model yet.")
        return
    st.dataframe(
        marks_table(marks),
        hide_index=True,
        column_config={
            "requested at (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "closed at (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        },
    )


def _open_mark(context: PageContext, mark: RollbackMark, actor: Actor | None) -> None:
    st.warning(
        f"Rollback #{mark.id} is open: from {escape_markdown(_name(mark.from_version))} to "
        f"{escape_markdown(_name(mark.to_version))}, waiting for the deploy pipeline.",
        icon=":material/history:",
    )
    if actor is None:
        return
    applied, cancelled, _ = st.columns([1, 1, 4])
    applied.button(
        "Mark applied",
        key=f"models_apply_{mark.id}",
        on_click=_act,
        args=(
            lambda: registry_rollback.apply(context.state, mark.id, actor=actor),
            f"Rollback #{mark.id} applied: {_name(mark.to_version)} is the champion of "
            f"{mark.model_id}.",
        ),
    )
    cancelled.button(
        "Cancel rollback",
        key=f"models_cancel_{mark.id}",
        on_click=_act,
        args=(
            lambda: registry_rollback.cancel(context.state, mark.id, actor=actor),
            f"Rollback #{mark.id} cancelled.",
        ),
    )


def _close_dialog() -> None:
    """Forget the pending mark and what was typed in the dialog."""
    for key in (_PENDING, _REASON, _ALERTS):
        st.session_state.pop(key, None)


@st.dialog("Mark for rollback", width="large", on_dismiss=_close_dialog)
def _mark_dialog(context: PageContext, found: ModelVersions, window: Window, actor: Actor) -> None:
    model_id, current = found.model_id, found.current_version
    store = context.store
    targets = [v.version for v in found.usage.versions if v.version != current]
    if not targets:
        st.info("This model has no other version to roll back to.")
        return
    stamp = _stamp(context, model_id)
    healthy = _healthy(store, store.version, context.settings, model_id, stamp, current, window)
    default = healthy.found.version if healthy.found is not None else targets[-1]
    st.text(f"Model: {model_id}\nFrom (current version): {_name(current)}")
    target = st.selectbox(
        "Roll back to",
        targets,
        index=targets.index(default) if default in targets else 0,
        format_func=_name,
        key=f"models_target_{model_id}",
        help="Default: the newest earlier version that is healthy (accuracy within the "
        "allowed drop of the baseline, error rate and p95 within their thresholds).",
    )
    if healthy.found is None:
        st.caption("No earlier version is healthy in this window:")
        st.text("\n".join(f"- {_name(v)}: {'; '.join(p)}" for v, p in healthy.rejected))
    elif target == healthy.found.version:
        st.caption("This is the last healthy version before the current one.")
    evidence = comparison(context, model_id, target, current, window, apart="own_windows")
    st.markdown("**Evidence** (kept with the mark)")
    st.dataframe(comparison_table(evidence), hide_index=True)
    show_verdict(evidence)
    reason = st.text_area(
        "Reason",
        max_chars=registry_rollback.MAX_REASON_CHARS,
        key=_REASON,
        placeholder="What is wrong with the current version?",
    )
    alerts = registry.firing_alerts(context.state, model_id)
    labels = {a.id: f"#{a.id} {a.severity} {a.rule}: {a.summary or ''}" for a in alerts}
    linked = st.multiselect(
        "Alerts that motivated it",
        list(labels),
        format_func=labels.__getitem__,
        key=_ALERTS,
        placeholder="Choose alerts" if labels else "No firing alerts of this model",
    )
    confirm, close = st.columns(2)
    if confirm.button("Confirm rollback mark", type="primary", key="models_mark_confirm"):
        done = _outcome(
            lambda: registry_rollback.mark(
                context.state,
                store,
                context.settings,
                model_id,
                reason=reason,
                actor=actor,
                to_version=target,
                alert_ids=linked,
                window=window,
                evidence=evidence,
                reference=_fit(store, context.settings, model_id),
            ),
            f"Marked {model_id} for rollback from {_name(current)} to {_name(target)}.",
        )
        if not done:  # a refusal: say it here, keep the dialog open to fix it
            flash()
            return
        _close_dialog()
        st.rerun()
    if close.button("Close", key="models_mark_close"):
        _close_dialog()
        st.rerun()


def render_notes(context: PageContext, found: ModelVersions, actor: Actor | None) -> None:
    st.subheader("Notes")
    found_notes = registry.notes(context.state, found.model_id)
    if found_notes:
        st.dataframe(
            [
                {
                    "version": _name(n.version),
                    "note": n.note,
                    "by": n.written_by,
                    "at (UTC)": n.written_at,
                }
                for n in found_notes
            ],
            hide_index=True,
        )
    else:
        st.caption("No notes yet.")
    if actor is None:
        return
    names = [v.version for v in found.usage.versions]
    with st.expander("Add a note"):
        version = st.selectbox(
            "Version", names, index=len(names) - 1, format_func=_name, key="models_note_version"
        )
        st.text_area("Note", max_chars=registry.MAX_NOTE_CHARS, key=_NOTE_TEXT)
        st.button(
            "Add note",
            key="models_add_note",
            on_click=_add_note,
            args=(context, found.model_id, version, actor),
        )


def _add_note(context: PageContext, model_id: str, version: str, actor: Actor) -> None:
    """Callback: the note's text is read from the session (the value typed just before the
    click), then the field is cleared."""
    text = str(st.session_state.get(_NOTE_TEXT, ""))
    added = _outcome(
        lambda: registry.add_note(
            context.state, context.store, model_id, version, text, actor=actor
        ),
        f"Note added to {_name(version)}.",
    )
    if added:
        st.session_state[_NOTE_TEXT] = ""


def render_history(context: PageContext, model_id: str) -> None:
    st.subheader("History")
    entries = registry.history(context.state, model_id)
    if not entries:
        st.caption("Nothing recorded for this model yet.")
        return
    st.dataframe(
        [
            {
                "at (UTC)": e.at,
                "who": actor_label(e.actor, e.actor_verified),
                "action": e.action,
                "what": f"rollback #{e.entity_id}" if e.entity == "rollback" else e.entity_id,
                "change": change_text(e.before, e.after),
                "note": e.note or "",
            }
            for e in entries
        ],
        hide_index=True,
        column_config={"at (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")},
    )


def change_text(before: Any, after: Any) -> str:
    """An audit entry's change as plain text: `key: old -> new` for what changed."""
    if not isinstance(after, dict):
        return "" if after is None else str(after)
    old = before if isinstance(before, dict) else {}
    parts = []
    for key, value in after.items():
        if key not in old:
            parts.append(f"{key}: {_plain(value)}")
        elif old[key] != value:
            parts.append(f"{key}: {_plain(old[key])} -> {_plain(value)}")
    return ", ".join(parts)


def _plain(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)
