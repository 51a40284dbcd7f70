"""The Data quality page in a real browser: tiles, charts, tables, no exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import wait_for_app_idle

pytestmark = pytest.mark.e2e


def test_data_quality_page_renders(app_server: str, page: Page, artifacts_dir: Path) -> None:
    """Opened from the app's sidebar, then by its URL (see test_drift)."""
    page.goto(app_server, wait_until="domcontentloaded")
    wait_for_app_idle(page)
    page.get_by_test_id("stSidebarNav").get_by_text("Data quality", exact=True).click()
    expect(page.get_by_role("heading", name="Data quality", exact=True)).to_be_visible(
        timeout=60_000
    )
    expect(page).to_have_url(app_server + "/data_quality")
    wait_for_app_idle(page)
    try:
        for label in ("Rows", "Invalid records", "Duplicate prediction ids", "Schema issues"):
            expect(
                page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
            ).to_be_visible()
        expect(page.get_by_text("What the data-quality rules find for credit-risk")).to_be_visible()
        expect(page.locator(".js-plotly-plot")).to_have_count(3)
        expect(page.get_by_text("Out-of-range values")).to_be_visible()
        expect(page.get_by_test_id("stException")).to_have_count(0)
    finally:
        page.screenshot(path=artifacts_dir / "data-quality.png", full_page=True)
    page.goto(app_server + "/data_quality", wait_until="domcontentloaded")
    wait_for_app_idle(page)
    expect(page.get_by_role("heading", name="Data quality", exact=True)).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
