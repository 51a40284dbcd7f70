"""AppTest fixtures shared by every test in tests/ui (applied automatically)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


@pytest.fixture(autouse=True)
def _navigation_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run app.py as the st.navigation app it is, on every AppTest run.

    Because a `pages/` folder sits next to app.py, AppTest (Streamlit 1.67) resets
    `PagesManager.uses_pages_directory` to True before every run and so takes the legacy
    multipage path: a rerun on the Overview page then executes pages/overview.py alone,
    without app.py (no sidebar, stale filters). `streamlit run` sets the flag to False
    for good at the first `st.navigation` call; do the same here.
    """
    original = PagesManager.__init__

    def init(self: PagesManager, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)
    monkeypatch.setattr(PagesManager, "uses_pages_directory", None)  # restored afterwards


@pytest.fixture(autouse=True)
def _fresh_streamlit_caches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """AppTest runs in this process: settings and stores cached by one test leak into the next."""
    monkeypatch.delenv("MONITOR_DATA_DIR", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()
