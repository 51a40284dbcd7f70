"""Helpers of the shareable-report tests (tests/cli/test_report.py and
tests/e2e/test_report_browser.py): the `monitor` command as a real process, a demo copy
with an alert history, logs whose names are markup, and a reader of the report's HTML
(stdlib html.parser: sections, their lead line and their tables as text)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from monitor.core.state import STATE_FILE_NAME
from tests.logwriter import prediction, write_jsonl

SECTIONS = ("summary", "performance", "drift", "quality", "fairness", "health", "alerts")
EVIL = "<script>alert(1)</script>"
"""A model id, version, feature and group name that would run as script if pasted as HTML."""


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def demo_with_alerts(demo_dir: Path, target: Path) -> Path:
    """A copy of the shared demo (without its state) after one `monitor check`, so the
    state store holds alerts; returns its monitor.toml."""
    shutil.copytree(demo_dir, target, ignore=shutil.ignore_patterns(STATE_FILE_NAME + "*"))
    config = target / "monitor.toml"
    checked = cli("--config", config, "check", "--no-notify")
    assert checked.returncode in (0, 1), checked.stderr  # 1: an alert is blocking
    return config


def hostile_logs(data_dir: Path) -> Path:
    """Logs and a config where the model id, the version, a feature (also the sensitive
    one), a category and an error message are all EVIL; returns the config."""
    features = [{EVIL: EVIL if i % 3 else "b", "amount": float(i % 11)} for i in range(400)]
    lines = [
        prediction(
            f"p{i}",
            f"2026-11-01T{i % 24:02d}:{i % 60:02d}:00Z",
            model=EVIL,
            version=EVIL,
            features=feature,
            prediction=i % 2,
            probability=0.25 + 0.5 * (i % 2),
            status="error" if i % 17 == 0 else "ok",
            error=EVIL if i % 17 == 0 else None,
        )
        for i, feature in enumerate(features)
    ]
    write_jsonl(data_dir, "predictions", "2026-11-01", "p.jsonl", lines)
    reference = {
        EVIL: ["b", "c"] * 100,
        "amount": [float(i % 5) for i in range(200)],
        "label": [i % 2 for i in range(200)],
        "prediction": [(i // 2) % 2 for i in range(200)],
        "probability": [0.3 + 0.4 * ((i // 2) % 2) for i in range(200)],
    }
    pq.write_table(pa.table(reference), data_dir / "reference.parquet")
    config = data_dir / "monitor.toml"
    config.write_text(
        'data_dir = "."\n\n[[models]]\n'
        f"id = {json.dumps(EVIL)}\n"
        'task = "binary"\npositive_label = "1"\nreference = "reference.parquet"\n'
        f"sensitive_features = [{json.dumps(EVIL)}]\n",
        encoding="utf-8",
    )
    return config


def embedded_summary(text: str) -> Any:
    """The `monitor summary` document embedded in a report."""
    found = re.search(r'<script type="application/json" id="summary-data">(.*?)</script>', text)
    assert found is not None, "the report embeds no summary"
    return json.loads(found.group(1))


@dataclass
class Section:
    lead: str = ""
    tables: list[list[list[str]]] = field(default_factory=list)
    """Each table's rows (the header row first), cells as text."""
    charts: int = 0


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: dict[str, Section] = {}
        self._section: Section | None = None
        self._text: list[str] | None = None
        self._lead = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "section":
            self._section = self.sections.setdefault(named["id"] or "", Section())
        elif self._section is None:
            return
        elif tag == "p" and named.get("class") == "lead":
            self._lead, self._text = True, []
        elif tag == "table":
            self._section.tables.append([])
        elif tag == "tr":
            self._section.tables[-1].append([])
        elif tag in ("td", "th"):
            self._text = []
        elif tag == "div" and named.get("data-figure"):
            self._section.charts += 1

    def handle_endtag(self, tag: str) -> None:
        if self._section is None or self._text is None:
            if tag == "section":
                self._section = None
            return
        if tag == "p" and self._lead:
            self._section.lead, self._lead, self._text = "".join(self._text), False, None
        elif tag in ("td", "th"):
            self._section.tables[-1][-1].append("".join(self._text))
            self._text = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def read_sections(text: str) -> dict[str, Section]:
    """The report's sections by id, in document order."""
    reader = _Reader()
    reader.feed(text)
    return reader.sections


def table_with(section: Section, header: str) -> list[dict[str, str]]:
    """The rows of the section's first table with a column `header`, as dicts."""
    for table in section.tables:
        if header in table[0]:
            return [dict(zip(table[0], row, strict=True)) for row in table[1:]]
    raise AssertionError(f"no table with a column {header!r}")
