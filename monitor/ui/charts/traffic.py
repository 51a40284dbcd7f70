"""Plotly figure builders that take typed results (never raw rows)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from monitor.metrics.health.service import TrafficBucket


def traffic_figure(buckets: Sequence[TrafficBucket]) -> go.Figure:
    """Predictions and errors per bucket (bars) with p95 latency (line, right axis)."""
    starts = [b.start for b in buckets]
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_bar(x=starts, y=[b.predictions - b.errors for b in buckets], name="ok")
    figure.add_bar(x=starts, y=[b.errors for b in buckets], name="errors", marker_color="#d62728")
    figure.add_scatter(
        x=starts,
        y=[b.latency.p95 for b in buckets],
        name="p95 latency (ms)",
        mode="lines",
        line={"color": "#444"},
        secondary_y=True,
    )
    figure.update_layout(
        barmode="stack",
        height=320,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "y": 1.1},
    )
    figure.update_yaxes(title_text="predictions", secondary_y=False)
    figure.update_yaxes(
        title_text="p95 ms", secondary_y=True, rangemode="tozero", tickformat=",.0f"
    )
    return figure
