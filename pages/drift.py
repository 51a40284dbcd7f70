"""Drift: which inputs moved, how much, since when, and whether outputs and labels followed."""

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from monitor.core.config import Thresholds
from monitor.core.errors import MonitorError
from monitor.metrics.drift.registry import METHODS, Correction
from monitor.metrics.drift.report import DriftReport
from monitor.reports import drift_export
from monitor.ui import context as ui
from monitor.ui import drift as ui_drift
from monitor.ui import drift_tables as tables
from monitor.ui import page_findings
from monitor.ui.charts import drift as charts_drift
from monitor.ui.drift import Comparison, LogScope

NUMBER = {"score": "%.4g", "threshold": "%.3g", "effect": "%.4g"}
"""Number formats of the drift tables' columns (p-values are text: `format_p_value`)."""


def method_picker(column: DeltaGenerator) -> str:
    method: str = column.selectbox(
        "Method",
        ["auto", *METHODS],
        key="drift_method",
        help="auto: the kind's test for small samples (<= 1000 values), else an effect size "
        "(Wasserstein/std for numbers, Jensen-Shannon for categories).",
    )
    return method


def correction_picker(column: DeltaGenerator) -> Correction:
    return ui_drift.correction(
        column.selectbox(
            "Multiple-testing correction",
            list(ui_drift.CORRECTION_NAMES),
            key="drift_correction",
            format_func=lambda c: ui_drift.CORRECTION_NAMES[c],
        )
    )


def summary_tiles(report: DriftReport, targets: DriftReport, rule: str | None) -> None:
    """What this comparison measured: drifted features and their share (in words below,
    against the share the dataset-drift rule needs), prediction and label drift."""
    tiles = st.columns(4)
    share = "n/a" if report.share_drifted is None else f"{report.share_drifted:.0%}"
    tiles[0].metric(
        "Drifted features",
        f"{len(report.drifted)} of {len(report.evaluated)}",
        help="Features whose status is drifted in the table below.",
    )
    tiles[1].metric(
        "Share drifted",
        share,
        help=f"{rule or 'Dataset drift'} needs {report.drift_share_threshold:.0%}.",
    )
    value, help_text = tables.target_tile(targets, "prediction")
    tiles[2].metric("Prediction drift", value, help=help_text)
    value, help_text = tables.target_tile(targets, "label")
    tiles[3].metric("Label drift", value, help=help_text)
    st.caption(tables.dataset_statement(report, rule=rule))


def score_per_feature(compared: Comparison, report: DriftReport) -> None:
    """The drift score of every feature as bars and a table, and the report's downloads."""
    st.subheader("Drift score per feature")
    st.plotly_chart(charts_drift.score_bars(report), config={"displayModeBar": False})
    st.dataframe(
        tables.feature_rows(report),
        hide_index=True,
        column_config={
            name: st.column_config.NumberColumn(format=number) for name, number in NUMBER.items()
        },
    )
    stem, reference_label, current_label = ui_drift.export_labels(compared)
    ui.download_buttons(
        f"drift-{stem}",
        drift_export.report_csv(report),
        drift_export.report_json(report, reference_label, current_label),
    )


def distribution(compared: Comparison, report: DriftReport) -> None:
    """Reference against current shares of a chosen feature (drifted ones listed first)."""
    st.subheader("Distribution: reference vs current")
    ranked = tables.ranked_features(report)
    if not ranked:
        return
    stem = ui_drift.export_labels(compared)[0]
    feature = st.selectbox("Feature", ranked, key=f"drift_feature_{stem}")
    shown = ui_drift.distribution(compared, feature)
    if shown is None:
        st.info(f"{ui.escape_markdown(feature)} has no values to compare on one side.")
        return
    st.plotly_chart(charts_drift.distribution_figure(shown), config={"displayModeBar": False})
    if shown.sampled:
        st.caption("Numeric shares from a seeded sample of 50,000 rows per side.")


def drift_over_time(
    compared: Comparison, method: str, correction: Correction, thresholds: Thresholds
) -> None:
    """A heatmap of a chosen value per feature and time bucket (logs only)."""
    st.subheader("Drift over time")
    timeline = ui_drift.timeline(compared, method, correction, thresholds)
    if timeline is None:
        st.caption(ui_drift.NO_TIME)
        return
    value = charts_drift.heat_value(
        st.radio(
            "Heatmap value",
            list(charts_drift.HEAT_VALUES),
            horizontal=True,
            key="drift_heat_value",
            format_func=lambda v: charts_drift.HEAT_VALUES[v],
        )
    )
    if timeline.starts:
        st.plotly_chart(charts_drift.heatmap(timeline, value), config={"displayModeBar": False})


def prediction_and_label_drift(targets: DriftReport) -> None:
    st.subheader("Prediction and label drift")
    st.dataframe(
        tables.target_rows(targets),
        hide_index=True,
        column_config={
            name: st.column_config.NumberColumn(format=number) for name, number in NUMBER.items()
        },
    )


def multivariate_drift(compared: Comparison, report: DriftReport) -> None:
    """A domain classifier telling reference rows from current ones, and what it used."""
    st.subheader("Multivariate drift")
    domain = ui_drift.domain(compared)
    if domain.auc is None:
        st.info(f"Domain classifier: {domain.status}.")
        return
    cols = st.columns(3)
    cols[0].metric(
        "Domain classifier AUC",
        f"{domain.auc:.3f}",
        help="Cross-validated ROC AUC of telling reference rows from current rows "
        f"(0.5 = indistinguishable); drift at >= {domain.threshold} and significant.",
    )
    cols[1].metric("Multivariate drift", "yes" if domain.drifted else "no")
    cols[2].metric("Rows per side", f"{domain.reference_rows:,} / {domain.current_rows:,}")
    st.caption(ui.escape_markdown(tables.multivariate_statement(domain, report)))
    st.plotly_chart(charts_drift.importance_bars(domain), config={"displayModeBar": False})


context = ui.current()
st.title("Drift")
st.caption(
    "A feature drifts when its change is statistically significant (p-values corrected "
    "across features) and at least a minimum effect size; the dataset drifts when the "
    "share of drifted features reaches the threshold. See docs/drift.md."
)
page_verdicts = st.container()
left, middle, right = st.columns(3)
page_compared = ui_drift.choose_comparison(context, left, "drift")
page_method = method_picker(middle)
page_correction = correction_picker(right)
page_on_logs = isinstance(page_compared.scope, LogScope)
with page_verdicts:
    page_findings.show(context, "drift", page_compared.model, logs=page_on_logs)
page_thresholds = page_findings.rule_thresholds(context.settings, page_compared.model)
page_rule = page_findings.rule_id(context.settings, "drift_share", page_compared.model)
st.caption(ui_drift.describe(page_compared))
try:
    page_report = ui_drift.report(page_compared, page_method, page_correction, page_thresholds)
    page_targets = ui_drift.targets(page_compared, page_method)
    page_left_out = ui_drift.excluded_caption(page_compared)
    page_schema = ui_drift.schema_caption(page_compared)
except MonitorError as exc:
    st.error(ui.escape_markdown(str(exc)))
    st.stop()
if page_left_out:
    st.caption(page_left_out)
if page_schema:
    st.caption(page_schema)

summary_tiles(page_report, page_targets, page_rule)
score_per_feature(page_compared, page_report)
distribution(page_compared, page_report)
drift_over_time(page_compared, page_method, page_correction, page_thresholds)
prediction_and_label_drift(page_targets)
multivariate_drift(page_compared, page_report)
