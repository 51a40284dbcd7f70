"""Plotly figures for the System health page."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from monitor.metrics.health.gaps import TrafficGap
from monitor.metrics.health.resources import HostBucket
from monitor.metrics.health.service import TrafficBucket

_LAYOUT = {
    "height": 300,
    "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
    "legend": {"orientation": "h", "y": 1.12},
}
_GAP_COLOR = "rgba(214, 39, 40, 0.15)"
MIN_RATE_PREDICTIONS = 10
"""An error rate over fewer predictions is noise (one error in two requests is 50%)."""


def latency_figure(buckets: Sequence[TrafficBucket], threshold_ms: float | None) -> go.Figure:
    """p50 / p95 / p99 per bucket, with the threshold of the p95 alert rule."""
    figure = go.Figure()
    starts = [b.start for b in buckets]
    for name, values in (
        ("p50", [b.latency.p50 for b in buckets]),
        ("p95", [b.latency.p95 for b in buckets]),
        ("p99", [b.latency.p99 for b in buckets]),
    ):
        figure.add_scatter(x=starts, y=values, name=name, mode="lines")
    if threshold_ms is not None:
        figure.add_hline(
            y=threshold_ms,
            line_dash="dash",
            line_color="#d62728",
            annotation_text=f"p95 threshold {threshold_ms:,.0f} ms",
        )
    figure.update_layout(**_LAYOUT)
    figure.update_yaxes(title_text="latency (ms)", rangemode="tozero", tickformat=",.0f")
    return figure


def throughput_figure(buckets: Sequence[TrafficBucket], gaps: Sequence[TrafficGap]) -> go.Figure:
    """Predictions per minute (bars) and error rate (line, right axis); gaps shaded."""
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    starts = [b.start for b in buckets]
    figure.add_bar(x=starts, y=[b.per_minute for b in buckets], name="predictions / min")
    figure.add_scatter(
        x=starts,
        y=[b.error_rate if b.predictions >= MIN_RATE_PREDICTIONS else None for b in buckets],
        name=f"error rate (buckets of {MIN_RATE_PREDICTIONS}+ predictions)",
        mode="lines",
        line={"color": "#d62728"},
        secondary_y=True,
    )
    for gap in gaps:
        figure.add_vrect(x0=gap.start, x1=gap.end, fillcolor=_GAP_COLOR, line_width=0)
    figure.update_layout(**_LAYOUT)
    figure.update_yaxes(title_text="predictions / min", secondary_y=False, tickformat=",.1f")
    figure.update_yaxes(
        title_text="error rate", secondary_y=True, tickformat=".1%", rangemode="tozero"
    )
    return figure


def resource_figure(series: Sequence[HostBucket], metric: str, title: str) -> go.Figure:
    """One line per host for `metric` (an attribute of HostBucket, e.g. 'cpu_mean')."""
    figure = go.Figure()
    for host in sorted({s.host for s in series}):
        points = [s for s in series if s.host == host]
        figure.add_scatter(
            x=[p.start for p in points],
            y=[getattr(p, metric) for p in points],
            name=host,
            mode="lines",
        )
    figure.update_layout(**(_LAYOUT | {"height": 240}))
    figure.update_yaxes(title_text=title, rangemode="tozero")
    return figure
