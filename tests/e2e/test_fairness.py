"""The Fairness page in a real browser: opens at /fairness without errors on selection
rates (the default window has no labels yet), and with all the demo's labeled data shows
the summary tiles, the charts and the group table."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import APP_TIMEOUT_MS, wait_for_app_idle

pytestmark = pytest.mark.e2e

TILES = (
    "DP difference",
    "DP ratio",
    "EO difference",
    "EO ratio",
    "Equal opportunity diff.",
    "Four-fifths screen",
)


def test_fairness_page_renders_groups_and_verdicts(
    app_server: str, page: Page, artifacts_dir: Path
) -> None:
    """Opened by its URL. The app root is loaded once first: until some session has run
    app.py (st.navigation), a fresh server routes /fairness through Streamlit's legacy
    pages/ folder handling and runs the page without app.py."""
    page.goto(app_server, wait_until="domcontentloaded")
    wait_for_app_idle(page)
    page.goto(app_server + "/fairness", wait_until="domcontentloaded")
    expect(page.get_by_role("heading", name="Fairness")).to_be_visible(timeout=APP_TIMEOUT_MS)
    wait_for_app_idle(page)
    try:
        expect(page.get_by_test_id("stException")).to_have_count(0)
        # the default window (last 24 hours) has no labels yet: selection rates need none
        expect(page.get_by_text("No labels yet for this window", exact=False)).to_be_visible(
            timeout=APP_TIMEOUT_MS
        )
        for label in ("Selection rate", "DP difference", "DP ratio", "Four-fifths screen"):
            expect(
                page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
            ).to_be_visible()

        window = page.get_by_test_id("stSidebar").get_by_role("combobox", name="Time window")
        window.click()
        page.get_by_role("option", name="All data", exact=True).click()
        expect(window).to_have_value("All data")
        metrics = page.get_by_test_id("stMetric")
        expect(metrics).to_have_count(len(TILES), timeout=APP_TIMEOUT_MS)  # busy CI: slow
        wait_for_app_idle(page)
        for label in TILES:
            tile = metrics.filter(
                has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
            )
            expect(tile).to_be_visible()
        verdict = metrics.filter(has=page.get_by_text("Four-fifths screen", exact=True))
        expect(verdict.get_by_test_id("stMetricValue")).to_have_text("passed")
        expect(page.get_by_test_id("stPlotlyChart")).to_have_count(3)
        expect(page.get_by_test_id("stDataFrame")).to_have_count(1)
        expect(page.get_by_test_id("stException")).to_have_count(0)
    finally:
        page.screenshot(path=artifacts_dir / "fairness.png", full_page=True)
