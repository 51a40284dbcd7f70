"""The Performance page under AppTest, its numbers checked against the raw demo files
(read with pyarrow and json in tests/performance_truth.py) and scikit-learn."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import accuracy_score, mean_absolute_error
from streamlit.testing.v1 import AppTest

from tests.performance_truth import labeled_predictions
from tests.ui.test_app import APP, assert_no_exception

PAGE = "pages/performance.py"


def open_page(demo_dir: Path, monkeypatch: pytest.MonkeyPatch, window: str) -> AppTest:
    monkeypatch.setenv("MONITOR_CONFIG", str(demo_dir / "monitor.toml"))
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    at.sidebar.selectbox(key="filter_window").set_value(window).run()
    at.switch_page(PAGE).run()
    assert_no_exception(at)
    return at


def tiles(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_credit_risk_all_data(demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(demo_dir, monkeypatch, "All data")
    assert at.title[0].value == "Performance"
    rows = labeled_predictions(demo_dir, "credit-risk")
    labeled = rows[rows["truth"].notna()]
    values = tiles(at)
    expected = accuracy_score(labeled["truth"], labeled["prediction"])
    assert values["Accuracy"] == f"{expected:.1%}"
    assert values["Labeled"] == f"{len(labeled):,}"
    assert values["Label coverage"] == f"{len(labeled) / len(rows):.1%}"
    reference = pq.read_table(demo_dir / "reference" / "credit-risk.parquet").to_pandas()
    baseline = accuracy_score(reference["label"], reference["prediction"])
    assert values["Baseline (reference)"] == f"{baseline:.1%}"
    assert values["Estimated accuracy"].endswith("%")
    delta = next(m for m in at.metric if m.label == "Accuracy").delta
    assert delta == f"{expected - baseline:.1%}"
    charts = at.get("plotly_chart")
    assert len(charts) >= 5  # trend, confusion, calibration, confidence, segments
    # the demo's label shift is flagged by the estimated-vs-realized check
    assert any("outside the estimate's band" in w.value for w in at.warning)

    at.selectbox(key="performance_metric_binary").set_value("roc_auc").run()
    assert_no_exception(at)
    at.selectbox(key="performance_segment_credit-risk").set_value("income").run()
    assert_no_exception(at)
    table = at.dataframe[-1].value
    assert isinstance(table, pd.DataFrame)
    assert int(table["labeled"].sum()) == len(labeled)
    assert at.dataframe[-1].proto.placeholder == "n/a"  # never "None" in a cell
    segments = json.loads(at.get("plotly_chart")[-1].proto.spec)
    low, high = segments["layout"]["xaxis"]["range"]
    assert 0 <= low < high <= 1  # a share axis: never past 100%


def test_last_day_has_no_labels_and_shows_the_estimates_first(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default window of the demo has no labels yet: estimates per version, a sentence
    on the label delay with the newest labeled prediction, no empty confusion matrix or
    segment chart, and one click to a window with labels."""
    at = open_page(demo_dir, monkeypatch, "Last 24 hours")
    rows = labeled_predictions(demo_dir, "credit-risk")
    end = rows["timestamp"].max()
    window = rows[rows["timestamp"] >= end - pd.Timedelta(days=1)]
    assert window["truth"].isna().all()  # the demo's last day is unlabeled
    values = tiles(at)
    assert "Accuracy" not in values  # no realized n/a tile
    assert values["Labeled"] == "0"
    assert values["Label coverage"] == "0.0%"
    assert values["Estimated accuracy"].endswith("%")
    assert values["Estimated F1"].endswith("%")
    # the sentence names the newest labeled prediction, computed here from the raw files
    newest = rows.loc[rows["truth"].notna() & (rows["timestamp"] <= end), "timestamp"].max()
    infos = [i.value for i in at.info]
    notice = next(text for text in infos if text.startswith("No labels yet for this window"))
    assert f"the newest labeled prediction is from {newest:%Y-%m-%d %H:%M} UTC" in notice
    assert "widen the window to 'Last 7 days' for realized metrics" in notice
    # estimates per version: the pool and each version seen in the window
    table = next(d.value for d in at.dataframe if "estimated" in d.value.columns)
    versions = sorted(window["version"].unique())
    assert list(dict.fromkeys(table["version"])) == ["all versions", *versions]
    assert set(table["metric"]) == {"Accuracy", "Precision", "Recall", "F1"}
    assert (
        (table["95% low"] <= table["estimated"]) & (table["estimated"] <= table["95% high"])
    ).all()
    pooled = table[(table["version"] == "all versions") & (table["metric"] == "Accuracy")]
    assert values["Estimated accuracy"] == f"{pooled['estimated'].iloc[0]:.1%}"
    # nothing drawn empty: no confusion matrix, calibration or segment chart
    markdown = " ".join(m.value for m in at.markdown)
    assert "Confusion matrix" not in markdown and "Calibration" not in markdown
    assert "performance_confusion_version" not in {box.key for box in at.selectbox}
    assert "Segments need labels" in " ".join(c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 3  # estimates per version, trend, confidence
    # one click to the last 7 days, which has realized metrics
    at.button(key="performance_widen_window").click().run()
    assert_no_exception(at)
    assert at.sidebar.selectbox(key="filter_window").value == "Last 7 days"
    values = tiles(at)
    assert values["Accuracy"].endswith("%") and values["Labeled"] != "0"


def test_regression_without_labels_says_so_and_draws_nothing_empty(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_page(demo_dir, monkeypatch, "Last 24 hours")
    at.sidebar.selectbox(key="filter_model").set_value("demand-forecast").run()
    assert_no_exception(at)
    values = tiles(at)
    assert values["Labeled"] == "0" and "MAE" not in values
    notice = next(i.value for i in at.info if i.value.startswith("No labels yet"))
    assert "Realized metrics need labels; widen the window to 'Last 7 days'" in notice
    assert not at.get("plotly_chart")  # no estimates for regression: no empty chart either
    assert "Segments need labels" in " ".join(c.value for c in at.caption)


def test_regression_model(demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(demo_dir, monkeypatch, "All data")
    at.sidebar.selectbox(key="filter_model").set_value("demand-forecast").run()
    assert_no_exception(at)
    rows = labeled_predictions(demo_dir, "demand-forecast")
    labeled = rows[rows["truth"].notna()]
    mae = mean_absolute_error(labeled["truth"].astype(float), labeled["prediction"].astype(float))
    values = tiles(at)
    assert values["MAE"] == f"{mae:,.3f}"
    rmse = (
        float(((labeled["truth"].astype(float) - labeled["prediction"].astype(float)) ** 2).mean())
        ** 0.5
    )
    assert values["RMSE"] == f"{rmse:,.3f}"
    at.selectbox(key="performance_metric_regression").set_value("r2").run()
    assert_no_exception(at)


def test_multiclass_model_without_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A multiclass model whose last day lacks one class entirely, and no reference file."""
    import datetime as dt
    import json

    import numpy as np

    rng = np.random.default_rng(0)
    classes = ("cat", "dog", "eel")
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    truth: list[str] = []
    guess: list[str] = []
    for day in range(3):
        present = classes if day < 2 else classes[:2]
        folder = (
            tmp_path / "logs" / "predictions" / f"date={(start + dt.timedelta(days=day)).date()}"
        )
        folder.mkdir(parents=True)
        lines = []
        for i in range(200):
            label = str(rng.choice(present))
            predicted = label if rng.random() < 0.75 else str(rng.choice(present))
            weights = {c: float(w) for c, w in zip(classes, rng.dirichlet(np.ones(3)), strict=True)}
            weights[predicted] += 1.0
            total = sum(weights.values())
            lines.append(
                json.dumps(
                    {
                        "prediction_id": f"{day}-{i}",
                        "timestamp": (start + dt.timedelta(days=day, minutes=5 * i)).isoformat(),
                        "model_id": "zoo",
                        "model_version": "v1",
                        "features": {
                            "size": float(rng.normal()),
                            "habitat": str(rng.choice(["land", "sea"])),
                        },
                        "prediction": predicted,
                        "probability": {c: w / total for c, w in weights.items()},
                        "label": label,
                    }
                )
            )
            truth.append(label)
            guess.append(predicted)
        (folder / "p.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = tmp_path / "monitor.toml"
    config.write_text('data_dir = "."\n[[models]]\nid = "zoo"\ntask = "multiclass"\n')
    monkeypatch.setenv("MONITOR_CONFIG", str(config))
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    at.sidebar.selectbox(key="filter_window").set_value("All data").run()
    at.switch_page(PAGE).run()
    assert_no_exception(at)
    values = tiles(at)
    assert values["Accuracy"] == f"{accuracy_score(truth, guess):.1%}"
    assert values["Baseline (none)"] == "n/a"
    assert values["Estimated accuracy"] == "n/a"
    per_class = at.dataframe[0].value
    assert list(per_class["class"]) == list(classes)
    at.selectbox(key="performance_metric_multiclass").set_value("f1_macro").run()
    assert_no_exception(at)
