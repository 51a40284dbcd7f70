"""The Fairness page run headless with AppTest over the demo logs; its numbers are checked
against fairlearn on the raw log files (read without monitor.core.store)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    selection_rate,
)
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import DownloadButton

from tests.queries.test_fairness_logs import as_float, raw_labeled
from tests.ui.test_app import APP, assert_no_exception

# The AppTest workarounds (st.navigation flag, fresh caches) are autouse fixtures in
# tests/ui/conftest.py; where they still live in test_app.py, use them from there.
if not (Path(__file__).parent / "conftest.py").is_file():  # pragma: no cover
    _app = importlib.import_module("tests.ui.test_app")
    _navigation_app = _app._navigation_app
    _fresh_streamlit_caches = _app._fresh_streamlit_caches

PAGE = "pages/fairness.py"
SENSITIVE = "fairness_sensitive_credit-risk"


@pytest.fixture(scope="module")
def labeled(demo_dir: Path) -> pd.DataFrame:
    frame = raw_labeled(demo_dir, "credit-risk", ["gender", "age_group"])
    frame = frame[frame["label"].notna() & frame["prediction"].notna()].copy()
    frame["y"] = (as_float(frame["label"]) == 1).astype(int)
    frame["p"] = (as_float(frame["prediction"]) == 1).astype(int)
    return frame


def open_page(demo_dir: Path, monkeypatch: pytest.MonkeyPatch, window: str) -> AppTest:
    monkeypatch.setenv("MONITOR_CONFIG", str(demo_dir / "monitor.toml"))
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    at.switch_page(PAGE).run()
    assert_no_exception(at)
    if window != at.sidebar.selectbox(key="filter_window").value:
        at.sidebar.selectbox(key="filter_window").set_value(window).run()
        assert_no_exception(at)
    return at


def tiles(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def table(at: AppTest) -> pd.DataFrame:
    frames = [d.value for d in at.dataframe]
    assert len(frames) == 1
    return frames[0]


def test_default_window_judges_selection_rates_without_labels(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's last 24 hours have no labels: the selection rates, fairlearn's demographic
    parity over all groups and the four-fifths screen come from the raw predictions of the
    window; the error-based metrics say they wait for labels; one click widens the window."""
    at = open_page(demo_dir, monkeypatch, "Last 24 hours")
    assert at.title[0].value == "Fairness"
    assert at.multiselect(key=SENSITIVE).value == ["gender"]  # first configured feature
    raw = raw_labeled(demo_dir, "credit-risk", ["gender"])
    end = raw["timestamp"].max()
    rows = raw[(raw["timestamp"] >= end - pd.Timedelta(days=1)) & raw["prediction"].notna()]
    assert rows["label"].isna().all()  # no labels yet in this window
    gender = rows["gender"].fillna("(missing)")
    predicted = (as_float(rows["prediction"]) == 1).astype(int)
    frame = MetricFrame(
        metrics=selection_rate, y_true=predicted, y_pred=predicted, sensitive_features=gender
    )
    values = tiles(at)
    assert values["Selection rate"] == f"{selection_rate(predicted, predicted):.1%}"
    for name, function in (
        ("DP difference", demographic_parity_difference),
        ("DP ratio", demographic_parity_ratio),
    ):
        expected = function(predicted, predicted, sensitive_features=gender)
        assert values[name] == f"{expected:.3f}"
    assert "EO difference" not in values  # needs labels
    groups = table(at)
    assert dict(zip(groups["group"], groups["count"], strict=True)) == (
        gender.value_counts().to_dict()
    )
    for _, row in groups.iterrows():
        assert row["selection_rate"] == pytest.approx(frame.by_group[row["group"]])
        assert row["CI low"] <= row["selection_rate"] <= row["CI high"]
    # the screen: ratio to the largest group outside [0.8, 1.25] for any group of >= 50
    counts = gender.value_counts()
    rates = frame.by_group
    largest = counts.idxmax()
    ratios = {g: rates[g] / rates[largest] for g in counts.index if counts[g] >= 50}
    failed = any(r < 0.8 or r > 1 / 0.8 for r in ratios.values())
    assert values["Four-fifths screen"] == ("failed" if failed else "passed")
    notice = next(i.value for i in at.info if i.value.startswith("No labels yet"))
    assert "TPR, FPR" in notice and "wait for labels" in notice
    assert len(at.get("plotly_chart")) == 3  # groups, by version, over time

    at.button(key="fairness_widen_window").click().run()
    assert_no_exception(at)
    assert at.sidebar.selectbox(key="filter_window").value == "Last 7 days"
    assert "EO difference" in tiles(at)  # labeled: the error-based metrics are back


def test_regression_without_labels_says_what_waits_for_labels(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_page(demo_dir, monkeypatch, "Last 24 hours")
    at.sidebar.selectbox(key="filter_model").set_value("demand-forecast").run()
    at.multiselect(key="fairness_sensitive_demand-forecast").set_value(["store_id"]).run()
    assert_no_exception(at)
    notice = next(i.value for i in at.info if i.value.startswith("No labels yet"))
    assert "MAE and RMSE by group wait for labels: widen the window to 'Last 7 days'" in notice
    assert not at.metric
    at.button(key="fairness_widen_window").click().run()
    assert_no_exception(at)
    assert "Four-fifths screen" in tiles(at)


def test_all_data_matches_fairlearn_and_widgets_recompute(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch, labeled: pd.DataFrame
) -> None:
    at = open_page(demo_dir, monkeypatch, "All data")
    values = tiles(at)
    dp = demographic_parity_difference(
        labeled["y"], labeled["p"], sensitive_features=labeled["gender"]
    )
    eo = equalized_odds_difference(labeled["y"], labeled["p"], sensitive_features=labeled["gender"])
    assert values["DP difference"] == f"{dp:.3f}"
    assert values["EO difference"] == f"{eo:.3f}"
    assert values["Four-fifths screen"] == "passed"  # v1/v2 dominate the whole window
    groups = table(at)
    counts = labeled.groupby("gender").size()
    assert dict(zip(groups["group"], groups["count"], strict=True)) == counts.to_dict()
    rates = labeled.groupby("gender")["p"].mean()
    for _, row in groups.iterrows():
        assert row["selection_rate"] == pytest.approx(rates[row["group"]])
        assert row["CI low"] <= row["selection_rate"] <= row["CI high"]
    assert len(at.get("plotly_chart")) == 3
    buttons = [b for b in at.get("download_button") if isinstance(b, DownloadButton)]
    assert [b.label for b in buttons] == ["Download CSV", "Download JSON"]

    # reference group -> overall: ratios divide by the overall selection rate
    reference_key = "fairness_reference_credit-risk_gender"
    assert at.selectbox(key=reference_key).value == "largest"
    at.selectbox(key=reference_key).set_value("overall").run()
    assert_no_exception(at)
    overall = labeled["p"].mean()
    for _, row in table(at).iterrows():
        assert row["ratio to reference"] == pytest.approx(rates[row["group"]] / overall)

    # sensitive features -> gender x age_group: intersectional groups, small ones flagged
    at.multiselect(key=SENSITIVE).set_value(["gender", "age_group"]).run()
    assert_no_exception(at)
    groups = table(at)
    expected = labeled.groupby(["gender", "age_group"]).agg(n=("y", "size"), pos=("y", "sum"))
    assert len(groups) == len(expected)
    for _, row in groups.iterrows():
        n, pos = expected.loc[tuple(row["group"].split(" & "))]
        assert row["count"] == n
        assert row["too small"] == (n < 50 or pos < 10 or n - pos < 10)
    assert groups["too small"].any() and not groups["too small"].all()


def test_the_v3_canary_fails_the_screen(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch, labeled: pd.DataFrame
) -> None:
    at = open_page(demo_dir, monkeypatch, "All data")
    at.sidebar.multiselect(key="filter_versions_credit-risk").set_value(["v3"]).run()
    assert_no_exception(at)
    values = tiles(at)
    assert values["Four-fifths screen"] == "failed"
    v3 = labeled[labeled["version"] == "v3"]
    assert (v3["gender"] == "nonbinary").sum() < 50  # too small: left out of judged_*
    judged = v3[v3["gender"] != "nonbinary"]
    dp = demographic_parity_difference(
        judged["y"], judged["p"], sensitive_features=judged["gender"]
    )
    assert values["DP difference (judged groups)"] == f"{dp:.3f}"
    every = demographic_parity_difference(v3["y"], v3["p"], sensitive_features=v3["gender"])
    assert values["DP difference"] == f"{every:.3f}"  # fairlearn's name: all groups


def test_each_attribute_separately_shows_one_table_per_attribute(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch, labeled: pd.DataFrame
) -> None:
    """The toggle: gender and age_group each audited on its own (its groups, largest
    group as reference, ratios, ppr), as fairlearn's MetricFrame by that column and
    Aequitas' ppr computed in pandas say."""
    at = open_page(demo_dir, monkeypatch, "All data")
    grouping = at.radio(key="fairness_grouping")
    assert grouping.disabled  # one feature: nothing to choose
    at.multiselect(key=SENSITIVE).set_value(["gender", "age_group"]).run()
    assert_no_exception(at)
    assert len(at.dataframe) == 1  # intersections: one table
    at.radio(key="fairness_grouping").set_value("Each attribute separately").run()
    assert_no_exception(at)
    # markdown source, escaped (a column name is user text): rendered "age_group"
    assert [h.value for h in at.subheader] == ["gender", "age\\_group"]
    frames = [d.value for d in at.dataframe]
    assert len(frames) == 2
    for attribute, groups in zip(("gender", "age_group"), frames, strict=True):
        by = MetricFrame(
            metrics=selection_rate,
            y_true=labeled["y"],
            y_pred=labeled["p"],
            sensitive_features=labeled[attribute],
        ).by_group
        counts = labeled[attribute].value_counts()
        selected = labeled.groupby(attribute)["p"].sum()
        largest = counts.idxmax()
        assert dict(zip(groups["group"], groups["count"], strict=True)) == counts.to_dict()
        for _, row in groups.iterrows():
            group = row["group"]
            assert row["selection_rate"] == pytest.approx(by[group], rel=1e-12)
            assert row["ppr"] == pytest.approx(selected[group] / selected.sum(), rel=1e-12)
            assert row["ratio to reference"] == pytest.approx(by[group] / by[largest], rel=1e-12)
    for attribute in ("gender", "age_group"):
        assert at.selectbox(key=f"fairness_reference_credit-risk_{attribute}").value == "largest"
    # each attribute's reference group is its own
    at.selectbox(key="fairness_reference_credit-risk_gender").set_value("female").run()
    assert_no_exception(at)
    gender, age = (d.value for d in at.dataframe)
    rates = labeled.groupby("gender")["p"].mean()
    for _, row in gender.iterrows():
        expected = float(rates[row["group"]]) / float(rates["female"])
        assert row["ratio to reference"] == pytest.approx(expected, rel=1e-12)
    assert age.equals(frames[1])  # the other attribute keeps its own reference


def test_each_attribute_without_labels_says_once_what_waits(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_page(demo_dir, monkeypatch, "Last 24 hours")
    at.multiselect(key=SENSITIVE).set_value(["gender", "age_group"]).run()
    at.radio(key="fairness_grouping").set_value("Each attribute separately").run()
    assert_no_exception(at)
    notices = [i.value for i in at.info if i.value.startswith("No labels yet")]
    assert len(notices) == 1
    raw = raw_labeled(demo_dir, "credit-risk", ["gender", "age_group"])
    end = raw["timestamp"].max()
    rows = raw[(raw["timestamp"] >= end - pd.Timedelta(days=1)) & raw["prediction"].notna()]
    predicted = (as_float(rows["prediction"]) == 1).astype(int)
    frames = [d.value for d in at.dataframe]
    assert len(frames) == 2
    for attribute, groups in zip(("gender", "age_group"), frames, strict=True):
        values = rows[attribute].fillna("(missing)")
        selected = predicted.groupby(values).sum()
        assert dict(zip(groups["group"], groups["count"], strict=True)) == (
            values.value_counts().to_dict()
        )
        for _, row in groups.iterrows():
            share = float(selected[row["group"]]) / float(selected.sum())
            assert row["ppr"] == pytest.approx(share, rel=1e-12)
