"""The chart of label-free estimates per chunk of a file (Performance page, uploaded data)."""

from __future__ import annotations

from typing import Final

import plotly.graph_objects as go

from monitor.queries.estimate_types import FileEstimate
from monitor.reports.estimate_export import bound_text
from monitor.ui.charts.performance import COLORS, TITLES

_MARGIN: Final = {"l": 10, "r": 10, "t": 30, "b": 10}


def chunk_estimates_figure(result: FileEstimate, metric: str) -> go.Figure:
    """The metric's estimate per chunk (line) inside its band (shaded), and the realized
    value where the chunk has labels (markers)."""
    chunks = [c for c in result.chunks if metric in c.metrics]
    x = [f"{c.index}: {bound_text(c.start)}" for c in chunks]
    found = [c.metrics[metric] for c in chunks]
    band = f"{result.confidence:.0%} band"
    figure = go.Figure()
    figure.add_scatter(
        x=x,
        y=[m.upper for m in found],
        mode="lines",
        line={"width": 0},
        showlegend=False,
        hoverinfo="skip",
    )
    figure.add_scatter(
        x=x,
        y=[m.lower for m in found],
        mode="lines",
        line={"width": 0},
        fill="tonexty",
        fillcolor="rgba(31, 119, 180, 0.18)",
        name=band,
        hoverinfo="skip",
    )
    figure.add_scatter(
        x=x,
        y=[m.value for m in found],
        mode="lines+markers",
        name="estimated",
        line={"color": COLORS[0], "dash": "dash"},
        hovertemplate="estimated %{y:.4f}<extra>chunk %{x}</extra>",
    )
    if any(m.realized is not None for m in found):
        figure.add_scatter(
            x=x,
            y=[m.realized for m in found],
            mode="markers",
            name="realized (labels)",
            marker={"color": COLORS[1], "size": 9, "symbol": "diamond"},
            hovertemplate="realized %{y:.4f}<extra>chunk %{x}</extra>",
        )
    figure.update_layout(height=380, margin=_MARGIN, legend={"orientation": "h", "y": 1.1})
    figure.update_xaxes(title_text="chunk", type="category")
    figure.update_yaxes(title_text=TITLES.get(metric, metric))
    return figure
