"""Drift: which inputs moved, how much, since when, and whether outputs and labels followed."""

import streamlit as st

from monitor.core.errors import MonitorError
from monitor.metrics.drift.registry import METHODS
from monitor.reports import drift_export
from monitor.ui import context as ui
from monitor.ui import drift as ui_drift
from monitor.ui.charts import drift as charts_drift

context = ui.current()
st.title("Drift")
st.caption(
    "A feature drifts when its change is statistically significant (p-values corrected "
    "across features) and at least a minimum effect size; the dataset drifts when the "
    "share of drifted features reaches the threshold. See docs/drift.md."
)
thresholds = context.settings.thresholds
left, middle, right = st.columns(3)
compared = ui_drift.choose_comparison(context, left, "drift")
method = middle.selectbox(
    "Method",
    ["auto", *METHODS],
    key="drift_method",
    help="auto: the kind's test for small samples (<= 1000 values), else an effect size "
    "(Wasserstein/std for numbers, Jensen-Shannon for categories).",
)
correction = ui_drift.correction(
    right.selectbox(
        "Multiple-testing correction",
        list(ui_drift.CORRECTION_NAMES),
        key="drift_correction",
        format_func=lambda c: ui_drift.CORRECTION_NAMES[c],
    )
)
st.caption(ui_drift.describe(compared))
try:
    report = ui_drift.report(compared, method, correction, thresholds)
    targets = ui_drift.targets(compared, method)
except MonitorError as exc:
    st.error(ui.escape_markdown(str(exc)))
    st.stop()

tiles = st.columns(5)
tiles[0].metric("Dataset drift", "yes" if report.dataset_drift else "no")
share = "n/a" if report.share_drifted is None else f"{report.share_drifted:.0%}"
tiles[1].metric(
    "Drifted features",
    f"{len(report.drifted)} of {len(report.evaluated)}",
    help=f"{share} drifted; the dataset drifts at {report.drift_share_threshold:.0%}.",
)
tiles[2].metric("Share drifted", share)
for tile, name, title in (
    (tiles[3], "prediction", "Prediction drift"),
    (tiles[4], "label", "Label drift"),
):
    found = next((f for f in targets.features if f.feature == name), None)
    if found is None or found.effect_size is None:
        tile.metric(title, "n/a", help=None if found is None else found.status)
    else:
        tile.metric(
            title,
            "yes" if found.drifted else "no",
            help=f"{found.effect_method} {found.effect_size:.3g} (threshold "
            f"{found.effect_threshold:g}); {found.test} adjusted p {found.p_value_adjusted:.3g}",
        )

st.subheader("Drift score per feature")
st.plotly_chart(charts_drift.score_bars(report), config={"displayModeBar": False})
st.dataframe(
    [
        {
            "feature": f.feature,
            "kind": f.kind,
            "method": f.method,
            "score": f.score,
            "p-value": f.p_value,
            "threshold": f.threshold,
            "adjusted p": f.p_value_adjusted,
            "effect": f.effect_size,
            "drifted": f.drifted,
            "status": f.status,
            "new categories": ", ".join(f.new_categories),
        }
        for f in report.features
    ],
    hide_index=True,
    column_config={
        "score": st.column_config.NumberColumn(format="%.4g"),
        "p-value": st.column_config.NumberColumn(format="%.3g"),
        "threshold": st.column_config.NumberColumn(format="%.3g"),
        "adjusted p": st.column_config.NumberColumn(format="%.3g"),
        "effect": st.column_config.NumberColumn(format="%.4g"),
    },
)
stem, reference_label, current_label = ui_drift.export_labels(compared)
ui.download_buttons(
    f"drift-{stem}",
    drift_export.report_csv(report),
    drift_export.report_json(report, reference_label, current_label),
)

st.subheader("Distribution: reference vs current")
ranked = [f.feature for f in sorted(report.features, key=lambda f: not f.drifted) if f.kind]
if ranked:
    feature = st.selectbox("Feature", ranked, key=f"drift_feature_{stem}")
    shown = ui_drift.distribution(compared, feature)
    if shown is None:
        st.info(f"{ui.escape_markdown(feature)} has no values to compare on one side.")
    else:
        st.plotly_chart(charts_drift.distribution_figure(shown), config={"displayModeBar": False})
        if shown.sampled:
            st.caption("Numeric shares from a seeded sample of 50,000 rows per side.")

st.subheader("Drift over time")
timeline = ui_drift.timeline(compared, method, correction, thresholds)
if timeline is None:
    st.caption(ui_drift.NO_TIME)
else:
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

st.subheader("Prediction and label drift")
st.dataframe(
    [
        {
            "output": f.feature,
            "method": f.method,
            "score": f.score,
            "effect": f.effect_size,
            "adjusted p": f.p_value_adjusted,
            "drifted": f.drifted,
            "status": f.status,
            "values (current)": f.current_count,
        }
        for f in targets.features
    ],
    hide_index=True,
)

st.subheader("Multivariate drift")
domain = ui_drift.domain(compared)
if domain.auc is None:
    st.info(f"Domain classifier: {domain.status}.")
else:
    cols = st.columns(3)
    cols[0].metric(
        "Domain classifier AUC",
        f"{domain.auc:.3f}",
        help="Cross-validated ROC AUC of telling reference rows from current rows "
        f"(0.5 = indistinguishable); drift at >= {domain.threshold} and significant.",
    )
    cols[1].metric("Multivariate drift", "yes" if domain.drifted else "no")
    cols[2].metric("Rows per side", f"{domain.reference_rows:,} / {domain.current_rows:,}")
    st.plotly_chart(charts_drift.importance_bars(domain), config={"displayModeBar": False})
