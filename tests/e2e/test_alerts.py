"""Acknowledge an alert through the Alerts page in a real browser, reload, see it persisted."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from monitor.core.state import StateStore
from monitor.ops.alerts import actions as alerts
from tests.e2e.conftest import wait_for_app_idle

pytestmark = pytest.mark.e2e


def open_alerts(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/alerts", wait_until="domcontentloaded")
    expect(page.get_by_role("heading", name="Alerts", exact=True)).to_be_visible(timeout=60_000)
    wait_for_app_idle(page)


def test_acknowledge_an_alert_with_a_note_and_see_it_after_a_reload(
    app_server: str, page: Page, demo_dir: Path, artifacts_dir: Path
) -> None:
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    note = f"checked by {name}: <b>not bold</b>"
    open_alerts(page, app_server)
    try:
        field = page.get_by_test_id("stSidebar").get_by_label(
            "Your name (for the audit trail)", exact=True
        )
        field.fill(name)
        field.press("Enter")
        wait_for_app_idle(page)

        # the first firing alert nobody has acknowledged yet (other tests share the state)
        open_card = (
            page.locator("[class*='st-key-alert_card_']")
            .filter(has=page.get_by_role("button", name="Acknowledge"))
            .first
        )
        expect(open_card).to_be_visible()
        found = re.search(r"st-key-alert_card_(\d+)", open_card.get_attribute("class") or "")
        assert found, open_card.get_attribute("class")
        alert_id = int(found.group(1))

        open_card.get_by_role("button", name="Acknowledge").click()
        popover = page.get_by_test_id("stPopoverBody")
        popover.get_by_label("Note (optional)", exact=True).fill(note)
        popover.get_by_role("button", name="Acknowledge").click()
        wait_for_app_idle(page)
        expect(page.get_by_text(f"Alert {alert_id} acknowledged.")).to_be_visible()

        page.reload(wait_until="domcontentloaded")
        expect(page.get_by_role("heading", name="Alerts", exact=True)).to_be_visible()
        wait_for_app_idle(page)
        # someone has it now: it is under Acknowledged, no longer under Firing
        expect(page.locator(f".st-key-alert_card_{alert_id}")).to_have_count(0)
        page.locator(".st-key-alerts_view").get_by_text(re.compile(r"^Acknowledged \(")).click()
        wait_for_app_idle(page)
        card = page.locator(f".st-key-alert_card_{alert_id}")
        expect(card).to_contain_text(f"Acknowledged by {name} (unverified)")
        expect(card.get_by_text(note, exact=True)).to_be_visible()  # literal, not HTML
        expect(page.get_by_test_id("stException")).to_have_count(0)
    finally:
        page.screenshot(path=artifacts_dir / "alerts.png", full_page=True)

    state = StateStore.for_data_dir(demo_dir)
    try:
        stored = alerts.get_alert(state, alert_id)
    finally:
        state.close()
    assert (stored.acknowledged_by, stored.acknowledged_verified, stored.note) == (
        name,
        False,
        note,
    )
