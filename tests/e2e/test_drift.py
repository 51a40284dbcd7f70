"""The Drift page in a real browser: verdict tiles, charts, downloads, no exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import wait_for_app_idle

pytestmark = pytest.mark.e2e


def test_drift_page_renders(app_server: str, page: Page, artifacts_dir: Path) -> None:
    """Opened from the app's sidebar (a deep link as the very first session of a fresh
    server shows Streamlit's "Page not found" notice once; see test_system_health)."""
    page.goto(app_server, wait_until="domcontentloaded")
    wait_for_app_idle(page)
    page.get_by_test_id("stSidebarNav").get_by_text("Drift", exact=True).click()
    expect(page.get_by_role("heading", name="Drift", exact=True)).to_be_visible(timeout=60_000)
    expect(page).to_have_url(app_server + "/drift")
    wait_for_app_idle(page)
    try:
        # No "Dataset drift" tile (issue 12): the drift findings on top are the verdict.
        expect(page.get_by_text("What the drift rules find for credit-risk")).to_be_visible()
        for label in ("Share drifted", "Drifted features", "Prediction drift", "Label drift"):
            expect(
                page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
            ).to_be_visible()
        expect(page.get_by_text("Domain classifier AUC")).to_be_visible()
        expect(page.locator(".js-plotly-plot")).to_have_count(4)
        expect(page.get_by_test_id("stDownloadButton")).to_have_count(2)
        expect(page.get_by_test_id("stException")).to_have_count(0)
    finally:
        page.screenshot(path=artifacts_dir / "drift.png", full_page=True)
    page.goto(app_server + "/drift", wait_until="domcontentloaded")
    wait_for_app_idle(page)
    expect(page.get_by_role("heading", name="Drift", exact=True)).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
