"""Smoke test: the Overview renders in a real browser with numbers and without errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import wait_for_app_idle

pytestmark = pytest.mark.e2e

METRIC_LABELS = (
    "Predictions",
    "Error rate",
    "Latency p50",
    "Latency p95",
    "Latency p99",
    "Invalid records",
)


def test_overview_renders_metrics_without_errors(
    app_server: str, page: Page, artifacts_dir: Path
) -> None:
    page.goto(app_server, wait_until="domcontentloaded")
    metrics = page.get_by_test_id("stMetric")
    invalid_tile = page.get_by_test_id("stMetricLabel").get_by_text("Invalid records", exact=True)
    expect(invalid_tile).to_be_visible(timeout=60_000)
    wait_for_app_idle(page)

    try:
        expect(page.get_by_role("heading", name="Overview")).to_be_visible()
        values: dict[str, str] = {}
        for label in METRIC_LABELS:
            metric = metrics.filter(
                has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
            )
            expect(metric).to_have_count(1)
            expect(metric).to_be_visible()
            values[label] = metric.get_by_test_id("stMetricValue").inner_text().strip()
        expect(page.get_by_test_id("stException")).to_have_count(0)
    finally:
        page.screenshot(path=artifacts_dir / "overview.png", full_page=True)

    predictions = values["Predictions"].replace(",", "")
    assert predictions.isdigit(), values
    assert int(predictions) > 0, values


def predictions_value(page: Page) -> int:
    metric = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text("Predictions", exact=True)
    )
    return int(metric.get_by_test_id("stMetricValue").inner_text().strip().replace(",", ""))


def test_time_window_all_data_shows_more_predictions(
    app_server: str, page: Page, artifacts_dir: Path
) -> None:
    page.goto(app_server, wait_until="domcontentloaded")
    expect(
        page.get_by_test_id("stMetricLabel").get_by_text("Invalid records", exact=True)
    ).to_be_visible(timeout=60_000)
    wait_for_app_idle(page)
    last_day = predictions_value(page)

    window = page.get_by_test_id("stSidebar").get_by_role("combobox", name="Time window")
    expect(window).to_have_value("Last 24 hours")
    window.click()
    page.get_by_role("option", name="All data", exact=True).click()
    expect(window).to_have_value("All data")
    page.wait_for_function(
        """([before]) => {
            const metric = [...document.querySelectorAll('[data-testid="stMetric"]')]
                .find(m => m.querySelector('[data-testid="stMetricLabel"]')
                    ?.innerText.trim() === "Predictions");
            const value = metric?.querySelector('[data-testid="stMetricValue"]')?.innerText;
            return value !== undefined && Number(value.replaceAll(",", "")) !== before;
        }""",
        arg=[last_day],
    )
    wait_for_app_idle(page)
    page.screenshot(path=artifacts_dir / "overview-all-data.png", full_page=True)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert predictions_value(page) > last_day
