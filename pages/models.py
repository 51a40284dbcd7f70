"""Models: under construction in this change (replaced before it lands)."""

import streamlit as st

from monitor import ui

context = ui.current()
st.title("Models")
