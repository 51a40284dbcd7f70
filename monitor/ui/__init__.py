"""UI layer: the only Streamlit code in `monitor/`: page context and sidebar filters,
cached aggregates per page, page sections and Plotly charts."""
