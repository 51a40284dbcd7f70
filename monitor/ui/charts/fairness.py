"""Plotly figures for the Fairness page (typed results in, a few hundred points out)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from monitor.metrics.fairness.audit import FairnessReport
from monitor.metrics.fairness.bootstrap import Interval
from monitor.metrics.fairness.groups import group_label
from monitor.metrics.fairness.rates import TITLES
from monitor.metrics.fairness.selection import SelectionReport
from monitor.metrics.fairness.trend import FairnessTrend

_OK, _FAIL, _SMALL, _REFERENCE = "#1f77b4", "#d62728", "#b0b0b0", "#2ca02c"
_BAND = "rgba(44, 160, 44, 0.12)"
_HOVER = "%{x}<br>ratio %{y:.2f}<br>n=%{customdata[0]}<extra>%{fullData.name}</extra>"
_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
_PALETTE = (
    *("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"),
    *("#17becf", "#bcbd22", "#7f7f7f", "#aec7e8", "#ffbb78"),
)
_LAYOUT = {
    "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
    "legend": {"orientation": "h", "y": 1.12},
}


def groups_figure(report: FairnessReport, metric: str) -> go.Figure:
    """The metric per group with bootstrap error bars, the reference value and the band
    [tau x reference, reference / tau] the screen accepts. Grey: too small to judge;
    red: outside the band."""
    groups = report.groups
    return _group_bars(
        labels=[g.label for g in groups],
        values=[g.metrics.get(metric) for g in groups],
        intervals=[g.ci.get(metric) for g in groups],
        colors=[_color(g.small, g.key == report.reference_group, g.fails_screen) for g in groups],
        customdata=[[g.count, g.small_reason or ""] for g in groups],
        reference=report.reference_values().get(metric),
        tau=report.tau,
        title=TITLES[metric],
        errors=report.bootstrap > 0,
    )


def selection_figure(report: SelectionReport) -> go.Figure:
    """`groups_figure` of a label-free report: the selection rate per group."""
    groups = report.groups
    return _group_bars(
        labels=[g.label for g in groups],
        values=[g.selection_rate for g in groups],
        intervals=[g.ci for g in groups],
        colors=[_color(g.small, g.key == report.reference_group, g.fails_screen) for g in groups],
        customdata=[[g.count, g.small_reason or ""] for g in groups],
        reference=report.reference_value(),
        tau=report.tau,
        title=TITLES[report.metric],
        errors=report.bootstrap > 0,
    )


def _color(small: bool, reference: bool, fails: bool) -> str:
    return _SMALL if small else _REFERENCE if reference else _FAIL if fails else _OK


def _group_bars(
    *,
    labels: list[str],
    values: list[float | None],
    intervals: list[Interval | None],
    colors: list[str],
    customdata: list[list[Any]],
    reference: float | None,
    tau: float,
    title: str,
    errors: bool,
) -> go.Figure:
    figure = go.Figure()
    figure.add_bar(
        x=labels,
        y=values,
        marker_color=colors,
        customdata=customdata,
        hovertemplate="%{x}<br>%{y:.3f}<br>n=%{customdata[0]} %{customdata[1]}<extra></extra>",
        error_y={
            "type": "data",
            "array": [_plus(v, i) for v, i in zip(values, intervals, strict=True)],
            "arrayminus": [_minus(v, i) for v, i in zip(values, intervals, strict=True)],
            "visible": errors,
        },
        name=title,
    )
    if reference is not None:
        figure.add_hrect(
            y0=reference * tau,
            y1=reference / tau,
            fillcolor=_BAND,
            line_width=0,
            layer="below",
        )
        figure.add_hline(
            y=reference,
            line_dash="dash",
            line_color=_REFERENCE,
            annotation_text=f"reference {reference:.3f} (band: tau {tau:g})",
        )
    figure.update_layout(height=360, showlegend=False, **_LAYOUT)
    figure.update_yaxes(title_text=title, rangemode="tozero")
    return figure


def _minus(value: float | None, interval: tuple[float, float] | None) -> float | None:
    return None if value is None or interval is None else max(value - interval[0], 0.0)


def _plus(value: float | None, interval: tuple[float, float] | None) -> float | None:
    return None if value is None or interval is None else max(interval[1] - value, 0.0)


def trend_figure(trend: FairnessTrend) -> go.Figure:
    """Disparity to the reference per group over time: one colour per group, one dash
    per version; hollow markers where the group is too small in that bucket."""
    figure = go.Figure()
    versions = sorted({p.version or "" for p in trend.points})
    keys = sorted({p.key for p in trend.points})
    for v_index, version in enumerate(versions):
        for k_index, key in enumerate(keys):
            points = [p for p in trend.points if p.key == key and (p.version or "") == version]
            if not points or key == trend.reference_group:
                continue
            figure.add_scatter(
                x=[p.bucket for p in points],
                y=[p.disparity for p in points],
                mode="lines+markers",
                name=f"{group_label(key)} · {version or '(unversioned)'}",
                legendgroup=group_label(key),
                line={
                    "dash": _DASHES[v_index % len(_DASHES)],
                    "color": _PALETTE[k_index % len(_PALETTE)],
                },
                marker={"symbol": ["circle-open" if p.small else "circle" for p in points]},
                customdata=[[p.count, p.value] for p in points],
                hovertemplate=_HOVER,
            )
    _band(figure, trend.tau)
    figure.update_layout(height=340, **_LAYOUT)
    figure.update_yaxes(title_text=f"{TITLES[trend.metric]}: ratio to reference")
    return figure


def versions_figure(trend: FairnessTrend) -> go.Figure:
    """Disparity per group within each model version (whole window): which release has
    the gap. `trend` must hold one slice per version (no time buckets)."""
    figure = go.Figure()
    keys = sorted({p.key for p in trend.points})
    for k_index, key in enumerate(keys):
        points = [p for p in trend.points if p.key == key]
        figure.add_bar(
            marker_color=_PALETTE[k_index % len(_PALETTE)],
            x=[p.version or "(unversioned)" for p in points],
            y=[p.disparity for p in points],
            name=group_label(key),
            marker_pattern_shape=["/" if p.small else "" for p in points],
            customdata=[[p.count] for p in points],
            hovertemplate=_HOVER,
        )
    _band(figure, trend.tau)
    figure.update_layout(height=320, barmode="group", **_LAYOUT)
    figure.update_yaxes(title_text=f"{TITLES[trend.metric]}: ratio to reference")
    return figure


def _band(figure: go.Figure, tau: float) -> None:
    figure.add_hrect(y0=tau, y1=1.0 / tau, fillcolor=_BAND, line_width=0, layer="below")
    figure.add_hline(y=1.0, line_dash="dash", line_color=_REFERENCE)
