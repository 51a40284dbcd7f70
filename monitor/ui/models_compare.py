"""Widgets of a version comparison: choosing the pair, the table and the verdict."""

from __future__ import annotations

from typing import Final

import streamlit as st

from monitor.ops.registry.compare import Comparison
from monitor.ops.registry.versions import ModelVersions
from monitor.ui.models_tables import comparison_rows, version_name

VERDICT_TEXT: Final = {
    "promote": "Verdict: promote. No check failed.",
    "reject": "Verdict: do not promote.",
    "inconclusive": "Verdict: inconclusive (not enough data); do not promote yet.",
}


def pick_pair(found: ModelVersions) -> tuple[str, str] | None:
    """A baseline (the current version by default) and a candidate; None, with the reason
    shown, when there are not two different versions to compare."""
    names = [v.version for v in found.usage.versions]
    if len(names) < 2:
        st.caption("This model has a single version: nothing to compare.")
        return None
    current = found.current_version if found.current_version in names else names[-1]
    others = [n for n in names if n != current]
    left, right = st.columns(2)
    baseline = left.selectbox(
        "Baseline",
        names,
        index=names.index(current),
        format_func=version_name,
        key=f"models_baseline_{found.model_id}",
    )
    default_candidate = others[-1] if baseline == current else current
    candidate = right.selectbox(
        "Candidate",
        names,
        index=names.index(default_candidate),
        format_func=version_name,
        key=f"models_candidate_{found.model_id}",
    )
    if baseline == candidate:
        st.info("Choose two different versions.")
        return None
    return baseline, candidate


def show_comparison(result: Comparison) -> None:
    """The measures side by side, then the verdict and its reasons (plain text)."""
    st.dataframe(comparison_rows(result), hide_index=True)
    banner = {"promote": st.success, "reject": st.error, "inconclusive": st.warning}
    banner[result.verdict](VERDICT_TEXT[result.verdict])
    if result.reasons:
        st.text("\n".join(f"- {r}" for r in result.reasons))
    if result.notes:
        st.caption("Not judged:")
        st.text("\n".join(f"- {n}" for n in result.notes))
