"""Routing only: page config, navigation and the global sidebar filters."""

import streamlit as st

from monitor import ui

st.set_page_config(page_title="Model monitor", page_icon=":material/monitoring:", layout="wide")

navigation = st.navigation(
    {
        "Monitor": [
            st.Page(
                "pages/overview.py", title="Overview", icon=":material/dashboard:", default=True
            ),
            st.Page(
                "pages/system_health.py",
                title="System health",
                icon=":material/dns:",
                url_path="system-health",
            ),
        ],
    }
)
ui.load_context()
navigation.run()
