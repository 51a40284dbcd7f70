"""Data quality: missing and out-of-range values, new categories, schema changes."""

import streamlit as st

from monitor.core.errors import MonitorError
from monitor.reports import quality_export
from monitor.ui import context as ui
from monitor.ui import drift as ui_drift
from monitor.ui import quality as ui_quality
from monitor.ui.charts import quality as charts_quality

context = ui.current()
st.title("Data quality")
threshold = context.settings.thresholds.missing_share
compared = ui_drift.choose_comparison(context, st.container(), "quality")
st.caption(
    ui_drift.describe(compared) + " Valid ranges and known categories come from monitor.toml, "
    "else from the reference."
)
try:
    report = ui_quality.report(compared)
except MonitorError as exc:
    st.error(ui.escape_markdown(str(exc)))
    st.stop()

schema_issues = (
    len(report.missing_columns) + len(report.unexpected_columns) + len(report.type_changes)
)
high_missing = [f for f in report.features if (f.missing_share or 0) > threshold]
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
tiles[3].metric("Schema issues", schema_issues)
tiles[4].metric(
    "Features over missing threshold",
    len(high_missing),
    help=f"Missing share above {threshold:.0%} (thresholds.missing_share).",
)

st.subheader("Over time")
over_time = ui_quality.over_time(compared)
if over_time is None:
    st.caption(ui_drift.NO_TIME)
else:
    metric = charts_quality.over_time_kind(
        st.radio(
            "Share",
            list(charts_quality.OVER_TIME),
            horizontal=True,
            key="quality_over_time",
            format_func=lambda m: charts_quality.OVER_TIME[m],
        )
    )
    if over_time.starts:
        st.plotly_chart(
            charts_quality.over_time_figure(
                over_time, metric, threshold if metric == "missing" else None
            ),
            config={"displayModeBar": False},
        )

st.subheader("Per feature")
st.dataframe(
    [
        {
            "feature": f.feature,
            "kind": f.kind,
            "missing": f.missing_share,
            "missing (reference)": f.reference_missing_share,
            "NaN/inf": f.non_finite,
            "out of range": f.out_of_range_share,
            "new categories": f.new_category_share,
            "distinct (reference)": f.reference_cardinality,
            "distinct": f.current_cardinality,
            "constant": f.constant,
            "status": f.status,
        }
        for f in report.features
    ],
    hide_index=True,
    column_config={
        "missing": st.column_config.NumberColumn(format="percent"),
        "missing (reference)": st.column_config.NumberColumn(format="percent"),
        "out of range": st.column_config.NumberColumn(format="percent"),
        "new categories": st.column_config.NumberColumn(format="percent"),
    },
)
stem, reference_label, current_label = ui_drift.export_labels(compared)
ui.download_buttons(
    f"quality-{stem}",
    quality_export.report_csv(report),
    quality_export.report_json(report, reference_label, current_label),
)

left, right = st.columns(2)
with left:
    st.markdown("**Out-of-range values**")
    ranged = [f for f in report.features if f.valid_range is not None]
    st.dataframe(
        [
            {
                "feature": f.feature,
                "valid range": f"{f.valid_range[0]:g} to {f.valid_range[1]:g}",
                "from": f.range_source,
                "values out of range": f.out_of_range,
                "share": f.out_of_range_share,
            }
            for f in ranged
            if f.valid_range is not None
        ],
        hide_index=True,
        column_config={"share": st.column_config.NumberColumn(format="percent")},
    )
with right:
    st.markdown("**New categories** (in neither the reference nor the config)")
    new_rows = [
        {"feature": f.feature, "category": category, "rows": count}
        for f in report.features
        for category, count in f.new_categories
    ]
    if new_rows:
        st.dataframe(new_rows, hide_index=True)
    else:
        st.caption("None.")

st.subheader("Schema")
if schema_issues:
    st.dataframe(
        [{"column": n, "problem": "missing in current"} for n in report.missing_columns]
        + [{"column": n, "problem": "not in reference"} for n in report.unexpected_columns]
        + [{"column": n, "problem": f"type {a} -> {b}"} for n, a, b in report.type_changes],
        hide_index=True,
    )
else:
    st.caption("Same columns and types as the reference.")
invalid = ui_quality.invalid_files(compared)
if invalid is None:
    st.caption(ui_quality.NO_LOG_FILES)
elif invalid:
    with st.expander(f"Log files with invalid records: {sum(i.count for i in invalid):,}"):
        st.dataframe(
            [
                {
                    "file": str(i.path.relative_to(context.store.data_dir)),
                    "kind": i.kind,
                    "invalid records": i.count,
                    f"of {stem}": i.by_model.get(stem, 0),
                    "problem": i.unreadable or "unreadable lines skipped",
                }
                for i in invalid
            ],
            hide_index=True,
        )

st.subheader("Feature correlations")
found = ui_quality.correlations(compared)
if len(found.features) >= 2:
    left, right = st.columns(2)
    left.plotly_chart(
        charts_quality.correlation_figure(found, "reference"), config={"displayModeBar": False}
    )
    right.plotly_chart(
        charts_quality.correlation_figure(found, "current"), config={"displayModeBar": False}
    )
else:
    st.caption("Fewer than two numeric features.")
