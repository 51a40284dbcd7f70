"""The Fairness page on a window whose predictions have no label yet (binary models on
the logs): the selection rate per group, fairlearn's demographic parity, the four-fifths
screen on the selection rate and their trends, from the predictions alone; a sentence
says which metrics wait for labels and offers a window that has them."""

from __future__ import annotations

import csv
import io
from typing import TypeGuard

import streamlit as st

from monitor.core.errors import MonitorError
from monitor.metrics.fairness.rates import TITLES
from monitor.metrics.fairness.selection import (
    LABEL_METRICS,
    METRIC,
    PredictionCells,
    SelectionReport,
)
from monitor.reports import fairness_export
from monitor.ui import fairness as caches
from monitor.ui import label_delay
from monitor.ui.charts import fairness as charts_fairness
from monitor.ui.fairness import AuditOptions
from monitor.ui.fairness_source import FairnessSource, LogSource, draw_log_trends

WAIT_FOR_LABELS = (
    "TPR, FPR, precision, accuracy, equalized odds and equal opportunity wait for labels"
)


def applies(source: FairnessSource) -> TypeGuard[LogSource]:
    """Whether the page can judge `source` without labels: a binary model's logs."""
    return isinstance(source, LogSource) and source.model.task == "binary"


def predictions(source: LogSource, sensitive: tuple[str, ...]) -> PredictionCells:
    """The window's predictions per group; stops the page when there are none."""
    from monitor.ui import context as ui

    try:
        data = caches.log_predictions(source.store, source.model, source.scope, sensitive)
    except MonitorError as exc:
        st.error(ui.escape_markdown(str(exc)))
        st.stop()
    if data.total_rows == 0:
        st.info(f"No predictions of {source.model.id} with a prediction value in this window.")
        st.stop()
    return data


def render(
    source: LogSource,
    sensitive: tuple[str, ...],
    options: AuditOptions,
    reference: str,
    data: PredictionCells,
    *,
    notice: bool = True,
) -> None:
    """The label-free audit of `data` against `reference` (a rule or a group label);
    `notice`: say which metrics wait for labels (once per page: per attribute, the page
    says it above the attributes)."""
    from monitor.ui import context as ui

    if options.metric in LABEL_METRICS:
        st.caption(
            f"{TITLES[options.metric]} needs labels: the groups are compared on the "
            "selection rate, which needs none."
        )
    elif options.metric != METRIC:
        st.caption(
            "Without labels the screen is on the selection rate; each group's "
            f"{TITLES[options.metric]} is in the table."
        )
    try:
        report = caches.selection_report(data, options, reference)
    except MonitorError as exc:
        st.error(ui.escape_markdown(str(exc)))
        st.stop()
    reference_name = (
        ui.escape_markdown(" & ".join(report.reference_group))
        if report.reference_group is not None
        else "overall"
    )
    st.markdown(
        f"**{report.rows:,} predictions**, none labeled yet, in {len(report.groups)} groups "
        f"({report.judged_groups} large enough to judge); reference: **{reference_name}**"
    )
    for note in report.notes:
        st.caption(ui.escape_markdown(note))
    _tiles(report)
    if notice:
        labels_notice(source)
    st.markdown(f"**{TITLES[METRIC]} by group** (error bars: 95% bootstrap interval)")
    st.plotly_chart(charts_fairness.selection_figure(report), config={"displayModeBar": False})
    st.dataframe(
        caches.selection_rows(report),
        hide_index=True,
        placeholder="n/a",
        column_config={
            name: st.column_config.NumberColumn(format="%.3f")
            for name in (METRIC, "ppr", "CI low", "CI high")
        }
        | {"ratio to reference": st.column_config.NumberColumn(format="%.2f")},
    )
    _trends(source, sensitive, report, options)
    _downloads(source, sensitive, report)


def _tiles(report: SelectionReport) -> None:
    tiles = st.columns(4)
    for column, (title, value, help_text) in zip(
        tiles[:3], caches.selection_tiles(report), strict=True
    ):
        column.metric(title, value, help=help_text)
    verdict = {True: "passed", False: "failed", None: "not judged"}[report.four_fifths_passed]
    tiles[3].metric(
        "Four-fifths screen",
        verdict,
        delta=f"{len(report.failing_groups)} groups outside the band"
        if report.failing_groups
        else None,
        delta_color="inverse",
        help=f"On the selection rate, tau {report.tau:g}. A screening rule, not a legal verdict.",
    )


def labels_notice(source: LogSource) -> None:
    """Which metrics wait for labels, when labels arrive, and a window that has them."""
    from monitor.ui import context as ui

    arrival = label_delay.label_arrival(source.store, source.scope)
    target = label_delay.window_with_labels(arrival, ui.WINDOWS, source.window_label)
    waiting = (
        "Selection rate, demographic parity and the four-fifths screen above need only "
        "predictions; " + WAIT_FOR_LABELS
        if applies(source)
        else "MAE and RMSE by group wait for labels"
    )
    st.info(
        "No labels yet for this window: "
        + label_delay.delay_text(arrival, source.scope.window.end)
        + ". "
        + waiting
        + (f": widen the window to '{target}' for them." if target else ".")
    )
    if target is not None:
        label_delay.window_button(target, key="fairness_widen_window")


def _trends(
    source: LogSource, sensitive: tuple[str, ...], report: SelectionReport, options: AuditOptions
) -> None:
    draw_log_trends(
        source, sensitive, options, report.reference, report.reference_group, labeled=False
    )


def _downloads(source: LogSource, sensitive: tuple[str, ...], report: SelectionReport) -> None:
    from monitor.ui import context as ui

    rows = caches.selection_rows(report)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
    document = {
        "model_id": source.model.id,
        "window": {"start": source.scope.window.start, "end": source.scope.window.end},
        "features": list(report.features),
        "labeled": False,
        "needs_labels": list(LABEL_METRICS),
        "rows": report.rows,
        "reference": report.reference,
        "reference_group": report.reference_group,
        "tau": report.tau,
        "selection_rate": report.selection_rate,
        "demographic_parity_difference": report.demographic_parity_difference,
        "demographic_parity_ratio": report.demographic_parity_ratio,
        "judged_parity_difference": report.judged_parity_difference,
        "judged_parity_ratio": report.judged_parity_ratio,
        "four_fifths_passed": report.four_fifths_passed,
        "ci": report.ci,
        "groups": rows,
    }
    name = f"fairness-{source.model.id}-{'-'.join(sensitive)}-selection"
    ui.download_buttons(name, buffer.getvalue(), fairness_export.to_json(document))
