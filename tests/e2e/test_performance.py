"""The Performance page in a real browser: tiles, charts, no exception."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import wait_for_app_idle

pytestmark = pytest.mark.e2e


def test_performance_renders(app_server: str, page: Page, artifacts_dir: Path) -> None:
    """Deep link to the page's url_path. The app is opened once first: on a fresh server
    the very first session cannot be a deep link (a pages/ folder sits next to app.py;
    see tests/e2e/test_system_health.py)."""
    page.goto(app_server, wait_until="domcontentloaded")
    wait_for_app_idle(page)
    page.goto(app_server + "/performance", wait_until="domcontentloaded")
    wait_for_app_idle(page)
    try:
        expect(page.get_by_role("heading", name="Performance")).to_be_visible(timeout=60_000)
        wait_for_app_idle(page)
        # the default window (last 24 hours) has no labels yet: estimates first, then why
        for label in ("Estimated accuracy", "Estimated F1", "Labeled", "Label coverage"):
            expect(
                page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
            ).to_be_visible()
        expect(page.get_by_text("No labels yet for this window", exact=False)).to_be_visible()
        expect(page.locator(".js-plotly-plot").first).to_be_visible()
        expect(page.get_by_test_id("stException")).to_have_count(0)
    finally:
        page.screenshot(path=artifacts_dir / "performance.png", full_page=True)

    window = page.get_by_test_id("stSidebar").get_by_role("combobox", name="Time window")
    window.click()
    page.get_by_role("option", name="All data", exact=True).click()
    expect(window).to_have_value("All data")
    wait_for_app_idle(page)
    accuracy = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text("Accuracy", exact=True)
    )
    expect(accuracy.get_by_test_id("stMetricValue")).to_have_text(
        re.compile(r"^\d+\.\d%$"), timeout=60_000
    )
    expect(page.locator(".js-plotly-plot")).to_have_count(5, timeout=60_000)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.screenshot(path=artifacts_dir / "performance-all-data.png", full_page=True)
