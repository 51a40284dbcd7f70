"""The report as plain values: sections of text, tables and Plotly figures (as JSON),
rendered to HTML by `monitor.reporting.html`. Every string here is plain text: the
renderer escapes it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go

from monitor.core.catalog import Window


@dataclass(frozen=True)
class Chart:
    title: str
    figure_json: str
    """`plotly.graph_objects.Figure.to_json()`: aggregates only, never raw rows."""

    @classmethod
    def of(cls, title: str, figure: go.Figure) -> Chart:
        return cls(title, figure.to_json())


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    """Cells as shown (see `cell`)."""
    caption: str = ""


@dataclass(frozen=True)
class Section:
    key: str
    """The HTML id (and table-of-contents anchor)."""
    title: str
    lead: str
    """What the section found, in one line."""
    notes: tuple[str, ...] = ()
    charts: tuple[Chart, ...] = ()
    tables: tuple[Table, ...] = ()


@dataclass(frozen=True)
class Report:
    model_id: str
    versions: tuple[str, ...]
    """The versions the sections cover (empty: all versions pooled)."""
    window: Window
    generated_at: dt.datetime
    status: str
    """The executive summary's verdict for the model: ok, warning or critical."""
    sections: tuple[Section, ...]
    summary: Mapping[str, Any] = field(default_factory=dict)
    """The `monitor summary --json` document of the model and window, embedded as is."""


def cell(value: Any, kind: str = "number") -> str:
    """A table cell: n/a for None; `kind` share (percent), ms, count or number."""
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M} UTC"
    if isinstance(value, str):
        return value
    if kind == "share":
        return f"{value:.1%}"
    if kind == "ms":
        return f"{value:,.0f} ms"
    if kind == "count" or isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.4g}"


def failed(key: str, title: str, reason: str) -> Section:
    """A section that could not be computed, and why (one missing input never hides the
    other sections)."""
    return Section(key, title, f"Not available: {reason}")


def plural(count: int, noun: str) -> str:
    """`1 gap`, `2 gaps`."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def version_label(version: str) -> str:
    """A logged version as shown ('' when predictions were logged without one)."""
    return version or "(unversioned)"
