"""The Datasets page in a real browser: upload through the page's file input, preview,
a hostile column name shown as text (never run), save, then delete through the dialog."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Dialog, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from monitor.core.state import Actor, StateStore
from monitor.ops.datasets import library as datasets
from monitor.ops.datasets import storage
from tests.e2e.conftest import wait_for_app_idle

pytestmark = pytest.mark.e2e

HOSTILE = "<script>alert(1)</script>"
ROWS = 123


def pick_option(page: Page, combobox: str, option: str) -> None:
    """Choose an option of a selectbox; reopen the list if a rerun closed it meanwhile."""
    for _ in range(3):
        page.get_by_role("combobox", name=combobox, exact=True).click()
        found = page.get_by_role("option", name=option, exact=True)
        try:
            found.wait_for(timeout=5_000)
        except PlaywrightTimeoutError:
            continue
        found.click()
        return
    raise AssertionError(f"option {option!r} of {combobox!r} never showed")


def test_upload_preview_hostile_header_save_and_delete(
    app_server: str, page: Page, artifacts_dir: Path, demo_dir: Path, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    name = f"e2e{tag}"
    upload = tmp_path / f"upload-{tag}.csv"
    lines = [f"{HOSTILE},income,tag"] + [f"{i},{1000 + i},{tag}" for i in range(ROWS)]
    upload.write_text("\n".join(lines) + "\n", encoding="utf-8")
    alerts: list[str] = []

    def record(dialog: Dialog) -> None:
        alerts.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)

    page.goto(app_server, wait_until="domcontentloaded")
    wait_for_app_idle(page)
    page.get_by_test_id("stSidebarNav").get_by_text("Datasets", exact=True).click()
    expect(page.get_by_role("heading", name="Datasets", exact=True)).to_be_visible()
    wait_for_app_idle(page)
    who = page.get_by_role("textbox", name="Your name (for the audit trail)")
    who.fill("e2e tester")
    who.press("Enter")
    wait_for_app_idle(page)
    state = StateStore.for_data_dir(demo_dir)
    try:
        current = page.get_by_test_id("stFileUploader").filter(has_text="Current dataset")
        current.locator('input[type="file"]').set_input_files(upload)
        wait_for_app_idle(page)
        values = page.get_by_test_id("stMetricValue")
        expect(values.first).to_have_text(str(ROWS))
        expect(values.nth(1)).to_have_text("3")
        # The names are listed as text; the script tag is text, not an element.
        columns = page.get_by_text("Columns: ", exact=False).filter(has_text="income (numeric)")
        expect(columns).to_contain_text(f"{HOSTILE} (numeric)")
        assert page.locator("script", has_text="alert(1)").count() == 0
        expect(page.get_by_test_id("stDataFrame").first).to_be_visible()

        page.get_by_role("textbox", name="Name of the current dataset").fill(name)
        page.get_by_role("textbox", name="Name of the current dataset").press("Enter")
        wait_for_app_idle(page)
        page.get_by_role("button", name="Save the current dataset").click()
        wait_for_app_idle(page)
        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(
            f"Saved current dataset {name}"
        )
        assert name in {d.name for d in datasets.list_datasets(state)}

        # Delete it through the confirmation dialog.
        pick_option(page, "Dataset", name)
        wait_for_app_idle(page)
        page.get_by_role("button", name="Delete", exact=True).click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text(f"Delete dataset {name}?")
        dialog.get_by_role("button", name="Delete", exact=True).click()
        wait_for_app_idle(page)
        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(
            f"Deleted dataset {name}"
        )
        assert name not in {d.name for d in datasets.list_datasets(state)}
        expect(page.get_by_test_id("stException")).to_have_count(0)
        assert alerts == []
    finally:
        page.screenshot(path=artifacts_dir / "datasets.png", full_page=True)
        if name in {d.name for d in datasets.list_datasets(state)}:
            storage.delete_dataset(state, demo_dir, name, Actor("e2e cleanup"))
        state.close()
