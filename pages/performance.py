"""Performance: is the model still right, per version, and how sure can we be."""

import streamlit as st

from monitor.core.buckets import Bucket
from monitor.metrics.performance.baseline import HIGHER_IS_BETTER, deviation
from monitor.metrics.performance.estimation import ESTIMATED_METRICS
from monitor.metrics.performance.report import HEADLINE_METRIC, MIN_LABELS
from monitor.ui import context as ui
from monitor.ui import performance as ui_performance
from monitor.ui.charts import performance as charts
from monitor.ui.charts.performance import TITLES, Series, format_value

context = ui.current()
st.title("Performance")
st.caption(
    "Realized metrics from the labels logged so far (feedback records; the latest label "
    "of a prediction wins) and, for binary models, metrics estimated from the scores alone. "
    "Error bars are 95% bands; open markers mark buckets with fewer than "
    f"{MIN_LABELS} labels. Labels count for the time of their prediction."
)

filters = context.filters
scope = context.scope
if filters is None or scope is None:
    st.warning(f"No predictions found under {context.settings.data_dir}.")
    st.stop()

store = context.store
model = context.settings.model(scope.model_id)
left, right = st.columns([1, 3])
buckets: tuple[Bucket, ...] = ("hour", "day", "week")
bucket: Bucket = left.selectbox(
    "Bucket",
    buckets,
    index=buckets.index(scope.bucket()),
    key=f"performance_bucket_{filters.window_label}",
)
report = ui_performance.performance_report(store, model, scope, bucket)
overall = report.overall()
if overall is None or overall.predictions == 0:
    st.info(f"No {model.id} predictions in this window.")
    st.stop()

headline_name = HEADLINE_METRIC[report.task]
baseline = report.baseline
base_metric = baseline.metrics.get(headline_name)
realized = overall.metrics.get(headline_name)
tiles = st.columns(5)
delta = deviation(headline_name, realized.value if realized else None, baseline)
tiles[0].metric(
    TITLES[headline_name],
    format_value(headline_name, realized.value if realized else None),
    delta=None if delta is None else format_value(headline_name, delta),
    delta_color="normal" if HIGHER_IS_BETTER[headline_name] else "inverse",
    help="Realized on the labeled predictions of the window; delta against the baseline. "
    + (
        f"95% band {format_value(headline_name, realized.low)} to "
        f"{format_value(headline_name, realized.high)}."
        if realized and realized.low is not None
        else ""
    ),
)
tiles[1].metric(
    "Labeled",
    f"{overall.labeled:,}",
    help=f"Predictions with a label, of {overall.predictions:,} in the window (status ok).",
)
tiles[2].metric("Label coverage", format_value("accuracy", overall.coverage))
tiles[3].metric(
    f"Baseline ({baseline.source or 'none'})",
    format_value(headline_name, base_metric.value if base_metric else None),
    help=baseline.note
    or f"From {baseline.reference_rows:,} labeled reference rows and/or monitor.toml.",
)
if report.task == "regression":
    rmse = overall.metrics.get("rmse")
    tiles[4].metric("RMSE", format_value("rmse", rmse.value if rmse else None))
else:
    estimate = overall.estimated.metrics.get(headline_name) if overall.estimated else None
    tiles[4].metric(
        "Estimated accuracy",
        format_value(headline_name, estimate.value if estimate else None),
        help=report.estimation_note
        or "From the scores alone, calibrated on the reference (confidence-based "
        "estimation); assumes P(label | score) as in the reference.",
    )
if realized and realized.value is not None and base_metric and base_metric.value is not None:
    drop = base_metric.value - realized.value
    if headline_name == "accuracy" and drop > context.settings.thresholds.accuracy_drop:
        st.error(
            f"Accuracy is {drop:.1%} below the baseline (threshold "
            f"{context.settings.thresholds.accuracy_drop:.0%})."
        )

versions = report.versions_seen
metric = right.selectbox(
    "Metric",
    report.metric_names,
    format_func=lambda m: TITLES.get(m, m),
    key=f"performance_metric_{report.task}",
)
split = len(versions) > 1 and st.toggle(
    "One line per version", value=True, key="performance_by_version"
)
series = (
    [Series(v or "(unversioned)", report.buckets(v)) for v in versions]
    if split
    else [Series("all versions", report.buckets())]
)
has_estimate = any(g.estimated for g in report.groups) and metric in ESTIMATED_METRICS
base_value = baseline.metrics.get(metric)
st.plotly_chart(
    charts.trend_figure(
        series,
        metric=metric,
        baseline=base_value.value if base_value else None,
        estimated=has_estimate,
    ),
    config={"displayModeBar": False},
)

if report.task == "binary" and report.estimation_note is None:
    checked = [g for line in series for g in line.buckets if g.estimate_check]
    wrong = [g for g in checked if g.estimate_check and not g.estimate_check.agrees]
    if wrong:
        st.warning(
            f"In {len(wrong)} of {len(checked)} labeled buckets the realized accuracy falls "
            "outside the estimate's band: there P(label | score) differs from the "
            "reference (concept drift, label shift, or a version scoring differently), and "
            "estimates for unlabeled buckets may be off the same way."
        )
    with st.expander("Estimated vs realized accuracy per bucket"):
        st.caption(
            "The estimate assumes P(label | score) is as in the reference: right under "
            "covariate shift, wrong under concept drift or label shift, which it cannot "
            "see without labels. Checked where a bucket has at least "
            f"{MIN_LABELS} labels, on those labeled predictions."
        )
        st.dataframe(
            [
                {
                    "bucket": g.start,
                    "version": g.version or "all",
                    "predictions": g.predictions,
                    "labeled": g.labeled,
                    "realized": g.metrics["accuracy"].value if "accuracy" in g.metrics else None,
                    "estimated": g.estimated.metrics["accuracy"].value if g.estimated else None,
                    "agrees": None if g.estimate_check is None else g.estimate_check.agrees,
                }
                for s in series
                for g in s.buckets
            ],
            hide_index=True,
            column_config={
                "bucket": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                "realized": st.column_config.NumberColumn(format="percent"),
                "estimated": st.column_config.NumberColumn(format="percent"),
            },
        )

if report.task != "regression":
    names = {"all versions": None} | {(v or "(unversioned)"): v for v in versions}
    chosen_name = st.selectbox(
        "Confusion matrix of",
        list(names) if len(versions) > 1 else ["all versions"],
        key="performance_confusion_version",
    )
    chosen = names[chosen_name]
    group = report.overall(chosen)
    left, right = st.columns(2)
    with left:
        st.markdown("**Confusion matrix** (whole window)")
        if group is not None and group.confusion is not None:
            st.plotly_chart(
                charts.confusion_figure(group.confusion), config={"displayModeBar": False}
            )
        else:
            st.info("No labeled predictions.")
    with right:
        event = "observed positive rate" if report.task == "binary" else "observed accuracy"
        st.markdown(f"**Calibration**: mean score vs {event}")
        curves = [
            (v or "(unversioned)", g.calibration)
            for v in versions
            if (g := report.overall(v)) is not None and g.calibration
        ]
        if curves:
            st.plotly_chart(
                charts.calibration_figure(curves, event=event), config={"displayModeBar": False}
            )
        else:
            st.info("No labeled predictions with scores.")
    if group is not None and group.per_class:
        st.dataframe(
            [
                {
                    "class": c.label,
                    "support": c.support,
                    "predicted": c.predicted,
                    "precision": c.precision.value,
                    "recall": c.recall.value,
                    "F1": c.f1,
                }
                for c in group.per_class
            ],
            hide_index=True,
        )
    st.markdown("**Confidence and entropy over time** (all predictions, no labels needed)")
    st.plotly_chart(charts.confidence_figure(report.buckets()), config={"displayModeBar": False})

st.markdown("**Segments**: where the model is wrong")
features = ui_performance.segment_features(store, model, scope)
if features:
    feature = st.selectbox("Feature", features, key=f"performance_segment_{model.id}")
    segments = ui_performance.segment_report(store, model, scope, feature)
    st.plotly_chart(charts.segments_figure(segments), config={"displayModeBar": False})
    st.dataframe(
        [
            {
                "value": s.label,
                "predictions": s.predictions,
                "labeled": s.labeled,
                TITLES[segments.metric]: s.error.value,
                "95% low": s.error.low,
                "95% high": s.error.high,
            }
            for s in segments.segments
        ],
        hide_index=True,
        key="performance_segments_table",
        column_config={
            name: st.column_config.NumberColumn(
                format="percent" if segments.metric == "error_rate" else "%.3f"
            )
            for name in (TITLES[segments.metric], "95% low", "95% high")
        },
    )
else:
    st.info("No features logged in this window.")
