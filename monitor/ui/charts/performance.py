"""Plotly figures of the Performance page, built from typed results (a few points each)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from monitor.metrics.intervals import Metric
from monitor.metrics.performance.classification import Confusion
from monitor.metrics.performance.estimation import ESTIMATED_METRICS, Estimate
from monitor.metrics.performance.groups import GroupPerformance
from monitor.metrics.performance.report import MIN_LABELS
from monitor.metrics.performance.scores import CalibrationBin
from monitor.metrics.performance.segments import SegmentReport

TITLES: Final = {
    "accuracy": "Accuracy",
    "precision": "Precision",
    "recall": "Recall",
    "f1": "F1",
    "roc_auc": "ROC AUC",
    "log_loss": "Log loss",
    "f1_macro": "Macro F1",
    "f1_weighted": "Weighted F1",
    "mae": "MAE",
    "rmse": "RMSE",
    "r2": "R²",
    "residual_mean": "Mean residual (label - prediction)",
    "residual_std": "Residual std",
    "error_rate": "Error rate",
}
PERCENT: Final = frozenset(
    {"accuracy", "precision", "recall", "f1", "f1_macro", "f1_weighted", "error_rate"}
)
COLORS: Final = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
_MARGIN: Final = {"l": 10, "r": 10, "t": 30, "b": 10}


@dataclass(frozen=True)
class Series:
    """One line of a trend chart: a name and its buckets, oldest first."""

    name: str
    buckets: tuple[GroupPerformance, ...]


def format_value(metric: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1%}" if metric in PERCENT else f"{value:,.3f}"


def _errors(metrics: Sequence[Metric | None]) -> tuple[list[float | None], list[float | None]]:
    plus = [
        m.high - m.value if m and m.value is not None and m.high is not None else None
        for m in metrics
    ]
    minus = [
        m.value - m.low if m and m.value is not None and m.low is not None else None
        for m in metrics
    ]
    return plus, minus


def trend_figure(
    series: Sequence[Series],
    *,
    metric: str,
    baseline: float | None,
    estimated: bool,
    realized: bool = True,
) -> go.Figure:
    """The metric per bucket with its 95% band (error bars), the estimate where there is
    one (dashed), the baseline (dotted) and label coverage underneath. Not `realized`:
    no realized line (a window without labels)."""
    figure = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28], vertical_spacing=0.06
    )
    tick = ".0%" if metric in PERCENT else ",.3g"
    for i, line in enumerate(series):
        color = COLORS[i % len(COLORS)]
        starts = [b.start for b in line.buckets]
        found = [b.metrics.get(metric) for b in line.buckets]
        plus, minus = _errors(found)
        figure.add_scatter(
            visible=realized,
            x=starts,
            y=[m.value if m else None for m in found],
            error_y={"type": "data", "array": plus, "arrayminus": minus, "thickness": 1},
            mode="lines+markers",
            name=f"{line.name}",
            legendgroup=line.name,
            line={"color": color},
            marker={
                "color": color,
                "symbol": [
                    "circle" if b.labeled >= MIN_LABELS else "circle-open" for b in line.buckets
                ],
            },
            customdata=[[b.labeled, b.coverage or 0.0] for b in line.buckets],
            hovertemplate="%{y:" + tick + "} on %{customdata[0]:,} labels "
            "(coverage %{customdata[1]:.0%})<extra>" + line.name + "</extra>",
            row=1,
            col=1,
        )
        if estimated:
            guesses = [
                b.estimated.metrics.get(metric) if b.estimated else None for b in line.buckets
            ]
            plus, minus = _errors(guesses)
            figure.add_scatter(
                x=starts,
                y=[m.value if m else None for m in guesses],
                error_y={
                    "type": "data",
                    "array": plus,
                    "arrayminus": minus,
                    "thickness": 1,
                    "width": 2,
                },
                mode="lines",
                name=f"{line.name} (estimated)",
                legendgroup=line.name,
                line={"color": color, "dash": "dash", "width": 1.5},
                opacity=0.75,
                hovertemplate="estimated %{y:" + tick + "}<extra>" + line.name + "</extra>",
                row=1,
                col=1,
            )
        figure.add_bar(
            x=starts,
            y=[b.coverage for b in line.buckets],
            name=f"{line.name} coverage",
            legendgroup=line.name,
            showlegend=False,
            marker_color=color,
            opacity=0.6,
            hovertemplate="%{y:.0%} labeled<extra>" + line.name + "</extra>",
            row=2,
            col=1,
        )
    if baseline is not None:
        figure.add_hline(
            y=baseline,
            line={"dash": "dot", "color": "#555"},
            annotation_text="baseline",
            annotation_position="top left",
            row=1,
            col=1,
        )
    figure.update_layout(
        height=460, margin=_MARGIN, barmode="group", legend={"orientation": "h", "y": 1.08}
    )
    figure.update_yaxes(title_text=TITLES.get(metric, metric), tickformat=tick, row=1, col=1)
    figure.update_yaxes(title_text="labeled", tickformat=".0%", range=[0, 1], row=2, col=1)
    return figure


def confusion_figure(confusion: Confusion) -> go.Figure:
    """Counts per (true, predicted) class; colour = share of the true class (row)."""
    counts = confusion.counts
    shares = [[v / sum(row) if sum(row) else 0.0 for v in row] for row in counts]
    labels = list(confusion.classes)
    figure = go.Figure(
        go.Heatmap(
            z=shares,
            x=labels,
            y=labels,
            text=[
                [f"{v:,}<br>{s:.0%}" for v, s in zip(row, share, strict=True)]
                for row, share in zip(counts, shares, strict=True)
            ],
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=1,
            colorbar={"title": {"text": "of row"}, "tickformat": ".0%"},
            hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>",
        )
    )
    figure.update_layout(height=360, margin=_MARGIN)
    figure.update_xaxes(title_text="predicted", type="category")
    figure.update_yaxes(title_text="true", type="category", autorange="reversed")
    return figure


def calibration_figure(
    curves: Sequence[tuple[str, tuple[CalibrationBin, ...]]], *, event: str
) -> go.Figure:
    """Reliability diagram: mean score per bin against the observed frequency (with its
    Wilson band); perfect calibration is the diagonal."""
    figure = go.Figure()
    figure.add_scatter(
        x=[0, 1],
        y=[0, 1],
        mode="lines",
        line={"dash": "dot", "color": "#999"},
        name="perfect",
        hoverinfo="skip",
    )
    for i, (name, bins) in enumerate(curves):
        plus, minus = _errors([b.observed for b in bins])
        figure.add_scatter(
            x=[b.mean_score for b in bins],
            y=[b.observed.value for b in bins],
            error_y={"type": "data", "array": plus, "arrayminus": minus, "thickness": 1},
            mode="lines+markers",
            name=name,
            line={"color": COLORS[i % len(COLORS)]},
            customdata=[b.count for b in bins],
            hovertemplate="score %{x:.2f}: %{y:.1%} observed, %{customdata:,} labels<extra>"
            + name
            + "</extra>",
        )
    figure.update_layout(height=360, margin=_MARGIN, legend={"orientation": "h", "y": 1.12})
    figure.update_xaxes(title_text="mean score", range=[0, 1])
    figure.update_yaxes(title_text=event, range=[0, 1], tickformat=".0%")
    return figure


def confidence_figure(buckets: Sequence[GroupPerformance]) -> go.Figure:
    """Quantiles of the predicted class's probability per bucket (10-90% and 25-75%
    bands, median) and the mean entropy (right axis): an early warning without labels."""
    rows = [b for b in buckets if b.confidence is not None]
    starts: list[dt.datetime | None] = [b.start for b in rows]
    q = [b.confidence or () for b in rows]
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    for low, high, name, alpha in ((0, 4, "10-90%", 0.15), (1, 3, "25-75%", 0.3)):
        figure.add_scatter(
            x=starts,
            y=[v[low] for v in q],
            mode="lines",
            line={"width": 0},
            showlegend=False,
            hoverinfo="skip",
        )
        figure.add_scatter(
            x=starts,
            y=[v[high] for v in q],
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=f"rgba(31,119,180,{alpha})",
            name=f"confidence {name}",
            hoverinfo="skip",
        )
    figure.add_scatter(
        x=starts,
        y=[v[2] for v in q],
        mode="lines",
        name="median confidence",
        line={"color": COLORS[0]},
        hovertemplate="median %{y:.3f}<extra></extra>",
    )
    figure.add_scatter(
        x=starts,
        y=[b.entropy_mean for b in rows],
        mode="lines",
        name="mean entropy (bits)",
        line={"color": COLORS[1], "dash": "dash"},
        hovertemplate="entropy %{y:.3f} bits<extra></extra>",
        secondary_y=True,
    )
    figure.update_layout(height=320, margin=_MARGIN, legend={"orientation": "h", "y": 1.15})
    figure.update_yaxes(title_text="P(predicted class)", range=[0, 1], secondary_y=False)
    figure.update_yaxes(title_text="entropy (bits)", rangemode="tozero", secondary_y=True)
    return figure


def segments_figure(report: SegmentReport) -> go.Figure:
    """Error per category with its band; the dotted line is the whole window's."""
    rows = [s for s in report.segments if s.error.value is not None]
    plus, minus = _errors([s.error for s in rows])
    tick = ".0%" if report.metric in PERCENT else ",.3g"
    figure = go.Figure(
        go.Bar(
            x=[s.error.value for s in rows],
            y=[s.label for s in rows],
            orientation="h",
            error_x={"type": "data", "array": plus, "arrayminus": minus, "thickness": 1},
            customdata=[[s.labeled, s.predictions] for s in rows],
            hovertemplate="%{y}: %{x:" + tick + "} on %{customdata[0]:,} labels "
            "(%{customdata[1]:,} predictions)<extra></extra>",
            marker_color=COLORS[0],
        )
    )
    if report.overall.value is not None:
        figure.add_vline(
            x=report.overall.value, line={"dash": "dot", "color": "#555"}, annotation_text="all"
        )
    figure.update_layout(height=max(220, 28 * len(rows) + 80), margin=_MARGIN)
    figure.update_xaxes(title_text=TITLES[report.metric], tickformat=tick, rangemode="tozero")
    if report.metric in PERCENT:  # a share: from 0 to just past the highest band, at most 100%
        tops = [s.error.high or s.error.value or 0.0 for s in rows] + [report.overall.value or 0.0]
        top = max(tops)
        figure.update_xaxes(range=[0.0, min(1.0, top * 1.1) if top > 0 else 1.0])
    figure.update_yaxes(type="category", autorange="reversed")
    return figure


def estimates_figure(
    estimates: Sequence[tuple[str, Estimate]], *, baseline: Mapping[str, float | None]
) -> go.Figure:
    """Estimated accuracy, precision, recall and F1 of each version (markers with their
    95% bands), and the baseline (grey bars across)."""
    titles = [TITLES[m] for m in ESTIMATED_METRICS]
    figure = go.Figure()
    for i, (name, estimate) in enumerate(estimates):
        found = [estimate.metrics.get(m) for m in ESTIMATED_METRICS]
        plus, minus = _errors(found)
        figure.add_scatter(
            x=titles,
            y=[m.value if m else None for m in found],
            error_y={"type": "data", "array": plus, "arrayminus": minus, "thickness": 1.5},
            mode="markers",
            name=name,
            marker={"color": COLORS[i % len(COLORS)], "size": 10},
            hovertemplate="%{x}: %{y:.1%} (estimated)<extra>" + name + "</extra>",
        )
    base = [baseline.get(m) for m in ESTIMATED_METRICS]
    if any(v is not None for v in base):
        figure.add_scatter(
            x=titles,
            y=base,
            mode="markers",
            name="baseline",
            marker={"symbol": "line-ew-open", "size": 30, "color": "#555", "line": {"width": 2}},
            hovertemplate="%{x}: %{y:.1%} (baseline)<extra></extra>",
        )
    figure.update_layout(
        height=320, margin=_MARGIN, scattermode="group", legend={"orientation": "h", "y": 1.12}
    )
    figure.update_yaxes(title_text="estimated", tickformat=".0%", range=[0, 1])
    return figure
