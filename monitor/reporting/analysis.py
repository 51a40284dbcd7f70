"""The report's model sections: performance, drift, data quality and fairness of one
model's scope, each drawn with the figure the dashboard page draws (`monitor.ui.charts`).

Drift, quality and fairness are judged with the `[thresholds]` of the config, as the
executive summary judges them (`monitor.findings.status`), so a section and the summary's
status line agree.
"""

from __future__ import annotations

from monitor.core import buckets, tabular
from monitor.core.config import ModelConfig, Settings
from monitor.core.errors import MonitorError
from monitor.core.scope import Scope
from monitor.core.store import LogStore
from monitor.metrics.fairness import audit as fairness
from monitor.metrics.fairness import selection
from monitor.metrics.fairness.rates import TITLES as FAIRNESS_TITLES
from monitor.metrics.health.service import invalid_in_window
from monitor.metrics.performance.estimation import ESTIMATED_METRICS
from monitor.metrics.performance.groups import GroupPerformance
from monitor.metrics.performance.report import HEADLINE_METRIC, PerformanceReport
from monitor.metrics.quality import OK, Limits, QualityReport
from monitor.queries import drift, quality
from monitor.queries.fairness import log_table
from monitor.queries.fairness_predictions import prediction_table
from monitor.queries.performance_report import performance
from monitor.reporting.model import Chart, Section, Table, cell, version_label
from monitor.ui.charts import drift as drift_charts
from monitor.ui.charts import fairness as fairness_charts
from monitor.ui.charts import performance as performance_charts
from monitor.ui.charts import quality as quality_charts
from monitor.ui.charts.performance import TITLES, Series, format_value


def performance_section(store: LogStore, model: ModelConfig, scope: Scope) -> Section:
    """The headline metric per bucket (a line per version), the whole window's metrics
    with their 95% bands against the baseline, and the confusion matrix."""
    report = performance(store, model, scope, bucket=scope.bucket())
    metric = HEADLINE_METRIC[report.task]
    base = report.baseline.metrics.get(metric)
    versions = report.versions_seen
    series = [Series("all versions", report.buckets())]
    if len(versions) > 1:
        series = [Series(version_label(v), report.buckets(v)) for v in versions]
    figure = performance_charts.trend_figure(
        series,
        metric=metric,
        baseline=base.value if base else None,
        estimated=any(g.estimated for g in report.groups) and metric in ESTIMATED_METRICS,
    )
    charts = [Chart.of(f"{TITLES[metric]} per {report.bucket} (dotted: baseline)", figure)]
    overall = report.overall()
    if overall is not None and overall.confusion is not None:
        figure = performance_charts.confusion_figure(overall.confusion)
        charts.append(Chart.of("Confusion matrix, whole window", figure))
    return Section(
        "performance",
        "Performance",
        _performance_lead(report, overall),
        notes=tuple(n for n in (report.baseline.note, report.estimation_note) if n),
        charts=tuple(charts),
        tables=(_metrics_table(report, overall), _versions_table(report, metric)),
    )


def _performance_lead(report: PerformanceReport, overall: GroupPerformance | None) -> str:
    metric = HEADLINE_METRIC[report.task]
    base = report.baseline.metrics.get(metric)
    against = f", against a baseline of {format_value(metric, base.value)}" if base else ""
    found = overall.metrics.get(metric) if overall is not None else None
    guess = overall.estimated.metrics.get(metric) if overall and overall.estimated else None
    if overall is not None and found is not None and found.value is not None:
        return (
            f"{TITLES[metric]} {format_value(metric, found.value)} on {overall.labeled:,} "
            f"labeled of {overall.predictions:,} predictions{against}."
        )
    if guess is not None and guess.value is not None:
        return (
            f"No labels yet: {TITLES[metric]} estimated from the scores at "
            f"{format_value(metric, guess.value)}{against}."
        )
    return f"No labeled predictions in the window: {TITLES[metric]} is not known yet."


def _metrics_table(report: PerformanceReport, overall: GroupPerformance | None) -> Table:
    found = overall.metrics if overall is not None else {}
    rows = []
    for name in report.metric_names:
        metric, base = found.get(name), report.baseline.metrics.get(name)
        rows.append(
            (
                TITLES.get(name, name),
                format_value(name, metric.value if metric else None),
                format_value(name, metric.low if metric else None),
                format_value(name, metric.high if metric else None),
                format_value(name, base.value if base else None),
            )
        )
    columns = ("metric", "whole window", "95% low", "95% high", "baseline")
    return Table(columns, tuple(rows), f"Baseline: {report.baseline.source or 'none'}")


def _versions_table(report: PerformanceReport, metric: str) -> Table:
    rows = []
    for version in report.versions_seen:
        group = report.overall(version)
        if group is None:
            continue
        found = group.metrics.get(metric)
        guess = group.estimated.metrics.get(metric) if group.estimated else None
        rows.append(
            (
                version_label(version),
                cell(group.predictions),
                cell(group.labeled),
                format_value(metric, found.value if found else None),
                format_value(metric, guess.value if guess else None),
            )
        )
    columns = ("version", "predictions", "labeled", TITLES[metric], "estimated")
    return Table(columns, tuple(rows), "Per version, whole window")


def drift_section(store: LogStore, settings: Settings, scope: Scope) -> Section:
    """Each feature's drift score against the reference dataset and its verdict."""
    model, limits = settings.model(scope.model_id), settings.thresholds
    report = drift.drift_between(
        store,
        tabular.reference_relation(store, model),
        tabular.log_relation(store, model, scope.window, scope.versions),
        drift_share=limits.drift_share,
        thresholds={"psi": limits.psi},
    )
    share = "n/a" if report.share_drifted is None else f"{report.share_drifted:.0%}"
    verdict = "Dataset drift" if report.dataset_drift else "No dataset drift"
    rows = tuple(
        (
            f.feature,
            f.kind or "-",
            f.method or "-",
            cell(f.score),
            cell(f.threshold),
            f.status,
        )
        for f in report.features
    )
    return Section(
        "drift",
        "Drift",
        f"{verdict}: {len(report.drifted)} of {len(report.evaluated)} features drifted "
        f"({share}; dataset drift from {report.drift_share_threshold:.0%}), against the "
        f"reference dataset ({report.reference_rows:,} rows; {report.current_rows:,} in the "
        "window).",
        charts=(Chart.of("Drift score per feature", drift_charts.score_bars(report)),),
        tables=(Table(("feature", "kind", "method", "score", "threshold", "status"), rows),),
    )


def quality_section(store: LogStore, settings: Settings, scope: Scope) -> Section:
    """Missing, out-of-range and new-category shares over time, and each feature's checks."""
    model, limits = settings.model(scope.model_id), settings.thresholds
    reference = tabular.reference_relation(store, model)
    current = tabular.log_relation(store, model, scope.window, scope.versions)
    found = quality.quality_report(
        store,
        reference,
        current,
        ranges=model.feature_ranges,
        categories=model.feature_categories,
        invalid_records=invalid_in_window(store.invalid_records(), scope.window, model.id),
        limits=Limits(limits.missing_share, limits.new_category_share),
    )
    bucket = scope.bucket(finest="hour")
    over_time = quality.quality_over_time(
        store,
        current,
        width_us=buckets.WIDTH_US[bucket],
        offset_us=buckets.offset_us(bucket),
        ranges={f.feature: f.valid_range for f in found.features if f.valid_range},
        known=quality.known_categories(store, reference, model.feature_categories),
    )
    thresholds = {"missing": limits.missing_share, "new_categories": limits.new_category_share}
    kinds = [
        quality_charts.over_time_kind(k)
        for k in quality_charts.OVER_TIME
        if any(any(shares) for shares in getattr(over_time, k))
    ]
    charts = tuple(
        Chart.of(
            f"{quality_charts.OVER_TIME[k].capitalize()} per {bucket}",
            quality_charts.over_time_figure(over_time, k, thresholds.get(k)),
        )
        for k in kinds or [quality_charts.over_time_kind("missing")]
    )
    return Section(
        "quality",
        "Data quality",
        _quality_lead(found),
        charts=charts,
        tables=(_quality_table(found),),
    )


def _quality_lead(found: QualityReport) -> str:
    issues = [f"{f.feature}: {f.status}" for f in found.features if f.status != OK]
    parts = [f"{len(issues)} of {len(found.features)} features with issues"]
    if issues:
        parts[0] += " (" + "; ".join(issues) + ")"
    if found.duplicate_ids:
        parts.append(f"{found.duplicate_ids:,} repeated prediction ids")
    if found.invalid_records:
        parts.append(f"{found.invalid_records:,} invalid log records")
    return ", ".join(parts) + f", in {found.current_rows:,} predictions."


def _quality_table(found: QualityReport) -> Table:
    rows = tuple(
        (
            f.feature,
            f.kind or "-",
            cell(f.missing_share, "share"),
            cell(f.out_of_range_share, "share"),
            cell(f.new_category_share, "share"),
            f.status,
        )
        for f in found.features
    )
    columns = ("feature", "kind", "missing", "out of range", "new categories", "status")
    return Table(columns, rows)


def fairness_section(store: LogStore, settings: Settings, scope: Scope) -> Section:
    """Per sensitive feature, the screen metric per group against the four-fifths band:
    on labeled predictions, else (binary models without labels in the window yet) the
    selection rate of all predictions."""
    model = settings.model(scope.model_id)
    if not model.sensitive_features:
        return Section("fairness", "Fairness", "No sensitive features configured for this model.")
    charts, tables, results = [], [], []
    for feature in model.sensitive_features:
        try:
            chart, table, result = _fairness_of(store, settings, model, scope, feature)
        except MonitorError as exc:
            results.append(f"{feature}: not judged ({exc})")
            continue
        charts.append(chart)
        tables.append(table)
        results.append(result)
    return Section(
        "fairness",
        "Fairness",
        "Four-fifths screen: " + "; ".join(results) + ".",
        charts=tuple(charts),
        tables=tuple(tables),
    )


def _fairness_of(
    store: LogStore, settings: Settings, model: ModelConfig, scope: Scope, feature: str
) -> tuple[Chart, Table, str]:
    tau = settings.thresholds.fairness_tau
    window, versions = scope.window, scope.versions
    data = log_table(store, model, sensitive=[feature], window=window, versions=versions)
    groups: list[selection.SelectionGroup | fairness.GroupResult]
    unlabeled = data.total_rows == 0 and model.task == "binary"
    if unlabeled:
        cells = prediction_table(
            store, model, sensitive=[feature], window=window, versions=versions
        )
        picked = selection.selection_audit(cells, tau=tau)
        figure, passed = fairness_charts.selection_figure(picked), picked.four_fifths_passed
        metric, groups = picked.metric, list(picked.groups)
        values = [(g.selection_rate, g.disparity) for g in picked.groups]
    else:
        audited = fairness.audit(data, tau=tau)
        metric, groups = audited.metric, list(audited.groups)
        figure = fairness_charts.groups_figure(audited, metric)
        passed = audited.summary.four_fifths_passed
        values = [(g.metrics.get(metric), g.disparity.get(metric)) for g in audited.groups]
    title = f"{FAIRNESS_TITLES[metric]} by {feature}" + (
        " (all predictions: none labeled yet)" if unlabeled else ""
    )
    rows = tuple(
        (
            g.label,
            cell(g.count),
            cell(value),
            cell(ratio),
            f"no: {g.small_reason or 'too small'}" if g.small else "yes",
            "fails" if g.fails_screen else "ok",
        )
        for g, (value, ratio) in zip(groups, values, strict=True)
    )
    columns = ("group", "count", FAIRNESS_TITLES[metric], "ratio to reference", "judged", "screen")
    verdict = "not judged" if passed is None else "passed" if passed else "failed"
    return Chart.of(title, figure), Table(columns, rows, title), f"{title} {verdict}"
