"""The Data quality page under AppTest; its numbers checked against the raw demo files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from monitor.ui.context import escape_markdown
from tests.ui.test_app import APP, assert_no_exception
from tests.ui.test_drift import logged

MODEL = "credit-risk"


def open_quality(demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("MONITOR_CONFIG", str(demo_dir / "monitor.toml"))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    at.switch_page("pages/data_quality.py").run()
    assert_no_exception(at)
    return at


def test_data_quality_page_matches_the_raw_logs(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_quality(demo_dir, monkeypatch)
    assert at.title[0].value == "Data quality"
    rows = {r["feature"]: r for r in at.dataframe[0].value.to_dict("records")}
    assert set(rows) >= {"income", "credit_score", "employment_type"}

    frame = logged(demo_dir, "credit_score")
    end = frame.timestamp.max()
    window = frame[(frame.timestamp >= end - pd.Timedelta(days=1))]
    assert rows["credit_score"]["missing"] == pytest.approx(window.value.isna().mean())
    values = {m.label: m.value for m in at.metric}
    assert int(values["Rows"].replace(",", "")) == len(window)
    assert values["Schema issues"] == "0"
    new = {r["category"]: r["rows"] for r in at.dataframe[2].value.to_dict("records")}
    employment = logged(demo_dir, "employment_type")
    last_day = employment[employment.timestamp >= end - pd.Timedelta(days=1)]
    assert new == {"gig_worker": int((last_day.value == "gig_worker").sum())}
    assert len(at.get("plotly_chart")) == 3


def test_all_data_window_shows_the_invalid_records(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_quality(demo_dir, monkeypatch)
    at.sidebar.selectbox(key="filter_window").set_value("All data").run()
    assert_no_exception(at)
    manifest = json.loads((demo_dir / "demo_manifest.json").read_text())
    # Prediction lines of this model's files count for it (a feedback line names no model).
    mine = sum(
        1
        for line in manifest["invalid_lines"]
        if line["model_id"] == MODEL and line["kind"] == "predictions"
    )
    values = {m.label: m.value for m in at.metric}
    assert int(values["Invalid records"]) == mine == 2
    expander = at.expander[0]
    assert str(manifest["invalid_records"]) in expander.label
    at.selectbox(key=f"quality_baseline_{MODEL}").set_value("previous window").run()
    assert_no_exception(at)


def test_new_categories_above_the_threshold_are_a_problem(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Contradiction 4 (issue 12): employment_type's gig_worker share is a warning in the
    table, the tiles and the model's findings at the top of the page, with one number."""
    at = open_quality(demo_dir, monkeypatch)
    rows = {r["feature"]: r for r in at.dataframe[0].value.to_dict("records")}
    employment = logged(demo_dir, "employment_type")
    end = logged(demo_dir, "credit_score").timestamp.max()
    values = employment[employment.timestamp >= end - pd.Timedelta(days=1)].value.dropna()
    share = float((values == "gig_worker").mean())
    assert share > 0.05  # thresholds.new_category_share
    assert rows["employment_type"]["new categories"] == pytest.approx(share)
    assert rows["employment_type"]["status"] == "new categories"
    for name, row in rows.items():
        new = 0.0 if pd.isna(row["new categories"]) else row["new categories"]
        within = new <= 0.05 and row["missing"] <= 0.10
        assert (row["status"] == "ok") == within, (name, row)
    tiles = {m.label: m for m in at.metric}
    assert tiles["Features with issues"].value == "1"
    assert "employment_type: new categories" in (tiles["Features with issues"].help or "")
    lines = [m.value for m in at.markdown if "· rule `new_categories`" in m.value]
    assert len(lines) == 1 and "**warning**" in lines[0]
    assert escape_markdown(f"employment_type: new-category share {share:.1%}") in lines[0]
