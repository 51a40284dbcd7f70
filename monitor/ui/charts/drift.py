"""Plotly figures for the Drift page, from typed drift results (light payloads)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import plotly.graph_objects as go

from monitor.metrics.drift.distribution import Distribution
from monitor.metrics.drift.multivariate import MultivariateDrift
from monitor.metrics.drift.pvalue import format_p_value
from monitor.metrics.drift.report import DriftReport, FeatureDrift
from monitor.metrics.drift.timeline import DriftTimeline

DRIFTED = "#d62728"
STABLE = "#1f77b4"
REFERENCE = "#7f7f7f"
MARGIN = {"l": 10, "r": 10, "t": 30, "b": 10}


def _scored(report: DriftReport) -> list[FeatureDrift]:
    found = [f for f in report.features if f.effect_size is not None]
    return sorted(found, key=lambda f: f.effect_size or 0.0, reverse=True)


def score_bars(report: DriftReport) -> go.Figure:
    """Effect size per feature (sorted), its threshold, coloured by the verdict."""
    features = _scored(report)
    names = [f.feature for f in features]
    figure = go.Figure()
    figure.add_bar(
        x=names,
        y=[f.effect_size for f in features],
        marker_color=[DRIFTED if f.drifted else STABLE for f in features],
        customdata=[[f.effect_method, _p(f.p_value_adjusted), f.test, f.status] for f in features],
        hovertemplate="%{x}<br>%{customdata[0]} %{y:.4g}<br>%{customdata[2]} adjusted p "
        "%{customdata[1]}<br>%{customdata[3]}<extra></extra>",
        name="effect size",
    )
    thresholds = [f.effect_threshold for f in features]
    if thresholds and len(set(thresholds)) == 1 and thresholds[0] is not None:
        figure.add_hline(
            y=thresholds[0],
            line_dash="dash",
            line_color="#444",
            annotation_text=f"threshold {thresholds[0]:g}",
        )
    else:
        figure.add_scatter(
            x=names,
            y=thresholds,
            mode="markers",
            marker={"symbol": "line-ew-open", "size": 24, "color": "#444"},
            name="threshold",
        )
    figure.update_layout(height=340, margin=MARGIN, showlegend=False, yaxis_title="drift score")
    return figure


def distribution_figure(found: Distribution) -> go.Figure:
    """Reference vs current shares: overlaid histograms or grouped category bars."""
    figure = go.Figure()
    if found.edges:
        centers = [(a + b) / 2 for a, b in zip(found.edges[:-1], found.edges[1:], strict=True)]
        width = found.edges[1] - found.edges[0]
        for name, shares, color in (
            ("reference", found.reference, REFERENCE),
            ("current", found.current, STABLE),
        ):
            figure.add_bar(
                x=centers, y=shares, width=width, name=name, marker_color=color, opacity=0.6
            )
        figure.update_layout(barmode="overlay", xaxis_title=found.feature)
    else:
        for name, shares, color in (
            ("reference", found.reference, REFERENCE),
            ("current", found.current, STABLE),
        ):
            figure.add_bar(x=list(found.labels), y=shares, name=name, marker_color=color)
        figure.update_layout(barmode="group", xaxis_title=found.feature)
    figure.update_layout(
        height=320,
        margin=MARGIN,
        yaxis_title="share",
        yaxis_tickformat=".0%",
        legend={"orientation": "h", "y": 1.1},
    )
    return figure


HeatValue = Literal["score", "p-value"]
HEAT_VALUES: dict[str, str] = {"score": "drift score", "p-value": "-log10 adjusted p-value"}


def heat_value(value: str | None) -> HeatValue:
    return "p-value" if value == "p-value" else "score"


def heatmap(timeline: DriftTimeline, value: HeatValue) -> go.Figure:
    """Feature x time: the effect size (or -log10 adjusted p-value) of each bucket."""
    features = list(timeline.features)
    z: list[list[float | None]] = []
    text: list[list[str]] = []
    for feature in features:
        row: list[float | None] = []
        notes: list[str] = []
        for index in range(len(timeline.starts)):
            cell = timeline.cell(index, feature)
            row.append(_heat(cell, value))
            notes.append(_note(cell))
        z.append(row)
        text.append(notes)
    figure = go.Figure(
        go.Heatmap(
            x=list(timeline.starts),
            y=features,
            z=z,
            text=text,
            colorscale="Reds",
            hovertemplate="%{y}<br>%{x}<br>%{z:.3g}<br>%{text}<extra></extra>",
            colorbar={"title": "score" if value == "score" else "-log10 p"},
        )
    )
    figure.update_layout(height=120 + 28 * len(features), margin=MARGIN)
    return figure


def _heat(cell: FeatureDrift | None, value: HeatValue) -> float | None:
    if cell is None:
        return None
    if value == "score":
        return cell.effect_size
    if cell.p_value_adjusted is None:
        return None
    return -math.log10(max(cell.p_value_adjusted, 1e-300))


def _note(cell: FeatureDrift | None) -> str:
    """The cell's status (its one verdict) and adjusted p-value."""
    if cell is None:
        return "no data"
    if cell.p_value_adjusted is None:
        return cell.status
    return f"{cell.status}, adjusted p {_p(cell.p_value_adjusted)}"


def _p(p: float | None) -> str:
    return "n/a" if p is None else format_p_value(p)


def importance_bars(result: MultivariateDrift, top: int = 15) -> go.Figure:
    chosen = list(result.importances[:top])
    figure = go.Figure(
        go.Bar(
            x=[v for _, v in chosen][::-1],
            y=[n for n, _ in chosen][::-1],
            orientation="h",
            marker_color=STABLE,
        )
    )
    figure.update_layout(
        height=80 + 24 * len(chosen), margin=MARGIN, xaxis_title="drop in AUC when shuffled"
    )
    return figure


def names(report: DriftReport) -> Sequence[str]:
    return [f.feature for f in report.features]
