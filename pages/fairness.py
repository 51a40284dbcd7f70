"""Fairness: how the model treats each group, and whether that changed with a release."""

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from monitor.core.errors import MonitorError
from monitor.metrics.fairness.audit import (
    DEFAULT_MIN_CLASS_COUNT,
    DEFAULT_MIN_GROUP_SIZE,
    FairnessReport,
)
from monitor.metrics.fairness.groups import GroupData, group_label
from monitor.metrics.fairness.rates import DEFAULT_METRIC, TITLES, metrics_for
from monitor.metrics.fairness.selection import PredictionCells
from monitor.reports import fairness_export
from monitor.ui import context as ui
from monitor.ui import fairness as ui_fairness
from monitor.ui import fairness_selection, fairness_source, page_findings
from monitor.ui.charts import fairness as charts_fairness
from monitor.ui.fairness import AuditOptions
from monitor.ui.fairness_source import FairnessSource, LogSource

REFERENCE_RULES = {"largest": "Largest group", "best": "Best group", "overall": "Overall"}


def sensitive_picker(column: DeltaGenerator, source: FairnessSource) -> tuple[str, ...]:
    options, configured = fairness_source.sensitive_choices(source)
    sensitive = column.multiselect(
        "Sensitive feature(s)",
        options,
        default=configured[:1],
        key=f"fairness_sensitive_{fairness_source.source_key(source)}",
        help="Several features give intersectional groups, or one audit each. Configured: "
        + (", ".join(configured) or "none"),
    )
    return tuple(sensitive)


def grouping_toggle(column: DeltaGenerator, sensitive: tuple[str, ...]) -> bool:
    """Whether several features are audited each on its own (else: their intersections)."""
    chosen = column.radio(
        "Groups",
        ui_fairness.GROUPINGS,
        horizontal=True,
        key="fairness_grouping",
        disabled=len(sensitive) < 2,
        help="Intersections: one group per combination of the features (race & sex). "
        "Each attribute separately: one audit per feature, with its own groups, reference "
        "group, ratios and screen, as Aequitas reports per attribute. The Overview's "
        "fairness findings judge each configured feature separately.",
    )
    return bool(chosen == ui_fairness.GROUPINGS[1] and len(sensitive) > 1)


def audit_options(
    middle: DeltaGenerator, last: DeltaGenerator, source: FairnessSource
) -> AuditOptions:
    """The metric (in `middle`), tau (in `last`), and group sizes and bootstrap below."""
    task = fairness_source.source_task(source)
    metric: str = middle.selectbox(
        "Metric",
        metrics_for(task),
        index=metrics_for(task).index(DEFAULT_METRIC[task]),
        format_func=lambda m: TITLES[m],
        key=f"fairness_metric_{task}",
    )
    tau = last.slider(
        "Tau (tolerance)",
        min_value=0.5,
        max_value=1.0,
        value=float(context.settings.thresholds.fairness_tau),
        step=0.01,
        key="fairness_tau",
        help="A group fails the screen when its ratio to the reference is below tau or above "
        "1/tau (the four-fifths rule at 0.8).",
    )
    with st.expander("Options: minimum group size, bootstrap"):
        a, b, c = st.columns(3)
        min_group_size = a.number_input(
            "Minimum rows per group", 0, value=DEFAULT_MIN_GROUP_SIZE, key="fairness_min"
        )
        min_class_count = b.number_input(
            "Minimum positive and negative labels",
            0,
            value=DEFAULT_MIN_CLASS_COUNT,
            key="fairness_min_class",
        )
        bootstrap = c.number_input(
            "Bootstrap replicates (0: no intervals)",
            0,
            5000,
            value=ui_fairness.PAGE_BOOTSTRAP,
            key="fairness_bootstrap",
        )
    return AuditOptions(metric, tau, int(min_group_size), int(min_class_count), int(bootstrap))


def reference_picker(
    column: DeltaGenerator,
    source: FairnessSource,
    sensitive: tuple[str, ...],
    data: GroupData | PredictionCells,
) -> str:
    labels = [group_label(k) for k in sorted(set(data.groups))]
    reference: str = column.selectbox(
        "Reference group",
        [*REFERENCE_RULES, *labels],
        format_func=lambda r: REFERENCE_RULES.get(r, r),
        key=f"fairness_reference_{fairness_source.source_key(source)}_{'|'.join(sensitive)}",
        help="Disparity = a group's metric / the reference's. Best: the highest value "
        "(the lowest for error rates).",
    )
    return reference


def labeled_table(source: FairnessSource, sensitive: tuple[str, ...]) -> GroupData:
    """The labeled table; stops the page when it cannot be read."""
    try:
        return fairness_source.table(source, sensitive)
    except MonitorError as exc:
        st.error(ui.escape_markdown(str(exc)))
        st.stop()
        raise  # unreachable; st.stop raises


def audit(
    source: FairnessSource,
    data: GroupData,
    sensitive: tuple[str, ...],
    options: AuditOptions,
    reference_column: DeltaGenerator,
) -> FairnessReport:
    """The labeled table's audit against the reference group (picked in
    `reference_column`); stops the page when there is nothing to judge or it fails."""
    if data.total_rows == 0:
        if isinstance(source, LogSource):
            fairness_selection.labels_notice(source)
        else:
            st.info(fairness_source.no_rows_message(source, data))
        st.stop()
    try:
        found = ui_fairness.report(
            data, options, reference_picker(reference_column, source, sensitive, data)
        )
    except MonitorError as exc:
        st.error(ui.escape_markdown(str(exc)))
        st.stop()
    return found


def without_labels(
    source: LogSource,
    sensitive: tuple[str, ...],
    options: AuditOptions,
    reference_column: DeltaGenerator,
    *,
    notice: bool = True,
) -> None:
    """No labeled prediction in the window: the selection-rate audit of all predictions."""
    data = fairness_selection.predictions(source, sensitive)
    reference = reference_picker(reference_column, source, sensitive, data)
    fairness_selection.render(source, sensitive, options, reference, data, notice=notice)


def audit_summary(source: FairnessSource, data: GroupData, report: FairnessReport) -> None:
    """Rows, groups and the reference group in a sentence, and the audit's notes."""
    reference_name = (
        group_label(report.reference_group) if report.reference_group is not None else "overall"
    )
    unlabeled = data.unlabeled_rows
    noun = fairness_source.rows_noun(source)
    st.markdown(
        f"**{report.rows:,} labeled {noun}** in {len(report.groups)} groups "
        f"({report.summary.judged_groups} large enough to judge); reference: "
        f"**{ui.escape_markdown(reference_name)}**"
        + (f"; {unlabeled:,} {noun} have no label yet" if unlabeled else "")
    )
    for note in report.notes:
        st.caption(ui.escape_markdown(note))


def summary_tiles(report: FairnessReport) -> None:
    """The fairlearn summaries over all groups, and the four-fifths screen's verdict; when
    some groups are too small to judge, a second row over the judged groups only."""
    summary = report.summary
    tiles = st.columns(6)
    for column, (title, value, help_text) in zip(
        tiles[:5], ui_fairness.summary_tiles(summary), strict=True
    ):
        column.metric(title, value, help=help_text)
    verdict = {True: "passed", False: "failed", None: "not judged"}[summary.four_fifths_passed]
    tiles[5].metric(
        "Four-fifths screen",
        verdict,
        delta=f"{len(summary.failing_groups)} groups outside the band"
        if summary.failing_groups
        else None,
        delta_color="inverse",
        help=f"On {TITLES[report.metric]}, tau {report.tau:g}. "
        "A screening rule, not a legal verdict.",
    )
    if report.task == "binary" and summary.judged_groups < len(report.groups):
        for column, (title, value, help_text) in zip(
            st.columns(6)[:5], ui_fairness.summary_tiles(summary, judged=True), strict=True
        ):
            column.metric(title, value, help=help_text)


def metric_by_group(report: FairnessReport, metric: str) -> None:
    st.markdown(f"**{TITLES[metric]} by group** (error bars: 95% bootstrap interval)")
    st.plotly_chart(charts_fairness.groups_figure(report, metric), config={"displayModeBar": False})
    st.dataframe(
        fairness_export.group_rows(report, metric),
        hide_index=True,
        column_config={
            metric: st.column_config.NumberColumn(format="%.3f"),
            "CI low": st.column_config.NumberColumn(format="%.3f"),
            "CI high": st.column_config.NumberColumn(format="%.3f"),
            "ratio to reference": st.column_config.NumberColumn(format="%.2f"),
        },
    )


def trends(
    source: FairnessSource,
    sensitive: tuple[str, ...],
    report: FairnessReport,
    options: AuditOptions,
) -> None:
    """The metric per version and over time (see `fairness_source.render_trends`)."""
    fairness_source.render_trends(source, sensitive, report, options)


def downloads(source: FairnessSource, sensitive: tuple[str, ...], report: FairnessReport) -> None:
    document = fairness_export.report_document(report)
    name = f"fairness-{fairness_source.source_key(source)}-{'-'.join(sensitive)}"
    ui.download_buttons(name, fairness_export.report_csv(report), fairness_export.to_json(document))


def judge(
    source: FairnessSource,
    sensitive: tuple[str, ...],
    options: AuditOptions,
    reference_column: DeltaGenerator,
    *,
    notice: bool = True,
) -> None:
    """One audit: of the labeled predictions grouped by `sensitive`, or, on a window
    without labels, of the selection rates (`notice`: say what waits for labels)."""
    data = labeled_table(source, sensitive)
    if data.total_rows == 0 and fairness_selection.applies(source):
        without_labels(source, sensitive, options, reference_column, notice=notice)
        return
    report = audit(source, data, sensitive, options, reference_column)
    audit_summary(source, data, report)
    summary_tiles(report)
    metric_by_group(report, options.metric)
    trends(source, sensitive, report, options)
    downloads(source, sensitive, report)


def each_attribute(
    source: FairnessSource, sensitive: tuple[str, ...], options: AuditOptions
) -> None:
    """One section per sensitive feature, each its own audit and reference group; on a
    window without labels, what waits for labels is said once, above them."""
    if labeled_table(source, sensitive[:1]).total_rows == 0 and fairness_selection.applies(source):
        fairness_selection.labels_notice(source)
        notice = False
    else:
        notice = True
    for attribute in sensitive:
        with st.container(border=True):
            st.subheader(ui.escape_markdown(attribute))
            reference_column = st.columns(3)[0]
            judge(source, (attribute,), options, reference_column, notice=notice)


context = ui.current()
st.title("Fairness")
st.caption(
    "Metrics per group of a sensitive feature (several features: their intersections, or "
    "each feature on its own), on labeled predictions; a window without labels is judged "
    "on the selection rate of all its predictions, which needs none. The four-fifths "
    "screen flags a group whose metric is outside [tau, 1/tau] times the reference "
    "group's: a screening rule, not a legal "
    "verdict. Groups too small to judge are shown in grey and left out of verdicts."
)
page_source = fairness_source.choose_source(context)
page_findings.show(
    context,
    "fairness",
    page_source.model,
    logs=isinstance(page_source, fairness_source.LogSource),
)
left, middle, right, last = st.columns([3, 2, 2, 2])
page_sensitive = sensitive_picker(left, page_source)
page_per_attribute = grouping_toggle(left, page_sensitive)
page_options = audit_options(middle, last, page_source)
if not page_sensitive:
    st.info("Choose a sensitive feature (none is configured for this model or dataset).")
    st.stop()

if page_per_attribute:
    right.caption("Each feature has its own reference group, below.")
    each_attribute(page_source, page_sensitive, page_options)
else:
    judge(page_source, page_sensitive, page_options, right)
