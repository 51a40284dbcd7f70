"""Routing only: page config, navigation and the global sidebar filters.

Page URLs are derived from the file names (/performance, /data_quality, ...): a link
opened as the very first session of a fresh server is then resolved correctly even in
Streamlit's legacy `pages/` folder mode (see monitor.ui.current).
"""

import streamlit as st

from monitor.exporter.server import serve_beside_app
from monitor.ui import context as ui

st.set_page_config(page_title="Model monitor", page_icon=":material/monitoring:", layout="wide")

navigation = st.navigation(
    {
        "Monitor": [
            st.Page("pages/overview.py", title="Overview", icon=":material/home:", default=True),
            st.Page("pages/performance.py", title="Performance", icon=":material/speed:"),
            st.Page("pages/data_quality.py", title="Data quality", icon=":material/rule:"),
            st.Page("pages/drift.py", title="Drift", icon=":material/moving:"),
            st.Page("pages/fairness.py", title="Fairness", icon=":material/balance:"),
            st.Page("pages/system_health.py", title="System health", icon=":material/dns:"),
        ],
        "Operate": [
            st.Page("pages/alerts.py", title="Alerts", icon=":material/notifications:"),
            st.Page("pages/models.py", title="Models", icon=":material/deployed_code:"),
            st.Page("pages/datasets.py", title="Datasets", icon=":material/upload_file:"),
        ],
    }
)
context = ui.load_context(navigation.url_path)
serve_beside_app(context.store, context.settings)  # [exporter] port: /metrics, once per process
navigation.run()
