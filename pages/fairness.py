"""Fairness: how the model treats each group, and whether that changed with a release."""

import streamlit as st

from monitor.core.errors import MonitorError
from monitor.metrics.fairness.audit import DEFAULT_MIN_CLASS_COUNT, DEFAULT_MIN_GROUP_SIZE
from monitor.metrics.fairness.groups import group_label
from monitor.metrics.fairness.rates import DEFAULT_METRIC, TITLES, metrics_for
from monitor.reports import fairness_export
from monitor.ui import context as ui
from monitor.ui import fairness as ui_fairness
from monitor.ui import fairness_source
from monitor.ui.charts import fairness as charts_fairness

context = ui.current()
st.title("Fairness")
st.caption(
    "Metrics per group of a sensitive feature (several features: their intersections), "
    "labeled predictions only. The four-fifths screen flags a group whose metric is "
    "outside [tau, 1/tau] times the reference group's: a screening rule, not a legal "
    "verdict. Groups too small to judge are shown in grey and left out of verdicts."
)

source = fairness_source.choose_source(context)
key = fairness_source.source_key(source)
options, configured = fairness_source.sensitive_choices(source)
left, middle, right, last = st.columns([3, 2, 2, 2])
sensitive = left.multiselect(
    "Sensitive feature(s)",
    options,
    default=configured[:1],
    key=f"fairness_sensitive_{key}",
    help="Several features give intersectional groups. Configured: "
    + (", ".join(configured) or "none"),
)
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
    min_group_size = int(
        a.number_input(
            "Minimum rows per group", 0, value=DEFAULT_MIN_GROUP_SIZE, key="fairness_min"
        )
    )
    min_class_count = int(
        b.number_input(
            "Minimum positive and negative labels",
            0,
            value=DEFAULT_MIN_CLASS_COUNT,
            key="fairness_min_class",
        )
    )
    bootstrap = int(
        c.number_input(
            "Bootstrap replicates (0: no intervals)",
            0,
            5000,
            value=ui_fairness.PAGE_BOOTSTRAP,
            key="fairness_bootstrap",
        )
    )

if not sensitive:
    st.info("Choose a sensitive feature (none is configured for this model or dataset).")
    st.stop()

try:
    data = fairness_source.table(source, tuple(sensitive))
    if data.total_rows == 0:
        st.info(fairness_source.no_rows_message(source, data))
        st.stop()
    labels = [group_label(k) for k in sorted(set(data.groups))]
    rules = {"largest": "Largest group", "best": "Best group", "overall": "Overall"}
    reference = right.selectbox(
        "Reference group",
        [*rules, *labels],
        format_func=lambda r: rules.get(r, r),
        key=f"fairness_reference_{key}_{'|'.join(sensitive)}",
        help="Disparity = a group's metric / the reference's. Best: the highest value "
        "(the lowest for error rates).",
    )
    report = ui_fairness.report(
        data,
        reference=reference,
        metric=metric,
        tau=tau,
        min_group_size=min_group_size,
        min_class_count=min_class_count,
        bootstrap=bootstrap,
        seed=0,
    )
except MonitorError as exc:
    st.error(ui.escape_markdown(str(exc)))
    st.stop()

summary = report.summary
reference_name = (
    group_label(report.reference_group) if report.reference_group is not None else "overall"
)
unlabeled = getattr(data, "unlabeled_rows", 0)
noun = fairness_source.rows_noun(source)
st.markdown(
    f"**{report.rows:,} labeled {noun}** in {len(report.groups)} groups "
    f"({summary.judged_groups} large enough to judge); reference: "
    f"**{ui.escape_markdown(reference_name)}**"
    + (f"; {unlabeled:,} {noun} have no label yet" if unlabeled else "")
)
for note in report.notes:
    st.caption(ui.escape_markdown(note))

tiles = st.columns(6)
tile_values = (
    ("DP difference", summary.demographic_parity_difference, "demographic_parity_difference"),
    ("DP ratio", summary.demographic_parity_ratio, "demographic_parity_ratio"),
    ("EO difference", summary.equalized_odds_difference, "equalized_odds_difference"),
    ("EO ratio", summary.equalized_odds_ratio, "equalized_odds_ratio"),
    (
        "Equal opportunity diff.",
        summary.equal_opportunity_difference,
        "equal_opportunity_difference",
    ),
)
for column, (title, value, name) in zip(tiles[:5], tile_values, strict=True):
    interval = summary.ci.get(name)
    column.metric(
        title,
        "n/a" if value is None else f"{value:.3f}",
        help=None if interval is None else f"95% CI {interval[0]:.3f} to {interval[1]:.3f}",
    )
verdict = {True: "passed", False: "failed", None: "not judged"}[summary.four_fifths_passed]
tiles[5].metric(
    "Four-fifths screen",
    verdict,
    delta=f"{len(summary.failing_groups)} groups outside the band"
    if summary.failing_groups
    else None,
    delta_color="inverse",
    help=f"On {TITLES[report.metric]}, tau {report.tau:g}. A screening rule, not a legal verdict.",
)

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

fairness_source.render_trends(
    source,
    tuple(sensitive),
    report,
    metric=metric,
    tau=tau,
    min_group_size=min_group_size,
    min_class_count=min_class_count,
)

document = fairness_export.report_document(report)
name = f"fairness-{key}-{'-'.join(sensitive)}"
ui.download_buttons(name, fairness_export.report_csv(report), fairness_export.to_json(document))
