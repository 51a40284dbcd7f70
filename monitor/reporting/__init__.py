"""The shareable report (`monitor report`, the Overview's "Download report"): one
self-contained HTML file with the executive summary, performance, drift, data quality,
fairness, system health and the alerts of a window.

A layer of its own between the UI and the CLI (which both use it) and `monitor.reports`:
it draws with the Plotly figure builders of `monitor.ui.charts`, which are Streamlit-free
(the one import up that pyproject.toml's layer contract allows)."""
