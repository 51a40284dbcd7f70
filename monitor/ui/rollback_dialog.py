"""The "Mark for rollback" button and its confirmation dialog.

The dialog shows the evidence first (the current version against the proposed target,
each over its own serving window), defaults the target to the last healthy version and
keeps the comparison with the mark. A refusal (no reason, someone else was first) is
shown inside the dialog, which stays open to fix it.
"""

from __future__ import annotations

from typing import Final

import streamlit as st

from monitor.core.scope import Scope
from monitor.core.state import Actor
from monitor.ops.registry import rollback as registry_rollback
from monitor.ops.registry import versions as registry
from monitor.ops.registry.versions import ModelVersions
from monitor.ui import model_actions
from monitor.ui import models as ui_models
from monitor.ui.context import PageContext
from monitor.ui.models_compare import show_comparison
from monitor.ui.models_tables import version_name

_PENDING: Final = "models_pending_mark"
_REASON: Final = "models_reason"
_ALERTS: Final = "models_alerts"


def request_button(context: PageContext, scope: Scope, found: ModelVersions, actor: Actor) -> None:
    """ "Mark for rollback"; the dialog stays open across reruns until confirmed or closed."""
    model_id = found.model_id
    if st.button(
        "Mark for rollback",
        key="models_mark",
        help="Ask to roll this model back from its current version: a confirmation "
        "shows the evidence first.",
    ):
        st.session_state[_PENDING] = model_id
    if st.session_state.get(_PENDING) == model_id:
        _mark_dialog(context, scope, found, actor)


def _close_dialog() -> None:
    """Forget the pending mark and what was typed in the dialog."""
    for key in (_PENDING, _REASON, _ALERTS):
        st.session_state.pop(key, None)


def _pick_target(context: PageContext, scope: Scope, found: ModelVersions) -> str | None:
    """The version to roll back to: by default the last healthy one before the current."""
    model_id, current = found.model_id, found.current_version
    targets = [v.version for v in found.usage.versions if v.version != current]
    if not targets:
        st.info("This model has no other version to roll back to.")
        return None
    healthy = ui_models.last_healthy(context, scope, current)
    default = healthy.found.version if healthy.found is not None else targets[-1]
    st.text(f"Model: {model_id}\nFrom (current version): {version_name(current)}")
    target: str = st.selectbox(
        "Roll back to",
        targets,
        index=targets.index(default) if default in targets else 0,
        format_func=version_name,
        key=f"models_target_{model_id}",
        help="Default: the newest earlier version that is healthy (accuracy within the "
        "allowed drop of the baseline, error rate and p95 within their thresholds).",
    )
    if healthy.found is None:
        st.caption("No earlier version is healthy in this window:")
        st.text("\n".join(f"- {version_name(v)}: {'; '.join(p)}" for v, p in healthy.rejected))
    elif target == healthy.found.version:
        st.caption("This is the last healthy version before the current one.")
    return target


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
    model_id, current = found.model_id, found.current_version
    target = _pick_target(context, scope, found)
    if target is None:
        return
    evidence = ui_models.comparison(context, scope, target, current, apart="own_windows")
    st.markdown("**Evidence** (kept with the mark)")
    show_comparison(evidence)
    reason = st.text_area(
        "Reason",
        max_chars=registry_rollback.MAX_REASON_CHARS,
        key=_REASON,
        placeholder="What is wrong with the current version?",
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
                to_version=target,
                alert_ids=linked,
                window=scope.window,
                evidence=evidence,
                reference=ui_models.reference_fit(context.store, context.settings, scope),
            ),
            f"Marked {model_id} for rollback from {version_name(current)} to "
            f"{version_name(target)}.",
        )
        if not done:  # a refusal: say it here, keep the dialog open to fix it
            model_actions.flash()
            return
        _close_dialog()
        st.rerun()
    if close.button("Close", key="models_mark_close"):
        _close_dialog()
        st.rerun()
