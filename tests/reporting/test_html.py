"""The report's HTML: data embedded as JSON reads back unchanged and can never close its
`<script>` element; every text field is escaped."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from monitor.core.catalog import Window
from monitor.reporting.html import render, script_json
from monitor.reporting.model import Chart, Report, Section, Table
from tests.report_support import EVIL, embedded_summary, read_sections

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=20,
)


@given(JSON)
def test_embedded_json_reads_back_and_holds_no_markup(value: Any) -> None:
    embedded = script_json(json.dumps(value))
    assert json.loads(embedded) == value
    assert "<" not in embedded and ">" not in embedded and "&" not in embedded


def test_every_text_field_is_escaped() -> None:
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    section = Section(
        EVIL,
        EVIL,
        EVIL,
        notes=(EVIL,),
        charts=(Chart(EVIL, json.dumps({"data": [{"x": [EVIL], "y": [1]}]})),),
        tables=(Table((EVIL,), ((EVIL,),), EVIL),),
    )
    report = Report(EVIL, (EVIL,), Window(start, start), start, EVIL, (section,), {"model": EVIL})
    text = render(report)
    assert EVIL not in text
    assert embedded_summary(text) == {"model": EVIL}
    read = read_sections(text)[EVIL]
    assert read.lead == EVIL and read.tables == [[[EVIL], [EVIL]]] and read.charts == 1
