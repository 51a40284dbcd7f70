"""The System health page in a real browser: tiles, charts, no exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import wait_for_app_idle

pytestmark = pytest.mark.e2e


def test_system_health_renders(app_server: str, page: Page, artifacts_dir: Path) -> None:
    """Opened the way a user does: the app first, then the page's link in the sidebar."""
    page.goto(app_server, wait_until="domcontentloaded")
    wait_for_app_idle(page)
    page.get_by_test_id("stSidebarNav").get_by_text("System health").click()
    expect(page.get_by_role("heading", name="System health")).to_be_visible(timeout=60_000)
    expect(page).to_have_url(app_server + "/system_health")
    wait_for_app_idle(page)
    try:
        for label in ("Predictions / min", "Error rate", "Latency p95", "Traffic gaps"):
            expect(
                page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
            ).to_be_visible()
        expect(page.get_by_text("Most frequent errors")).to_be_visible()
        expect(page.locator(".js-plotly-plot").first).to_be_visible()
        expect(page.get_by_test_id("stException")).to_have_count(0)
    finally:
        page.screenshot(path=artifacts_dir / "system-health.png", full_page=True)
