"""The "Mark for rollback" button and its confirmation dialog.

The dialog offers every version to roll back ("From"), by default the worst one serving
in the window (checks failed on its own traffic), else the current version; shows the
verdict on that version, its checks and metrics against the model's baseline; defaults
the target ("To") to the newest healthy version first seen before it and shows the two
side by side. The mark keeps exactly that evidence. A refusal (no reason, someone else
was first) is shown inside the dialog, which stays open to fix it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import streamlit as st

from monitor.core.scope import Scope
from monitor.core.state import Actor
from monitor.ops.registry import rollback as registry_rollback
from monitor.ops.registry import versions as registry
from monitor.ops.registry.health import VersionCheck, healthy_before, worst_version
from monitor.ops.registry.rollback_evidence import EVIDENCE_SPAN, RollbackEvidence, evidence_window
from monitor.ops.registry.versions import ModelVersions
from monitor.ui import model_actions
from monitor.ui import models as ui_models
from monitor.ui.context import PageContext, escape_markdown
from monitor.ui.models_tables import check_rows, comparison_rows, version_name

_PENDING: Final = "models_pending_mark"
_REASON: Final = "models_reason"
_ALERTS: Final = "models_alerts"


def request_button(context: PageContext, scope: Scope, found: ModelVersions, actor: Actor) -> None:
    """ "Mark for rollback"; the dialog stays open across reruns until confirmed or closed."""
    model_id = found.model_id
    if st.button(
        "Mark for rollback",
        key="models_mark",
        help="Ask to roll a version of this model back (by default the worst one): a "
        "confirmation shows the evidence first.",
    ):
        st.session_state[_PENDING] = model_id
    if st.session_state.get(_PENDING) == model_id:
        _mark_dialog(context, scope, found, actor)


def _close_dialog() -> None:
    """Forget the pending mark and what was typed in the dialog."""
    for key in (_PENDING, _REASON, _ALERTS):
        st.session_state.pop(key, None)


def _pick_source(
    found: ModelVersions, scope: Scope, checks: Sequence[VersionCheck]
) -> VersionCheck:
    """The version to roll back: by default the worst one serving in the window (failed
    checks on its own traffic), else the current version."""
    names = [c.version for c in checks]
    by_name = {c.version: c for c in checks}
    start = scope.window.start
    serving = [v.version for v in found.usage.versions if v.last_seen >= start]
    default = worst_version(checks, current=found.current_version, serving=serving)
    target_key = _target_key(found.model_id)

    def label(version: str) -> str:
        current = " (current)" if version == found.current_version else ""
        return f"{version_name(version)}{current}: {by_name[version].verdict}"

    chosen: str = st.selectbox(
        "Roll back from",
        names,
        index=names.index(default) if default in names else len(names) - 1,
        format_func=label,
        key=f"models_from_{found.model_id}",
        on_change=lambda: st.session_state.pop(target_key, None),  # its default changes
        help="Every version, judged on its own traffic in the window. Default: the version "
        "serving in the window that fails the most checks, else the current version.",
    )
    return by_name[chosen]


def _show_check(found: VersionCheck) -> None:
    """The verdict on the version rolled back, its checks and its other metrics."""
    banner = {"reject": st.error, "inconclusive": st.warning, "healthy": st.info}
    banner[found.verdict](escape_markdown(found.summary))
    st.dataframe(check_rows(found), hide_index=True)
    if found.notes:
        st.caption("Not held against it:")
        st.text("\n".join(f"- {n}" for n in found.notes))


def _pick_target(found: ModelVersions, source: str, checks: Sequence[VersionCheck]) -> str | None:
    """The version to roll back to: by default the newest healthy one first seen before
    `source`; None (chosen by nobody yet) when there is none."""
    targets = [c.version for c in checks if c.version != source]
    if not targets:
        st.info("This model has no other version to roll back to.")
        return None
    healthy = healthy_before(checks, source)
    default = healthy.found.version if healthy.found is not None else None
    target: str | None = st.selectbox(
        "Roll back to",
        targets,
        index=targets.index(default) if default in targets else None,
        format_func=version_name,
        key=_target_key(found.model_id),
        placeholder="Choose a version",
        help="Default: the newest version first seen before the one rolled back that is "
        "healthy on its own traffic (see its checks below).",
    )
    if healthy.found is None:
        st.caption(f"No version before {escape_markdown(version_name(source))} is healthy:")
        rejected = [f"- {version_name(v)}: {'; '.join(p)}" for v, p in healthy.rejected]
        st.text("\n".join(rejected) or "- (there is none)")
    elif target == healthy.found.version:
        st.caption("The newest healthy version before the one rolled back.")
    return target


def _show_target(evidence: RollbackEvidence) -> None:
    """The target's own verdict, then target and source side by side."""
    st.markdown("**The version rolled back to, and both side by side**")
    st.caption(escape_markdown(evidence.target.summary))
    st.dataframe(comparison_rows(evidence.comparison, roles=("to", "from")), hide_index=True)
    if evidence.comparison.notes:
        st.text("\n".join(f"- {n}" for n in evidence.comparison.notes))


def _target_key(model_id: str) -> str:
    return f"models_target_{model_id}"


def _linked_alerts(context: PageContext, model_id: str) -> list[int]:
    """The firing alerts of the model that motivated the mark."""
    alerts = registry.firing_alerts(context.state, model_id)
    labels = {a.id: f"#{a.id} {a.severity} {a.rule}: {a.summary or ''}" for a in alerts}
    return st.multiselect(
        "Alerts that motivated it",
        list(labels),
        format_func=labels.__getitem__,
        key=_ALERTS,
        placeholder="Choose alerts" if labels else "No firing alerts of this model",
    )


@st.dialog("Mark for rollback", width="large", on_dismiss=_close_dialog)
def _mark_dialog(context: PageContext, scope: Scope, found: ModelVersions, actor: Actor) -> None:
    model_id = found.model_id
    scope = scope.with_window(evidence_window(scope.window))
    checks = ui_models.version_checks(context, scope)
    window = scope.window
    st.text(f"Model: {model_id}")
    st.caption(
        f"Each version is judged on its own traffic from {window.start:%Y-%m-%d %H:%M} to "
        f"{window.end:%Y-%m-%d %H:%M} UTC (the sidebar's window, at least the last "
        f"{EVIDENCE_SPAN.days} days: labels arrive days after the predictions)."
    )
    source = _pick_source(found, scope, checks)
    st.markdown("**Evidence** (kept with the mark)")
    _show_check(source)
    target = _pick_target(found, source.version, checks)
    evidence = None
    if target is not None:
        evidence = ui_models.evidence(context, scope, source.version, target)
        _show_target(evidence)
    reason = st.text_area(
        "Reason",
        max_chars=registry_rollback.MAX_REASON_CHARS,
        key=_REASON,
        placeholder="What is wrong with the version rolled back?",
    )
    linked = _linked_alerts(context, model_id)
    confirm, close = st.columns(2)
    if confirm.button("Confirm rollback mark", type="primary", key="models_mark_confirm"):
        done = model_actions.outcome(
            lambda: registry_rollback.mark(
                context.state,
                context.store,
                context.settings,
                model_id,
                reason=reason,
                actor=actor,
                from_version=source.version,
                to_version=target,
                alert_ids=linked,
                window=scope.window,
                evidence=evidence,
                reference=ui_models.reference_fit(context.store, context.settings, scope),
            ),
            f"Marked {model_id} for rollback from {version_name(source.version)} to "
            f"{version_name(target or '')}.",
        )
        if not done:  # a refusal: say it here, keep the dialog open to fix it
            model_actions.flash()
            return
        _close_dialog()
        st.rerun()
    if close.button("Close", key="models_mark_close"):
        _close_dialog()
        st.rerun()
