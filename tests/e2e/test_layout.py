"""Every page at 1400 px: no KPI label or value cut off with an ellipsis."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import APP_TIMEOUT_MS, wait_for_app_idle

pytestmark = pytest.mark.e2e

PAGES = (
    ("", "Overview"),
    ("performance", "Performance"),
    ("data_quality", "Data quality"),
    ("drift", "Drift"),
    ("fairness", "Fairness"),
    ("system_health", "System health"),
    ("alerts", "Alerts"),
    ("models", "Models"),
    ("datasets", "Datasets"),
)
TRUNCATED = """() => Array.from(document.querySelectorAll(
    '[data-testid=stMetricLabel], [data-testid=stMetricLabel] *,'
    + ' [data-testid=stMetricValue], [data-testid=stMetricValue] *'))
  .filter(e => e.scrollWidth > e.clientWidth + 1)
  .map(e => e.innerText)"""


def test_no_kpi_is_truncated_at_1400_px(
    app_server: str, browser: Browser, artifacts_dir: Path
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(APP_TIMEOUT_MS)
    page = context.new_page()
    cut: dict[str, list[str]] = {}
    metrics = 0
    try:
        for path, title in PAGES:
            page.goto(f"{app_server}/{path}", wait_until="domcontentloaded")
            expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
            wait_for_app_idle(page)
            expect(page.get_by_test_id("stException")).to_have_count(0)
            metrics += page.get_by_test_id("stMetric").count()
            cut[title] = page.evaluate(TRUNCATED)
            page.screenshot(path=artifacts_dir / f"layout-{path or 'overview'}.png", full_page=True)
    finally:
        context.close()
    assert metrics > 20, "the pages should show their KPIs"
    assert {title: texts for title, texts in cut.items() if texts} == {}
