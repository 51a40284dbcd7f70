"""The Models page in a real browser: mark a rollback through the confirmation dialog (by
default the canary v3, to v2), reload, see it persisted, then cancel it (the shared state
is left without an open mark)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from monitor.core.state import Actor, StateStore
from monitor.ops.registry import rollback
from tests.e2e.conftest import wait_for_app_idle

pytestmark = pytest.mark.e2e
CREDIT = "credit-risk"
LONG = 60_000


def test_mark_a_rollback_reload_and_cancel(
    app_server: str, page: Page, demo_dir: Path, artifacts_dir: Path
) -> None:
    state = StateStore.for_data_dir(demo_dir)
    for mark in rollback.marks(state, model_id=CREDIT):  # other tests share this state
        rollback.cancel(state, mark.id, actor=Actor("e2e setup"), note="clearing the way")
    reason = f"e2e {uuid.uuid4().hex[:8]}: v3 loses accuracy"

    page.goto(f"{app_server}/models", wait_until="domcontentloaded")
    expect(page.get_by_role("heading", name="Models", exact=True)).to_be_visible(timeout=LONG)
    wait_for_app_idle(page)
    try:
        who = page.get_by_role("textbox", name="Your name (for the audit trail)")
        who.fill("e2e tester")
        who.press("Enter")
        wait_for_app_idle(page)
        page.get_by_role("button", name="Mark for rollback", exact=True).click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("Evidence", timeout=LONG)
        expect(dialog).to_contain_text("Roll back from")
        expect(dialog).to_contain_text("v3: reject — ")  # the canary, judged on its own traffic
        dialog.get_by_role("textbox", name="Reason").fill(reason)
        dialog.get_by_role("button", name="Confirm rollback mark").click()
        expect(page.get_by_role("dialog")).to_have_count(0, timeout=LONG)
        expect(page.get_by_text("is open: from")).to_be_visible(timeout=LONG)
        (saved,) = rollback.marks(state, model_id=CREDIT)
        assert (saved.reason, saved.requested_by) == (reason, "e2e tester")
        assert (saved.from_version, saved.to_version) == ("v3", "v2")

        page.reload(wait_until="domcontentloaded")  # a new session: what is shown is stored
        wait_for_app_idle(page)
        expect(page.get_by_text(f"Rollback #{saved.id} is open")).to_be_visible(timeout=LONG)
        expect(page.get_by_role("button", name="Cancel rollback")).to_have_count(0)  # no name
        who = page.get_by_role("textbox", name="Your name (for the audit trail)")
        who.fill("e2e tester")
        who.press("Enter")
        wait_for_app_idle(page)
        page.get_by_role("button", name="Cancel rollback").click()
        expect(page.get_by_text(f"Rollback #{saved.id} cancelled")).to_be_visible(timeout=LONG)
        assert rollback.get(state, saved.id).status == "cancelled"
        expect(page.get_by_test_id("stException")).to_have_count(0)
    finally:
        page.screenshot(path=artifacts_dir / "models.png", full_page=True)
        for mark in rollback.marks(state, model_id=CREDIT):
            rollback.cancel(state, mark.id, actor=Actor("e2e cleanup"))
