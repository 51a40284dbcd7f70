"""The verdicts a page explains, at its top, in the Overview's words.

A page never decides a verdict: the findings of its model whose rule belongs to it
(`Finding.page`) come from the one evaluation every session shares
(`monitor.ui.findings.board`), so the page and the Overview cannot disagree. What the
page measures below them (tables, tiles) is exploration over the sidebar's window and
uses the thresholds of the same rules (`rule_thresholds`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import streamlit as st

from monitor.core.config import ModelConfig, Settings, Thresholds
from monitor.findings.model import Finding, Findings, worst_first
from monitor.findings.rules import format_duration
from monitor.findings.rules_config import alerts_config, model_thresholds
from monitor.ops.alerts.actions import Alert
from monitor.ui import findings as ui_findings
from monitor.ui.context import escape_markdown

if TYPE_CHECKING:
    from monitor.ui.context import PageContext

ICONS: Final = {"critical": ":red[:material/error:]", "warning": ":orange[:material/warning:]"}
NAMES: Final = {
    "drift": "drift",
    "data_quality": "data-quality",
    "system_health": "service-health",
    "performance": "performance",
    "fairness": "fairness",
}


def rule_thresholds(settings: Settings, model: ModelConfig | None) -> Thresholds:
    """`[thresholds]` with the values this model's alert rules use instead (a configured
    rule wins), so a page's table and the model's findings draw the same line
    (`monitor.findings.rules_config.model_thresholds`)."""
    return model_thresholds(settings, None if model is None else model.id)


def rule_id(settings: Settings, metric: str, model: ModelConfig | None) -> str | None:
    """The id of the rule that judges `metric` for the model (the one `rule_threshold`
    reads), or None (no model, or no rule watches it)."""
    if model is None:
        return None
    for rule in alerts_config(settings).rules:
        if rule.metric == metric and rule.applies_to_model(model.id):
            return rule.id
    return None


@dataclass(frozen=True)
class PageFindings:
    model_id: str
    page: str
    problems: tuple[Finding, ...]
    """Breached, worst first."""
    passing: tuple[Finding, ...]
    nodata: tuple[Finding, ...]


def page_findings(found: Findings, model_id: str, page: str) -> PageFindings:
    mine = [f for f in found.found if f.model_id == model_id and f.page == page]
    return PageFindings(
        model_id,
        page,
        worst_first(f for f in mine if f.breached),
        tuple(f for f in mine if f.value is not None and not f.breached),
        tuple(f for f in mine if f.value is None),
    )


def problem_line(finding: Finding, since: str) -> str:
    """One breached finding as the Overview writes it (markdown, names escaped)."""
    severity = finding.severity or "info"
    return (
        f"{ICONS.get(severity, '')} **{escape_markdown(finding.subject)}**: "
        f"{escape_markdown(finding.headline)} · **{severity}** · {since} · "
        f"rule `{finding.rule.id}`"
    )


def passing_text(passing: Sequence[Finding]) -> str:
    """The checks that pass, per rule: a single series in its own words ("dataset_drift:
    share of drifted features 44.4% (threshold >= 50.0%)"), else how many pass."""
    by_rule: dict[str, list[Finding]] = {}
    for finding in passing:
        by_rule.setdefault(finding.rule.id, []).append(finding)
    parts = []
    for rule_id, found in by_rule.items():
        if len(found) == 1:
            parts.append(f"{rule_id}: {found[0].headline}")
        else:
            parts.append(f"{rule_id}: {len(found)} series within the threshold")
    return "; ".join(parts)


def show(context: PageContext, page: str, model: ModelConfig | None, *, logs: bool) -> None:
    """The page's findings for `model` (none for an uploaded pair: rules judge logs)."""
    name = NAMES.get(page, page)
    if not logs or model is None:
        st.caption(f"The {name} rules judge logged predictions; uploaded datasets are not judged.")
        return
    board = ui_findings.board(context.store, context.settings, context.state)
    shown = page_findings(board.findings, model.id, page)
    alerts: dict[str, Alert] = ui_findings.open_alerts(context.state)
    with st.container(border=True):
        st.markdown(f"**What the {name} rules find for {escape_markdown(model.id)}**")
        for finding in shown.problems:
            since = ui_findings.since_text(alerts.get(finding.fingerprint), finding)
            st.markdown(problem_line(finding, since))
        if not shown.problems:
            st.markdown(f":green[:material/check_circle:] No {name} rule is breached.")
        if shown.passing:
            st.caption("Passing: " + escape_markdown(passing_text(shown.passing)) + ".")
        if shown.nodata:
            st.caption(
                "No data: "
                + escape_markdown("; ".join(f"{f.rule.id}: {f.series.note}" for f in shown.nodata))
            )
        windows = sorted({format_duration(f.rule.window) for f in board.findings.found
                          if f.model_id == model.id and f.page == page})  # fmt: skip
        st.caption(
            f"Each rule judges its own window ({', '.join(windows) or 'none'}) ending at the "
            "model's newest prediction, as on the Overview; the tables below measure the "
            "window chosen in the sidebar."
        )
