"""The Drift page under AppTest; its scores checked against scipy on the raw demo files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from scipy import stats
from streamlit.testing.v1 import AppTest

from tests.ui.test_app import APP, assert_no_exception

MODEL = "credit-risk"


def logged(demo_dir: Path, key: str) -> pd.DataFrame:
    """timestamp and value of a credit-risk feature in every valid prediction record."""
    frames = []
    column = f"features.{key}"
    for path in sorted((demo_dir / "logs" / "predictions").glob("*/*.parquet")):
        if column in pq.read_schema(path).names:
            table = pq.read_table(path, columns=["timestamp", "model_id", column]).to_pandas()
            table = table[table.model_id == MODEL]
            frames.append(pd.DataFrame({"timestamp": table.timestamp, "value": table[column]}))
    rows = []
    for path in sorted((demo_dir / "logs" / "predictions").glob("*/*.jsonl")):
        if path.with_suffix(".parquet").exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
                stamp = pd.Timestamp(record["timestamp"])
            except (ValueError, KeyError, TypeError):
                continue
            if record.get("model_id") == MODEL and record.get("prediction_id"):
                rows.append((stamp, (record.get("features") or {}).get(key)))
    frames.append(pd.DataFrame(rows, columns=["timestamp", "value"]))
    frame = pd.concat(frames, ignore_index=True)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    return frame


def last_day(frame: pd.DataFrame) -> np.ndarray:
    end = frame.timestamp.max()
    window = frame[(frame.timestamp >= end - pd.Timedelta(days=1)) & (frame.timestamp <= end)]
    values: np.ndarray = np.asarray(window.value.dropna(), dtype=float)
    return values


def open_drift(demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("MONITOR_CONFIG", str(demo_dir / "monitor.toml"))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    at.switch_page("pages/drift.py").run()
    assert_no_exception(at)
    return at


def feature_rows(at: AppTest, index: int = 0) -> dict[str, dict[Any, Any]]:
    frame = at.dataframe[index].value
    return {row["feature"]: row for row in frame.to_dict("records")}


def test_drift_page_scores_match_scipy(demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_drift(demo_dir, monkeypatch)
    assert at.title[0].value == "Drift"
    assert at.sidebar.selectbox(key="filter_model").value == MODEL
    reference = pq.read_table(demo_dir / "reference" / f"{MODEL}.parquet").to_pandas()
    current = last_day(logged(demo_dir, "income"))
    rows = feature_rows(at)
    income = rows["income"]
    expected = stats.wasserstein_distance(reference.income, current) / np.std(reference.income)
    assert income["method"] == "wasserstein_norm"
    assert income["score"] == pytest.approx(expected, rel=1e-9)
    assert income["drifted"] is True
    assert rows["employment_type"]["drifted"] is True
    assert "gig_worker" in str(rows["employment_type"]["new categories"])
    assert rows["age"]["drifted"] is False
    drifted = sum(bool(r["drifted"]) for r in rows.values())
    values = {m.label: m.value for m in at.metric}
    assert values["Drifted features"] == f"{drifted} of {len(rows)}"
    assert values["Share drifted"] == f"{drifted / len(rows):.0%}"
    assert values["Dataset drift"] == ("yes" if drifted / len(rows) >= 0.5 else "no")
    assert values["Label drift"] in {"yes", "no", "n/a"}
    assert float(values["Domain classifier AUC"]) > 0.5
    assert len(at.get("plotly_chart")) >= 4

    at.selectbox(key="drift_method").set_value("ks").run()
    assert_no_exception(at)
    income = feature_rows(at)["income"]
    ks = stats.ks_2samp(reference.income, current)
    assert income["method"] == "ks" and income["score"] == pytest.approx(ks.statistic)
    assert income["p-value"] == pytest.approx(ks.pvalue, rel=1e-6, abs=1e-300)

    at.selectbox(key="drift_correction").set_value("none").run()
    assert_no_exception(at)
    income = feature_rows(at)["income"]
    assert income["adjusted p"] == pytest.approx(income["p-value"], rel=1e-12, abs=1e-300)


def test_drift_page_other_baseline_feature_and_model(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_drift(demo_dir, monkeypatch)
    at.selectbox(key=f"drift_feature_{MODEL}").set_value("employment_type").run()
    assert_no_exception(at)
    at.radio(key="drift_heat_value").set_value("p-value").run()
    assert_no_exception(at)
    at.selectbox(key=f"drift_baseline_{MODEL}").set_value("previous window").run()
    assert_no_exception(at)
    assert "previous window" in " ".join(c.value for c in at.caption)
    at.sidebar.selectbox(key="filter_model").set_value("demand-forecast").run()
    assert_no_exception(at)
    rows = feature_rows(at)
    assert {"temperature", "store_id", "promo", "price"} <= set(rows)
    assert rows["promo"]["kind"] == "binary"
