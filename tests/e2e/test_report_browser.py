"""The shareable report in headless Chromium with the network blocked: it opens without a
console error or a request, draws every section's chart, prints one section per page,
runs no script from the data; and the Overview's "Download report" gives the same
document."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, expect

from tests.e2e.conftest import APP_TIMEOUT_MS, VIEWPORT, serve_app, wait_for_app_idle
from tests.report_support import (
    EVIL,
    SECTIONS,
    cli,
    demo_with_alerts,
    embedded_summary,
    hostile_logs,
    read_sections,
)

pytestmark = pytest.mark.e2e

MODEL = "credit-risk"


@pytest.fixture(scope="module")
def demo(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's monitor.toml, with alerts in its state store."""
    return demo_with_alerts(demo_dir, tmp_path_factory.mktemp("report-e2e") / "demo")


@pytest.fixture(scope="module")
def report_file(demo: Path, artifacts_dir: Path) -> Path:
    """`monitor report` of credit-risk's last day; its size and build time in artifacts."""
    output = demo.parent / "report.html"
    started = time.monotonic()
    done = cli("--config", demo, "report", "--model", MODEL, "--output", output)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    size = output.stat().st_size
    (artifacts_dir / "report.txt").write_text(f"{size:,} bytes, built in {elapsed:.1f} s\n")
    return output


@dataclass
class Offline:
    """A page that may load files only, with what went wrong while it ran."""

    page: Page
    problems: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def offline(browser: Browser) -> Iterator[Offline]:
    context = browser.new_context(viewport=VIEWPORT, offline=True)
    context.set_default_timeout(APP_TIMEOUT_MS)
    opened = Offline(context.new_page())

    def only_files(route: Route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_files)

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            opened.problems.append(message.text)

    page = opened.page
    page.on("console", console)
    page.on("pageerror", lambda e: opened.problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: opened.problems.append(f"failed: {r.url}"))
    page.on("request", lambda r: opened.requests.append(r.url))
    page.on("dialog", lambda d: opened.problems.append(f"dialog: {d.message}"))
    try:
        yield opened
    finally:
        context.close()


def open_report(offline: Offline, path: Path) -> Page:
    """Open the file and wait until every chart is drawn."""
    page = offline.page
    page.goto(path.as_uri())
    charts = page.locator("[data-figure]")
    expect(page.locator(".js-plotly-plot")).to_have_count(charts.count())
    page.wait_for_load_state("load")
    return page


def assert_every_section_drawn(page: Page) -> None:
    assert page.locator("main > section").evaluate_all("s => s.map(e => e.id)") == list(SECTIONS)
    for section in SECTIONS:
        plot = page.locator(f"section#{section} .js-plotly-plot").first
        expect(plot.locator(".main-svg").first).to_be_visible()
        box = plot.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100, section


def test_the_report_opens_offline_and_draws_every_section(
    offline: Offline, report_file: Path, artifacts_dir: Path
) -> None:
    page = open_report(offline, report_file)
    try:
        assert_every_section_drawn(page)
        links = page.locator("nav.toc a").evaluate_all("a => a.map(e => e.hash)")
        assert links == [f"#{s}" for s in SECTIONS]
    finally:
        page.screenshot(path=artifacts_dir / "report.png", full_page=True)
    assert offline.problems == []
    assert offline.requests == [report_file.as_uri()]


def test_printing_puts_each_section_on_its_own_pages(
    offline: Offline, report_file: Path, artifacts_dir: Path
) -> None:
    page = open_report(offline, report_file)
    page.emulate_media(media="print")
    breaks = page.locator("main > section").evaluate_all(
        "s => s.map(e => getComputedStyle(e).breakBefore)"
    )
    assert breaks == ["page"] * len(SECTIONS)
    page.wait_for_function(  # the loader narrows the charts to the printed page
        "() => Array.from(document.querySelectorAll('.js-plotly-plot .main-svg'))"
        ".every(s => s.getBoundingClientRect().width <= 680)"
    )
    pdf = page.pdf(format="A4", path=artifacts_dir / "report.pdf")
    pages = re.findall(rb"/Type\s*/Page[^s]", pdf)
    assert len(pages) >= 1 + len(SECTIONS)  # the header, then a page or more per section
    assert offline.problems == []


def test_names_that_are_markup_run_no_script(offline: Offline, tmp_path: Path) -> None:
    config = hostile_logs(tmp_path / "logs")
    output = tmp_path / "report.html"
    done = cli("--config", config, "report", "--model", EVIL, "--output", output)
    assert done.returncode == 0, done.stderr
    page = open_report(offline, output)
    expect(page.locator("h1")).to_have_text(f"Model report: {EVIL}")
    expect(page.locator("section#drift td", has_text=EVIL).first).to_be_visible()
    assert page.locator("script:not([type])").count() == 2
    assert offline.problems == []


@pytest.fixture(scope="module")
def served(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over the demo copy that has alerts."""
    with serve_app(demo, tmp_path_factory.mktemp("report-app") / "report-server.log") as url:
        yield url


def test_the_overview_downloads_the_same_report(
    served: str, page: Page, offline: Offline, report_file: Path, tmp_path: Path
) -> None:
    page.goto(served, wait_until="domcontentloaded")
    button = page.get_by_role("button", name="Download report")
    expect(button).to_be_visible(timeout=APP_TIMEOUT_MS)
    wait_for_app_idle(page)
    with page.expect_download(timeout=120_000) as started:
        button.click()
    download = started.value
    assert download.suggested_filename.startswith(f"report-{MODEL}-")
    assert download.suggested_filename.endswith(".html")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    text = path.read_text(encoding="utf-8")
    written = report_file.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert list(read_sections(text)) == list(read_sections(written)) == list(SECTIONS)
    assert embedded_summary(text)["models"][0]["model_id"] == MODEL
    assert_every_section_drawn(open_report(offline, path))
    assert offline.problems == []
