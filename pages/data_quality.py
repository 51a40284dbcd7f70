"""Data quality: missing and out-of-range values, new categories, schema changes."""

import streamlit as st

from monitor.core.errors import MonitorError
from monitor.metrics.quality import Limits, QualityReport
from monitor.reports import quality_export
from monitor.ui import context as ui
from monitor.ui import drift as ui_drift
from monitor.ui import page_findings
from monitor.ui import quality as ui_quality
from monitor.ui.charts import quality as charts_quality
from monitor.ui.drift import Comparison, LogScope

PERCENT = st.column_config.NumberColumn(format="percent")


def summary_tiles(report: QualityReport, limits: Limits) -> None:
    """Rows, invalid records, duplicate ids, schema issues, features whose status is not ok."""
    issues = ui_quality.with_issues(report)
    tiles = st.columns(5)
    tiles[0].metric("Rows", f"{report.current_rows:,}")
    tiles[1].metric(
        "Invalid records",
        "n/a" if report.invalid_records is None else f"{report.invalid_records:,}",
        help="Log lines of this model that could not be read, in the files of the window's days.",
    )
    tiles[2].metric(
        "Duplicate prediction ids", "n/a" if report.duplicate_ids is None else report.duplicate_ids
    )
    tiles[3].metric("Schema issues", ui_quality.schema_issue_count(report))
    tiles[4].metric(
        "Features with issues",
        len(issues),
        help=ui_quality.limits_text(limits) + (f" Now: {'; '.join(issues)}." if issues else ""),
    )


def over_time(compared: Comparison, limits: Limits) -> None:
    """A chosen share (missing, out of range, new categories) per feature and time bucket."""
    st.subheader("Over time")
    found = ui_quality.over_time(compared, limits)
    if found is None:
        st.caption(ui_drift.NO_TIME)
        return
    metric = charts_quality.over_time_kind(
        st.radio(
            "Share",
            list(charts_quality.OVER_TIME),
            horizontal=True,
            key="quality_over_time",
            format_func=lambda m: charts_quality.OVER_TIME[m],
        )
    )
    threshold = {"missing": limits.missing_share, "new_categories": limits.new_category_share}
    if found.starts:
        st.plotly_chart(
            charts_quality.over_time_figure(found, metric, threshold.get(metric)),
            config={"displayModeBar": False},
        )


def per_feature(compared: Comparison, report: QualityReport) -> None:
    """The quality table per feature, and the report's downloads."""
    st.subheader("Per feature")
    st.dataframe(
        ui_quality.feature_rows(report),
        hide_index=True,
        column_config={
            "missing": PERCENT,
            "missing (reference)": PERCENT,
            "out of range": PERCENT,
            "new categories": PERCENT,
        },
    )
    stem, reference_label, current_label = ui_drift.export_labels(compared)
    ui.download_buttons(
        f"quality-{stem}",
        quality_export.report_csv(report),
        quality_export.report_json(report, reference_label, current_label),
    )


def ranges_and_new_categories(report: QualityReport) -> None:
    left, right = st.columns(2)
    with left:
        st.markdown("**Out-of-range values**")
        st.dataframe(
            ui_quality.range_rows(report), hide_index=True, column_config={"share": PERCENT}
        )
    with right:
        st.markdown("**New categories** (in neither the reference nor the config)")
        new_rows = ui_quality.new_category_rows(report)
        if new_rows:
            st.dataframe(new_rows, hide_index=True)
        else:
            st.caption("None.")


def schema(report: QualityReport) -> None:
    st.subheader("Schema")
    if ui_quality.schema_issue_count(report):
        st.dataframe(ui_quality.schema_rows(report), hide_index=True)
    else:
        st.caption("Same columns and types as the reference.")


def invalid_log_files(compared: Comparison) -> None:
    """The log files of the window with invalid records (none for uploads)."""
    invalid = ui_quality.invalid_files(compared)
    if invalid is None:
        st.caption(ui_quality.NO_LOG_FILES)
    elif invalid:
        stem = ui_drift.export_labels(compared)[0]
        with st.expander(f"Log files with invalid records: {sum(i.count for i in invalid):,}"):
            st.dataframe(
                ui_quality.invalid_file_rows(invalid, context.store.data_dir, stem),
                hide_index=True,
            )


def feature_correlations(compared: Comparison) -> None:
    st.subheader("Feature correlations")
    found = ui_quality.correlations(compared)
    if len(found.features) < 2:
        st.caption("Fewer than two numeric features.")
        return
    left, right = st.columns(2)
    for column, side in ((left, "reference"), (right, "current")):
        column.plotly_chart(
            charts_quality.correlation_figure(found, side), config={"displayModeBar": False}
        )


context = ui.current()
st.title("Data quality")
page_verdicts = st.container()
page_compared = ui_drift.choose_comparison(context, st.container(), "quality")
with page_verdicts:
    page_findings.show(
        context,
        "data_quality",
        page_compared.model,
        logs=isinstance(page_compared.scope, LogScope),
    )
page_thresholds = page_findings.rule_thresholds(context.settings, page_compared.model)
page_limits = Limits(page_thresholds.missing_share, page_thresholds.new_category_share)
st.caption(
    ui_drift.describe(page_compared) + " Valid ranges and known categories come from "
    "monitor.toml, else from the reference."
)
try:
    page_report = ui_quality.report(page_compared, page_limits)
except MonitorError as exc:
    st.error(ui.escape_markdown(str(exc)))
    st.stop()

summary_tiles(page_report, page_limits)
over_time(page_compared, page_limits)
per_feature(page_compared, page_report)
ranges_and_new_categories(page_report)
schema(page_report)
invalid_log_files(page_compared)
feature_correlations(page_compared)
