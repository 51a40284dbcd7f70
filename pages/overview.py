"""Overview: what is wrong now, how bad, and what to do; then each model at a glance."""

import streamlit as st

from monitor.core.scope import Scope
from monitor.findings.model import Finding, Findings
from monitor.metrics.health.service import in_window
from monitor.ops.alerts.actions import Alert
from monitor.ui import alerts as ui_alerts
from monitor.ui import context as ui
from monitor.ui import findings as ui_findings
from monitor.ui import health as ui_health
from monitor.ui import report as ui_report
from monitor.ui.charts import traffic as charts

MAX_LINES = 8
"""Incident lines shown before the rest fold into an expander."""
ICONS = {"critical": ":red[:material/error:]", "warning": ":orange[:material/warning:]"}


def incident_line(finding: Finding, alert: Alert | None) -> None:
    """One problem: who, what, how bad, since when, and the next actions."""
    severity = finding.severity or "info"
    with st.container(border=True):
        text, actions = st.columns([5, 4], vertical_alignment="center")
        text.markdown(
            f"{ICONS.get(severity, '')} **{ui.escape_markdown(finding.subject)}**: "
            f"{ui.escape_markdown(finding.headline)}  \n"
            f"**{severity}** · {ui_findings.since_text(alert, finding)} · "
            f"rule `{finding.rule.id}`"
        )
        if alert is not None and alert.acknowledged:
            text.caption(f"Acknowledged by {ui.escape_markdown(alert.acknowledged_by or '')}")
        elif alert is not None and alert.silenced():
            text.caption(f"Silenced until {alert.silenced_until:%Y-%m-%d %H:%M} UTC")
        explain, act, versions = actions.columns([1, 1.4, 1.1])
        explain.page_link(
            ui_findings.PAGES[finding.page],
            label="Explain",
            icon=":material/search:",
            query_params=ui_findings.link_params(finding),
        )
        act.page_link("pages/alerts.py", label="Acknowledge", icon=":material/done:")
        if finding.version:
            versions.page_link(
                "pages/models.py",
                label="Versions",
                icon=":material/history:",
                query_params={"model": finding.model_id},
            )


def incident_board(found: Findings, alerts: dict[str, Alert], evaluated: str) -> None:
    """What is wrong now, worst first; healthy models in one line each."""
    problems = found.problems()
    st.subheader("What is wrong now")
    st.caption(
        f"{len(found.found):,} checks of {found.rules} rules over {len(found.models())} "
        f"models, each as of its newest prediction; {evaluated}"
    )
    if not problems:
        st.success("Nothing is wrong: every check passes.", icon=":material/check_circle:")
    for finding in problems[:MAX_LINES]:
        incident_line(finding, alerts.get(finding.fingerprint))
    if len(problems) > MAX_LINES:
        with st.expander(f"{len(problems) - MAX_LINES} more problems"):
            for finding in problems[MAX_LINES:]:
                incident_line(finding, alerts.get(finding.fingerprint))
    for model_id in found.models():
        mine = found.problems(model_id)
        checks = sum(1 for f in found.found if f.model_id == model_id)
        if not mine and not found.unmeasured(model_id):
            st.markdown(
                f":green[:material/check_circle:] **{ui.escape_markdown(model_id)}**: "
                f"healthy, {checks} checks pass"
            )
    for blind in found.unmeasured():
        st.warning(f"Unknown: {ui.escape_markdown(blind.headline)}", icon=":material/help:")


BADGES = {
    "ok": ":green-badge[:material/check: ok]",
    "warning": ":orange-badge[:material/warning: warning]",
    "critical": ":red-badge[:material/error: critical]",
    "unknown": ":gray-badge[:material/help: unknown]",
}


def family_verdict(found: Findings, model_id: str, page: str) -> tuple[str, str]:
    """The worst finding of one page's family for a model: (badge, why); unknown when
    none is found but a rule of the family could not be measured."""
    problems = [f for f in found.problems(model_id) if f.page == page]
    blind = [u for u in found.unmeasured(model_id) if page in u.pages]
    if not problems and blind:
        return BADGES["unknown"], f"not measured: {blind[0].reason}"
    if not problems:
        return BADGES["ok"], "every check passes"
    worst = problems[0]
    return BADGES[worst.severity or "warning"], f"{worst.subject}: {worst.headline}"


context = ui.current()
st.title("Overview")
if context.demo:
    st.info(
        "You are looking at **demo data**: generated logs with known, injected problems "
        "(see docs/demo-data.md). Point `data_dir` in monitor.toml at your own logs to "
        "monitor your models.",
        icon=":material/science:",
    )

filters, scope = context.filters, context.scope
if filters is None or scope is None:
    st.warning(
        f"No predictions found under {context.settings.data_dir}. Log predictions with "
        "`monitor.sdk.PredictionLogger`, or run `monitor demo --data-dir DIR`."
    )
    st.stop()
assert filters is not None and scope is not None

store = context.store
ui_report.download_button(store, context.settings, context.state, scope)
model = filters.model
board = ui_findings.board(store, context.settings, context.state)
incident_board(
    board.findings,
    ui_findings.open_alerts(context.state),
    ui_alerts.last_checked(context.state),
)
ui_alerts.overview_block(context.state)

st.subheader("At a glance")
st.caption(
    f"Each model's {filters.window_label.lower()} up to its newest prediction, all versions "
    "pooled (the problems above judge each version on its own traffic); deltas against the "
    "same length of time before, accuracy against the reference dataset."
)
for other in context.models:
    window = ui.window_for(other, filters.window_label)
    other_scope = Scope.of(
        context.settings.model(other.model_id), window, data_version=store.version
    )
    status = ui.model_status(store, context.settings, other_scope)
    trend = ui.traffic(store, other_scope, other_scope.bucket(finest="minute"))
    with st.container(border=True):
        st.markdown(f"**{ui.escape_markdown(other.model_id)}**")
        ui_alerts.model_alerts_caption(context.state, other.model_id)
        cells = st.columns(6)
        found = status.headline
        if found is not None and found.value is not None:
            shown = f"{found.value:.3f}" if found.metric == "accuracy" else f"{found.value:,.3g}"
            cells[0].metric(
                found.label,
                f"≈{shown}" if found.estimated else shown,  # ≈: estimated without labels
                delta=None if found.delta is None else f"{found.delta:+.3f} vs baseline",
                delta_color="normal" if found.higher_is_better else "inverse",
                help=status.performance.summary,
            )
        else:
            name = found.label if found is not None else "Accuracy"
            cells[0].metric(name, "n/a", help=status.performance.summary)
        cells[1].metric(
            "Served",
            f"{status.health.predictions:,}",
            chart_data=[b.predictions for b in trend] or None,
            chart_type="bar",
            help="Predictions in the window, per bucket in the little chart.",
        )
        errors = ui_health.error_rate_tile(status.health, status.previous)
        cells[2].metric(
            "Errors",
            errors.value,
            delta=errors.delta,
            delta_color=errors.delta_color,
            delta_arrow=errors.delta_arrow,
        )
        p95 = ui_health.latency_tile(status.health, status.previous, "p95")
        cells[3].metric(
            "p95",
            p95.value,
            delta=p95.delta,
            delta_color=p95.delta_color,
            delta_arrow=p95.delta_arrow,
        )
        for cell, title, page in ((cells[4], "Drift", "drift"), (cells[5], "Fairness", "fairness")):
            verdict, why = family_verdict(board.findings, other.model_id, page)
            cell.markdown(f"{title}  \n{verdict}", help=ui.escape_markdown(why))
            cell.page_link(
                ui_findings.PAGES[page], label=f"Open {title}", icon=":material/arrow_forward:"
            )
            cell.caption(ui.escape_markdown(why))

st.subheader(f"{model.model_id} in detail")
health = ui.model_health(store, scope)
columns = st.columns(6)
columns[0].metric("Predictions", f"{health.predictions:,}")
columns[1].metric("Error rate", "n/a" if health.error_rate is None else f"{health.error_rate:.2%}")
for column, name, value in zip(
    columns[2:5],
    ("Latency p50", "Latency p95", "Latency p99"),
    (health.latency.p50, health.latency.p95, health.latency.p99),
    strict=True,
):
    column.metric(name, "n/a" if value is None else f"{value:,.0f} ms")
columns[5].metric(
    "Invalid records",
    f"{health.invalid_records:,}",
    help="Log lines of this model that could not be read, in the files of the window's days.",
)

bucket = scope.bucket(finest="minute")
buckets = ui.traffic(store, scope, bucket)
if buckets:
    st.markdown(f"**Predictions per {bucket}** (bars) and p95 latency (line)")
    st.plotly_chart(charts.traffic_figure(buckets), config={"displayModeBar": False})

invalid = in_window(ui.invalid_records(store, store.version), filters.window)
if invalid:
    total = sum(i.count for i in invalid)
    with st.expander(
        f"Log files with invalid records in this window: {total:,} records in {len(invalid)} files"
    ):
        st.caption(
            "All models and record kinds. Invalid lines are skipped by every view; a "
            "line counts for a model when it still names it, or when its file holds "
            "only that model's predictions."
        )
        st.dataframe(
            [
                {
                    "file": str(i.path.relative_to(store.data_dir)),
                    "kind": i.kind,
                    "day": i.day,
                    "invalid records": i.count,
                    f"of {model.model_id}": i.by_model.get(model.model_id, 0),
                    "problem": i.unreadable or "unreadable lines skipped",
                }
                for i in invalid
            ],
            hide_index=True,
        )
