"""The Drift page under AppTest; its scores checked against scipy on the raw demo files."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from scipy import stats
from streamlit.testing.v1 import AppTest

from monitor.core.config import load_settings
from monitor.core.store import LogStore
from monitor.findings.evaluate import evaluate
from monitor.findings.model import Findings
from monitor.metrics.drift.pvalue import format_p_value
from monitor.ui.context import escape_markdown
from tests.metrics.drift.test_drift import psi_numpy
from tests.ui.test_app import APP, assert_no_exception

MODEL = "credit-risk"


def logged(demo_dir: Path, key: str, *, output: bool = False) -> pd.DataFrame:
    """timestamp and value of a credit-risk feature (with `output`: of a top-level column
    such as probability) in every valid prediction record."""
    frames = []
    column = key if output else f"features.{key}"
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
                found = record.get(key) if output else (record.get("features") or {}).get(key)
                rows.append((stamp, found))
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
    # No "Dataset drift" tile of its own (issue 12): the dataset_drift finding is the verdict.
    assert "Dataset drift" not in values
    assert values["Label drift"] in {"yes", "no", "n/a"}
    assert float(values["Domain classifier AUC"]) > 0.5
    assert len(at.get("plotly_chart")) >= 4

    at.selectbox(key="drift_method").set_value("ks").run()
    assert_no_exception(at)
    income = feature_rows(at)["income"]
    ks = stats.ks_2samp(reference.income, current)
    assert income["method"] == "ks" and income["score"] == pytest.approx(ks.statistic)
    # P-values are text from one function (issue 12), no longer floats the grid prints.
    assert income["p-value"] == format_p_value(ks.pvalue)

    at.selectbox(key="drift_correction").set_value("none").run()
    assert_no_exception(at)
    income = feature_rows(at)["income"]
    assert income["adjusted p"] == income["p-value"]


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


# -- one verdict per question (issue 12) ------------------------------------------------------


def output_rows(at: AppTest) -> dict[str, dict[Any, Any]]:
    return {row["output"]: row for row in at.dataframe[1].value.to_dict("records")}


def drift_findings(demo_dir: Path) -> Findings:
    settings = load_settings(demo_dir / "monitor.toml", env={})
    store = LogStore(demo_dir)
    try:
        return evaluate(store, settings, dt.datetime.now(dt.UTC))
    finally:
        store.close()


def test_the_page_shows_the_drift_findings_in_the_overviews_words(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Contradiction 1: the page's verdict is the model's drift findings (the Overview's),
    and its tiles state what was measured against the dataset-drift rule's share."""
    at = open_drift(demo_dir, monkeypatch)
    found = drift_findings(demo_dir)
    problems = [f for f in found.problems(MODEL) if f.page == "drift"]
    assert {f.series.labels.get("feature") for f in problems} >= {"income", "employment_type"}
    lines = [m.value for m in at.markdown if "· rule `" in m.value]
    assert len(lines) == len(problems)
    for line, finding in zip(lines, problems, strict=True):
        subject, headline = escape_markdown(finding.subject), escape_markdown(finding.headline)
        assert f"**{subject}**: {headline}" in line
        assert f"**{finding.severity}**" in line and f"rule `{finding.rule.id}`" in line

    rows = feature_rows(at)
    drifted = sum(bool(r["drifted"]) for r in rows.values())
    share = next(f for f in found.found if f.model_id == MODEL and f.rule.id == "dataset_drift")
    assert share.value == pytest.approx(drifted / len(rows))  # same window, same features
    captions = " ".join(c.value for c in at.caption)
    assert escape_markdown(f"dataset_drift: {share.headline}") in captions
    assert f"{drifted} of {len(rows)} features drifted ({drifted / len(rows):.0%})" in captions
    assert "The dataset_drift rule needs 50% of the features." in captions
    values = {m.label: m.value for m in at.metric}
    assert "Dataset drift" not in values and values["Multivariate drift"] == "yes"

    # The PSI the finding judges is the table's PSI, and numpy's.
    income = next(f for f in problems if f.series.labels.get("feature") == "income")
    at.selectbox(key="drift_method").set_value("psi").run()
    assert_no_exception(at)
    reference = pq.read_table(demo_dir / "reference" / f"{MODEL}.parquet").to_pandas()
    expected = psi_numpy(reference.income.to_numpy(), last_day(logged(demo_dir, "income")))
    assert feature_rows(at)["income"]["score"] == pytest.approx(income.value, rel=1e-9)
    assert income.value == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("method", ["auto", "ks"])
def test_a_drifted_row_never_reads_ok(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    """Contradiction 2: the drifted column and the status column are one decision."""
    at = open_drift(demo_dir, monkeypatch)
    if method != "auto":
        at.selectbox(key="drift_method").set_value(method).run()
        assert_no_exception(at)
    rows = [*feature_rows(at).values(), *output_rows(at).values()]
    assert any(r["drifted"] for r in rows) and any(r["status"] == "ok" for r in rows)
    for row in rows:
        assert bool(row["drifted"]) == (row["status"] == "drifted"), row
    assert feature_rows(at)["income"]["status"] == "drifted"


def test_prediction_drift_reads_the_prediction_and_probability_rows(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Contradiction 3: a drifted probability row makes the prediction-drift tile say so."""
    at = open_drift(demo_dir, monkeypatch)
    outputs = output_rows(at)
    values = {m.label: m.value for m in at.metric}
    either = outputs["prediction"]["drifted"] or outputs["probability"]["drifted"]
    assert values["Prediction drift"] == ("yes" if either else "no")
    probability = outputs["probability"]
    assert probability["drifted"] and values["Prediction drift"] == "yes"
    reference = pq.read_table(demo_dir / "reference" / f"{MODEL}.parquet").to_pandas()
    current = last_day(logged(demo_dir, "probability", output=True))
    expected = stats.wasserstein_distance(reference.probability, current) / np.std(
        reference.probability
    )
    assert probability["method"] == "wasserstein_norm"
    assert probability["score"] == pytest.approx(expected, rel=1e-9)
    helps = {m.label: m.help for m in at.metric}
    assert f"probability: wasserstein_norm {expected:.3g} >= 0.1" in (helps["Prediction drift"])


def test_p_values_are_written_by_one_function(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Contradiction 5: a tiny adjusted p-value is '1.67e-39', never forty zeros; the
    number is scipy's (KS and the two-proportion z-test, Benjamini-Hochberg)."""
    at = open_drift(demo_dir, monkeypatch)
    reference = pq.read_table(demo_dir / "reference" / f"{MODEL}.parquet").to_pandas()
    probability = last_day(logged(demo_dir, "probability", output=True))
    prediction = last_day(logged(demo_dir, "prediction", output=True))
    big = max(len(reference), len(probability)) > 10_000
    p_ks = stats.ks_2samp(
        reference.probability, probability, method="asymp" if big else "auto"
    ).pvalue
    x1, n1 = float(reference.prediction.sum()), len(reference)
    x2, n2 = float(prediction.sum()), len(prediction)
    pooled = (x1 + x2) / (n1 + n2)
    z = (x2 / n2 - x1 / n1) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    p_z = 2 * stats.norm.sf(abs(z))
    adjusted = stats.false_discovery_control([p_z, p_ks])
    outputs = output_rows(at)
    assert outputs["prediction"]["adjusted p"] == format_p_value(adjusted[0])
    assert outputs["probability"]["adjusted p"] == format_p_value(adjusted[1])
    assert float(outputs["probability"]["adjusted p"]) == pytest.approx(adjusted[1], rel=5e-3)
    cells = [r[c] for r in feature_rows(at).values() for c in ("p-value", "adjusted p")]
    cells += [r["adjusted p"] for r in outputs.values()]
    for cell in cells:
        assert pd.isna(cell) or (isinstance(cell, str) and not re.search(r"0\.0000", cell)), cell
