"""Performance: is the model still right, per version, and how sure can we be."""

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from monitor.core.buckets import Bucket
from monitor.core.config import ModelConfig
from monitor.core.scope import Scope
from monitor.metrics.performance.baseline import HIGHER_IS_BETTER, deviation
from monitor.metrics.performance.estimation import ESTIMATED_METRICS
from monitor.metrics.performance.groups import GroupPerformance
from monitor.metrics.performance.report import HEADLINE_METRIC, MIN_LABELS, PerformanceReport
from monitor.ui import context as ui
from monitor.ui import performance as ui_performance
from monitor.ui.charts import performance as charts
from monitor.ui.charts.performance import TITLES, Series, format_value

BUCKETS: tuple[Bucket, ...] = ("hour", "day", "week")


def bucket_picker(column: DeltaGenerator, scope: Scope, window_label: str) -> Bucket:
    bucket: Bucket = column.selectbox(
        "Bucket",
        BUCKETS,
        index=BUCKETS.index(scope.bucket()),
        key=f"performance_bucket_{window_label}",
    )
    return bucket


def headline_kpis(report: PerformanceReport, overall: GroupPerformance) -> None:
    """The headline metric against the baseline, the labels behind it, and an estimate
    from the scores (classifiers) or the RMSE (regression)."""
    name = HEADLINE_METRIC[report.task]
    baseline = report.baseline
    realized = overall.metrics.get(name)
    value = realized.value if realized else None
    base_metric = baseline.metrics.get(name)
    delta = deviation(name, value, baseline)
    tiles = st.columns(5)
    tiles[0].metric(
        TITLES[name],
        format_value(name, value),
        delta=None if delta is None else format_value(name, delta),
        delta_color="normal" if HIGHER_IS_BETTER[name] else "inverse",
        help=ui_performance.headline_help(name, realized),
    )
    tiles[1].metric(
        "Labeled",
        f"{overall.labeled:,}",
        help=f"Predictions with a label, of {overall.predictions:,} in the window (status ok).",
    )
    tiles[2].metric("Label coverage", format_value("accuracy", overall.coverage))
    tiles[3].metric(
        f"Baseline ({baseline.source or 'none'})",
        format_value(name, base_metric.value if base_metric else None),
        help=baseline.note
        or f"From {baseline.reference_rows:,} labeled reference rows and/or monitor.toml.",
    )
    estimate_or_rmse(tiles[4], report, overall)


def estimate_or_rmse(
    tile: DeltaGenerator, report: PerformanceReport, overall: GroupPerformance
) -> None:
    if report.task == "regression":
        rmse = overall.metrics.get("rmse")
        tile.metric("RMSE", format_value("rmse", rmse.value if rmse else None))
        return
    name = HEADLINE_METRIC[report.task]
    estimate = overall.estimated.metrics.get(name) if overall.estimated else None
    tile.metric(
        "Estimated accuracy",
        format_value(name, estimate.value if estimate else None),
        help=report.estimation_note
        or "From the scores alone, calibrated on the reference (confidence-based "
        "estimation); assumes P(label | score) as in the reference.",
    )


def accuracy_alert(report: PerformanceReport, overall: GroupPerformance) -> None:
    """An error when accuracy fell further below the baseline than the threshold allows."""
    drop = ui_performance.accuracy_drop(report, overall)
    limit = context.settings.thresholds.accuracy_drop
    if drop is not None and drop > limit:
        st.error(f"Accuracy is {drop:.1%} below the baseline (threshold {limit:.0%}).")


def metric_over_time(report: PerformanceReport, column: DeltaGenerator) -> list[Series]:
    """The chosen metric per bucket (picked in `column`), per version or all together;
    returns the chart's lines."""
    metric = column.selectbox(
        "Metric",
        report.metric_names,
        format_func=lambda m: TITLES.get(m, m),
        key=f"performance_metric_{report.task}",
    )
    split = len(report.versions_seen) > 1 and st.toggle(
        "One line per version", value=True, key="performance_by_version"
    )
    series = ui_performance.trend_series(report, by_version=split)
    has_estimate = any(g.estimated for g in report.groups) and metric in ESTIMATED_METRICS
    base_value = report.baseline.metrics.get(metric)
    st.plotly_chart(
        charts.trend_figure(
            series,
            metric=metric,
            baseline=base_value.value if base_value else None,
            estimated=has_estimate,
        ),
        config={"displayModeBar": False},
    )
    return series


def label_free_estimates(report: PerformanceReport, series: list[Series]) -> None:
    """Binary models with estimates: where the estimate missed the labels, per bucket."""
    if report.task != "binary" or report.estimation_note is not None:
        return
    wrong, checked = ui_performance.estimate_misses(series)
    if wrong:
        st.warning(
            f"In {wrong} of {checked} labeled buckets the realized accuracy falls "
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
            ui_performance.estimate_rows(series),
            hide_index=True,
            column_config={
                "bucket": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                "realized": st.column_config.NumberColumn(format="percent"),
                "estimated": st.column_config.NumberColumn(format="percent"),
            },
        )


def confusion_and_calibration(report: PerformanceReport) -> None:
    """Classifiers: the confusion matrix of a chosen version, calibration per version,
    and scores per class."""
    if report.task == "regression":
        return
    names = ui_performance.version_choices(report)
    chosen = st.selectbox("Confusion matrix of", list(names), key="performance_confusion_version")
    group = report.overall(names[chosen])
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
        curves = ui_performance.calibration_curves(report)
        if curves:
            st.plotly_chart(
                charts.calibration_figure(curves, event=event), config={"displayModeBar": False}
            )
        else:
            st.info("No labeled predictions with scores.")
    if group is not None and group.per_class:
        st.dataframe(ui_performance.per_class_rows(group), hide_index=True)


def confidence_over_time(report: PerformanceReport) -> None:
    if report.task == "regression":
        return
    st.markdown("**Confidence and entropy over time** (all predictions, no labels needed)")
    st.plotly_chart(charts.confidence_figure(report.buckets()), config={"displayModeBar": False})


def segments(model: ModelConfig, scope: Scope) -> None:
    """The error rate (or MAE) per value of a chosen feature."""
    st.markdown("**Segments**: where the model is wrong")
    features = ui_performance.segment_features(context.store, model, scope)
    if not features:
        st.info("No features logged in this window.")
        return
    feature = st.selectbox("Feature", features, key=f"performance_segment_{model.id}")
    found = ui_performance.segment_report(context.store, model, scope, feature)
    st.plotly_chart(charts.segments_figure(found), config={"displayModeBar": False})
    st.dataframe(
        ui_performance.segment_rows(found),
        hide_index=True,
        key="performance_segments_table",
        column_config={
            name: st.column_config.NumberColumn(
                format="percent" if found.metric == "error_rate" else "%.3f"
            )
            for name in (TITLES[found.metric], "95% low", "95% high")
        },
    )


context = ui.current()
st.title("Performance")
st.caption(
    "Realized metrics from the labels logged so far (feedback records; the latest label "
    "of a prediction wins) and, for binary models, metrics estimated from the scores alone. "
    "Error bars are 95% bands; open markers mark buckets with fewer than "
    f"{MIN_LABELS} labels. Labels count for the time of their prediction."
)
page_filters, page_scope = context.filters, context.scope
if page_filters is None or page_scope is None:
    st.warning(f"No predictions found under {context.settings.data_dir}.")
    st.stop()

page_model = context.settings.model(page_scope.model_id)
top_left, top_right = st.columns([1, 3])
page_bucket = bucket_picker(top_left, page_scope, page_filters.window_label)
page_report = ui_performance.performance_report(context.store, page_model, page_scope, page_bucket)
page_overall = page_report.overall()
if page_overall is None or page_overall.predictions == 0:
    st.info(f"No {page_model.id} predictions in this window.")
    st.stop()

headline_kpis(page_report, page_overall)
accuracy_alert(page_report, page_overall)
page_lines = metric_over_time(page_report, top_right)
label_free_estimates(page_report, page_lines)
confusion_and_calibration(page_report)
confidence_over_time(page_report)
segments(page_model, page_scope)
