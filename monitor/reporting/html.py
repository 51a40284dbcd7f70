"""A `Report` as one self-contained HTML document: opens with no network access (Plotly's
JavaScript inlined once, a Content-Security-Policy that allows no request at all) and
prints one section per page.

Nothing from the data becomes markup or script: every text (model, versions, features,
groups, error messages) passes `html.escape`, and the figures and the summary are JSON
in `<script type="application/json">` with `<`, `>` and `&` written as `\\u` escapes, so
no value can close the tag. The only code is Plotly's and `LOADER`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator
from html import escape
from typing import Final

from plotly.offline import get_plotlyjs

from monitor.reporting.model import Chart, Report, Section, Table, version_label
from monitor.reports.jsonable import jsonable

PRINT_WIDTH_PX: Final = 680
"""Chart width while printing: an A4 or Letter page inside the print margins."""
POLICY: Final = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; font-src data:"
)
STYLE: Final = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1d1d1f; margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 1.7em; margin: 0 0 .4em; } h2 { font-size: 1.3em; margin: 0 0 .5em; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; }
dl.meta dt { font-weight: 600; } dl.meta dd { margin: 0; }
.status-critical { color: #b42318; font-weight: 600; }
.status-warning { color: #b54708; font-weight: 600; } .status-ok { color: #067647; }
.status-unknown { color: #555; font-weight: 600; }
nav.toc ol { columns: 2; } nav.toc a { color: inherit; }
section { border-top: 1px solid #ddd; padding-top: 16px; margin-top: 24px; }
p.lead { font-weight: 600; } p.note { color: #555; }
figure.chart { margin: 12px 0; } figcaption { font-weight: 600; color: #444; }
table { border-collapse: collapse; margin: 12px 0; width: 100%; font-size: .9em; }
caption { text-align: left; font-weight: 600; color: #444; padding-bottom: 4px; }
th, td { border-bottom: 1px solid #e5e5e5; padding: 3px 8px; text-align: left;
  vertical-align: top; overflow-wrap: break-word; }
th { background: #f6f6f6; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  section { break-before: page; border-top: none; margin-top: 0; }
  figure.chart, tr { break-inside: avoid; }
  thead { display: table-header-group; }
  h2, caption, figcaption { break-after: avoid; }
}
"""
LOADER: Final = (
    """
(function () {
  var plots = Array.prototype.slice.call(document.querySelectorAll("[data-figure]"));
  var config = { displayModeBar: false, responsive: true };
  plots.forEach(function (div) {
    var figure = JSON.parse(document.getElementById(div.dataset.figure).textContent);
    var layout = figure.layout || {};
    layout.autosize = true;
    Plotly.newPlot(div, figure.data || [], layout, config);
  });
  var printing = false;
  function fit(print) {
    if (print === printing) { return; }
    printing = print;
    plots.forEach(function (div) {
      Plotly.relayout(div, print ? { width: PRINT_WIDTH } : { width: null, autosize: true });
    });
  }
  window.addEventListener("beforeprint", function () { fit(true); });
  window.addEventListener("afterprint", function () { fit(false); });
  window.matchMedia("print").addEventListener("change", function (e) { fit(e.matches); });
})();
"""
).replace("PRINT_WIDTH", str(PRINT_WIDTH_PX))


def script_json(text: str) -> str:
    """JSON text made safe inside a `<script>` element: `<`, `>` and `&` occur only in
    JSON strings, where their `\\u` escapes mean the same characters."""
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def render(report: Report) -> str:
    """The whole document."""
    plotly = get_plotlyjs()
    if "</script" in plotly.lower():  # never true of a released plotly.js; checked anyway
        raise ValueError("plotly.js holds '</script' and cannot be inlined")
    counter = itertools.count()
    body = "\n".join(_section(s, counter) for s in report.sections)
    summary = script_json(json.dumps(jsonable(report.summary), allow_nan=False))
    title = f"{report.model_id}: model report, {_window(report)}"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"{_header(report)}\n<main>\n{body}\n</main>\n"
        '<footer><p class="note">Written by <code>monitor report</code>. The executive '
        "summary's data (<code>monitor summary --json</code>) is embedded in this file.</p>"
        "</footer>\n"
        f'<script type="application/json" id="summary-data">{summary}</script>\n'
        f"<script>{plotly}</script>\n<script>{LOADER}</script>\n</body>\n</html>\n"
    )


def _time(moment: dt.datetime) -> str:
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def _window(report: Report) -> str:
    return f"{_time(report.window.start)} to {_time(report.window.end)}"


def _header(report: Report) -> str:
    versions = ", ".join(map(version_label, report.versions)) or "all versions"
    meta = (
        ("Model", escape(report.model_id)),
        ("Versions", escape(versions)),
        ("Window", _window(report)),
        ("Generated", _time(report.generated_at)),
        ("Verdict", f'<span class="status-{escape(report.status)}">{escape(report.status)}</span>'),
    )
    items = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in meta)
    toc = "".join(
        f'<li><a href="#{escape(s.key)}">{escape(s.title)}</a></li>' for s in report.sections
    )
    return (
        f"<header>\n<h1>Model report: {escape(report.model_id)}</h1>\n"
        f'<dl class="meta">{items}</dl>\n'
        f'<nav class="toc"><h2>Contents</h2><ol>{toc}</ol></nav>\n</header>'
    )


def _section(section: Section, counter: Iterator[int]) -> str:
    parts = [
        f'<section id="{escape(section.key)}">',
        f"<h2>{escape(section.title)}</h2>",
        f'<p class="lead">{escape(section.lead)}</p>',
        *(f'<p class="note">{escape(note)}</p>' for note in section.notes),
        *(_chart(chart, f"figure-{next(counter)}") for chart in section.charts),
        *(_table(table) for table in section.tables),
        "</section>",
    ]
    return "\n".join(parts)


def _chart(chart: Chart, element_id: str) -> str:
    return (
        f'<figure class="chart"><figcaption>{escape(chart.title)}</figcaption>'
        f'<div class="plot" data-figure="{element_id}"></div>'
        f'<script type="application/json" id="{element_id}">'
        f"{script_json(chart.figure_json)}</script></figure>"
    )


def _table(table: Table) -> str:
    if not table.rows:
        return f'<p class="note">{escape(table.caption or "Table")}: none.</p>'
    caption = f"<caption>{escape(table.caption)}</caption>" if table.caption else ""
    head = "".join(f"<th>{escape(c)}</th>" for c in table.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(value)}</td>" for value in row) + "</tr>"
        for row in table.rows
    )
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
