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
from monitor.ui import label_delay, page_findings, performance_uploads
from monitor.ui import performance as ui_performance
from monitor.ui.charts import performance as charts
from monitor.ui.charts.performance import TITLES, Series, format_value

BUCKETS: tuple[Bucket, ...] = ("hour", "day", "week")
ESTIMATE_TILES = {"accuracy": "Estimated accuracy", "f1": "Estimated F1"}


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
    realized = overall.metrics.get(name)
    value = realized.value if realized else None
    delta = deviation(name, value, report.baseline)
    tiles = st.columns(5)
    tiles[0].metric(
        TITLES[name],
        format_value(name, value),
        delta=None if delta is None else format_value(name, delta),
        delta_color="normal" if HIGHER_IS_BETTER[name] else "inverse",
        help=ui_performance.headline_help(name, realized),
    )
    label_tiles(tiles[1], tiles[2], overall)
    baseline_tile(tiles[3], report, name)
    estimate_or_rmse(tiles[4], report, overall)


def label_tiles(
    labeled: DeltaGenerator, coverage: DeltaGenerator, overall: GroupPerformance
) -> None:
    labeled.metric(
        "Labeled",
        f"{overall.labeled:,}",
        help=f"Predictions with a label, of {overall.predictions:,} in the window (status ok).",
    )
    coverage.metric("Label coverage", format_value("accuracy", overall.coverage))


def baseline_tile(tile: DeltaGenerator, report: PerformanceReport, name: str) -> None:
    baseline = report.baseline
    found = baseline.metrics.get(name)
    tile.metric(
        f"Baseline ({baseline.source or 'none'})",
        format_value(name, found.value if found else None),
        help=baseline.note
        or f"From {baseline.reference_rows:,} labeled reference rows and/or monitor.toml.",
    )


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


def metric_over_time(
    report: PerformanceReport, column: DeltaGenerator, *, realized: bool = True
) -> list[Series]:
    """The chosen metric per bucket (picked in `column`), per version or all together;
    returns the chart's lines. Not `realized` (no labels): the estimated metrics only."""
    metric = column.selectbox(
        "Metric",
        report.metric_names if realized else ESTIMATED_METRICS,
        format_func=lambda m: TITLES.get(m, m),
        key=f"performance_metric_{report.task}" + ("" if realized else "_estimated"),
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
            realized=realized,
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


def estimate_kpis(report: PerformanceReport, overall: GroupPerformance) -> None:
    """A window without labels: the estimated accuracy and F1 against the baseline (binary
    models with estimates), the labels (none yet) and the baseline."""
    estimate = overall.estimated if ui_performance.has_estimates(report) else None
    shown = ESTIMATE_TILES if estimate is not None else {}
    tiles = st.columns(len(shown) + 3)
    for tile, (name, title) in zip(tiles, shown.items(), strict=False):
        found = estimate.metrics.get(name) if estimate is not None else None
        value = found.value if found else None
        delta = deviation(name, value, report.baseline)
        tile.metric(
            title,
            format_value(name, value),
            delta=None if delta is None else format_value(name, delta),
            help=ui_performance.estimate_help(name, found),
        )
    label_tiles(tiles[len(shown)], tiles[len(shown) + 1], overall)
    baseline_tile(tiles[-1], report, next(iter(shown), HEADLINE_METRIC[report.task]))


def label_delay_notice(report: PerformanceReport, scope: Scope, window_label: str) -> None:
    """Why there are no realized metrics: when labels arrive, the newest labeled
    prediction, and a button to the shortest window that has labels."""
    arrival = label_delay.label_arrival(context.store, scope)
    target = label_delay.window_with_labels(arrival, ui.WINDOWS, window_label)
    estimated = ui_performance.has_estimates(report)
    st.info(
        "No labels yet for this window: "
        + label_delay.delay_text(arrival, scope.window.end)
        + ". "
        + (
            "The metrics here are estimated from the scores"
            if estimated
            else "Realized metrics need labels"
        )
        + (f"; widen the window to '{target}' for realized metrics." if target else ".")
    )
    if target is not None:
        label_delay.window_button(target, key="performance_widen_window")


def estimates_by_version(report: PerformanceReport) -> None:
    """The whole window's estimates per version, with their bands and the baseline."""
    st.markdown("**Estimated from the scores, per version** (95% bands; no labels needed)")
    st.plotly_chart(
        charts.estimates_figure(
            ui_performance.version_estimates(report),
            baseline={name: m.value for name, m in report.baseline.metrics.items()},
        ),
        config={"displayModeBar": False},
    )
    st.dataframe(
        ui_performance.estimate_table(report),
        hide_index=True,
        key="performance_estimates_table",
        placeholder="n/a",
        column_config={
            name: st.column_config.NumberColumn(format="percent")
            for name in ("estimated", "95% low", "95% high", "baseline")
        },
    )
    st.caption(
        "Confidence-based estimation: the scores calibrated on the reference give the "
        "expected confusion matrix. It assumes P(label | score) is as in the reference: a "
        "version that scores differently, concept drift or label shift make it wrong, and "
        "only labels can show it."
    )


def without_labels(
    report: PerformanceReport,
    overall: GroupPerformance,
    scope: Scope,
    window_label: str,
    column: DeltaGenerator,
) -> None:
    """A window whose predictions have no label yet: label-free metrics first, then why
    (the trend's metric is picked in `column`)."""
    estimate_kpis(report, overall)
    label_delay_notice(report, scope, window_label)
    if ui_performance.has_estimates(report) and overall.estimated is not None:
        estimates_by_version(report)
        metric_over_time(report, column, realized=False)


def confidence_over_time(report: PerformanceReport) -> None:
    if report.task == "regression":
        return
    st.markdown("**Confidence and entropy over time** (all predictions, no labels needed)")
    st.plotly_chart(charts.confidence_figure(report.buckets()), config={"displayModeBar": False})


def segments(model: ModelConfig, scope: Scope, overall: GroupPerformance) -> None:
    """The error rate (or MAE) per value of a chosen feature; a sentence without labels."""
    st.markdown("**Segments**: where the model is wrong")
    if overall.labeled == 0:
        st.caption(
            f"Segments need labels: none of the {overall.predictions:,} predictions in this "
            "window has one yet."
        )
        return
    features = ui_performance.segment_features(context.store, model, scope)
    if not features:
        st.info("No features logged in this window.")
        return
    feature = st.selectbox("Feature", features, key=f"performance_segment_{model.id}")
    found = ui_performance.segment_report(context.store, model, scope, feature)
    unlabeled = sum(1 for s in found.segments if s.error.value is None)
    if unlabeled == len(found.segments):
        st.caption(f"No labeled predictions in any segment of {feature} yet.")
        return
    st.plotly_chart(charts.segments_figure(found), config={"displayModeBar": False})
    if unlabeled:
        st.caption(
            f"n/a: {unlabeled} segments have no labeled prediction yet (left off the chart)."
        )
    st.dataframe(
        ui_performance.segment_rows(found),
        hide_index=True,
        key="performance_segments_table",
        placeholder="n/a",
        column_config={
            name: st.column_config.NumberColumn(
                format="percent" if found.metric == "error_rate" else "%.3f"
            )
            for name in (TITLES[found.metric], "95% low", "95% high")
        },
    )


context = ui.current()
st.title("Performance")
if context.source.uploads:
    performance_uploads.show(context)
    st.stop()
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
page_findings.show(context, "performance", page_model, logs=True)
top_left, top_right = st.columns([1, 3])
page_bucket = bucket_picker(top_left, page_scope, page_filters.window_label)
page_report = ui_performance.performance_report(context.store, page_model, page_scope, page_bucket)
page_overall = page_report.overall()
if page_overall is None or page_overall.predictions == 0:
    st.info(f"No {page_model.id} predictions in this window.")
    st.stop()

if page_overall.labeled == 0:
    without_labels(page_report, page_overall, page_scope, page_filters.window_label, top_right)
else:
    headline_kpis(page_report, page_overall)
    accuracy_alert(page_report, page_overall)
    page_lines = metric_over_time(page_report, top_right)
    label_free_estimates(page_report, page_lines)
    confusion_and_calibration(page_report)
confidence_over_time(page_report)
segments(page_model, page_scope, page_overall)
