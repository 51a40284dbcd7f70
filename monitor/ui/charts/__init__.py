"""Plotly figures built from metric results (no Streamlit, no queries)."""
