"""Plotly figures for the Data quality page, from typed quality results."""

from __future__ import annotations

from typing import Literal

import plotly.graph_objects as go

from monitor.metrics.quality import Correlations, QualityOverTime

MARGIN = {"l": 10, "r": 10, "t": 30, "b": 10}


OverTime = Literal["missing", "out_of_range", "new_categories"]
OVER_TIME: dict[str, str] = {
    "missing": "missing share",
    "out_of_range": "out-of-range share",
    "new_categories": "new-category share",
}


def over_time_kind(value: str | None) -> OverTime:
    if value == "out_of_range":
        return "out_of_range"
    return "new_categories" if value == "new_categories" else "missing"


def over_time_figure(
    found: QualityOverTime, metric: OverTime = "missing", threshold: float | None = None
) -> go.Figure:
    """A share per feature over time (one line per feature where it is ever above 0)."""
    figure = go.Figure()
    for name, shares in zip(found.features, getattr(found, metric), strict=True):
        if not any(s for s in shares):
            continue
        figure.add_scatter(x=list(found.starts), y=list(shares), mode="lines+markers", name=name)
    if threshold is not None:
        figure.add_hline(
            y=threshold, line_dash="dash", line_color="#444", annotation_text="threshold"
        )
    figure.update_layout(
        height=320,
        margin=MARGIN,
        yaxis_title=OVER_TIME[metric],
        yaxis_tickformat=".0%",
        yaxis_rangemode="tozero",
        legend={"orientation": "h", "y": 1.12},
    )
    return figure


def correlation_figure(found: Correlations, side: str) -> go.Figure:
    matrix = found.reference if side == "reference" else found.current
    figure = go.Figure(
        go.Heatmap(
            x=list(found.features),
            y=list(found.features),
            z=[list(row) for row in matrix],
            zmin=-1,
            zmax=1,
            colorscale="RdBu",
            reversescale=True,
            hovertemplate="%{y} / %{x}: %{z:.3f}<extra></extra>",
        )
    )
    figure.update_layout(
        height=120 + 30 * len(found.features),
        margin=MARGIN,
        title={"text": f"{side}", "x": 0.5},
        yaxis_autorange="reversed",
    )
    return figure
