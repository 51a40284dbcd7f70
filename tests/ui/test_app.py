"""The Streamlit app run headless with AppTest, checked against counts read from the raw files.

The expected numbers come from reading the demo's Parquet and JSONL files directly with
pyarrow, json and pandas, following docs/log-format.md, never through monitor.core.store.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO_ROOT

APP = REPO_ROOT / "app.py"
METRIC_LABELS = (
    "Predictions",
    "Error rate",
    "Latency p50",
    "Latency p95",
    "Latency p99",
    "Invalid records",
)


# -- independent reading of the raw log files ------------------------------------------------


def _jsonl_rows(path: Path) -> list[tuple[Any, str]]:
    """(raw timestamp, model_id) of every line that can be a valid prediction record.

    Timestamps are checked later (all at once); lines that are not JSON objects or lack a
    prediction_id or model_id are invalid records and skipped."""
    rows: list[tuple[Any, str]] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(record, dict):
                continue
            pid, model = record.get("prediction_id"), record.get("model_id")
            if not (isinstance(pid, str) and pid and isinstance(model, str) and model):
                continue
            rows.append((record.get("timestamp"), model))
    return rows


def _parse_timestamps(raw: list[Any]) -> pd.Series:
    """ISO 8601 text (no offset = UTC) or epoch milliseconds -> UTC; NaT when unreadable."""
    values = pd.Series(raw, dtype=object)
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us, UTC]")
    is_text = values.map(lambda v: isinstance(v, str))
    is_number = values.map(lambda v: isinstance(v, int | float) and not isinstance(v, bool))
    if is_text.any():
        parsed[is_text] = pd.to_datetime(
            values[is_text], format="ISO8601", utc=True, errors="coerce"
        ).astype("datetime64[us, UTC]")
    if is_number.any():
        parsed[is_number] = pd.to_datetime(
            values[is_number].astype("float64"), unit="ms", utc=True, errors="coerce"
        ).astype("datetime64[us, UTC]")
    return parsed


def read_predictions(data_dir: Path) -> pd.DataFrame:
    """Columns `timestamp` (UTC) and `model_id` of every valid prediction record on disk."""
    root = data_dir / "logs" / "predictions"
    frames: list[pd.DataFrame] = []
    jsonl_raw: list[tuple[Any, str]] = []
    for partition in sorted(root.glob("date=*")):
        files = [p for p in sorted(partition.iterdir()) if not p.name.startswith(".")]
        parquet_stems = {p.stem for p in files if p.suffix == ".parquet"}
        for path in files:
            if path.suffix == ".parquet":
                table = pq.read_table(path, columns=["timestamp", "model_id"])
                frame = table.to_pandas()
                frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).astype(
                    "datetime64[us, UTC]"
                )
                frames.append(frame)
            elif path.suffix == ".jsonl" and path.stem not in parquet_stems:
                jsonl_raw.extend(_jsonl_rows(path))
    if jsonl_raw:
        jsonl = pd.DataFrame(
            {
                "timestamp": _parse_timestamps([ts for ts, _ in jsonl_raw]),
                "model_id": [model for _, model in jsonl_raw],
            }
        )
        frames.append(jsonl.dropna(subset=["timestamp"]))
    assert frames, f"no prediction logs under {root}"
    combined = pd.concat(frames, ignore_index=True)
    return combined.dropna(subset=["timestamp", "model_id"])


@pytest.fixture(scope="module")
def predictions(demo_dir: Path) -> pd.DataFrame:
    return read_predictions(demo_dir)


def count_in_window(predictions: pd.DataFrame, model_id: str, span: dt.timedelta | None) -> int:
    """Predictions of a model in the `span` ending at its newest one (both ends inclusive)."""
    rows = predictions[predictions["model_id"] == model_id]
    if span is None:
        return len(rows)
    end = rows["timestamp"].max()
    start = end - pd.Timedelta(span)
    return int(((rows["timestamp"] >= start) & (rows["timestamp"] <= end)).sum())


# -- running the app ----------------------------------------------------------------------------


def run_app(config: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("MONITOR_CONFIG", str(config))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    return at


def metric_values(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def as_count(value: str) -> int:
    digits = value.replace(",", "")
    assert digits.isdigit(), f"not a whole number: {value!r}"
    return int(digits)


def assert_no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_overview_default_filters_show_last_24_hours_of_first_model(
    demo_dir: Path, predictions: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = run_app(demo_dir / "monitor.toml", monkeypatch)
    assert_no_exception(at)

    model_box = at.sidebar.selectbox(key="filter_model")
    assert set(model_box.options) == set(predictions["model_id"].unique())
    model_id = model_box.options[0]
    assert model_box.value == model_id
    assert at.sidebar.selectbox(key="filter_window").value == "Last 24 hours"

    values = metric_values(at)
    assert set(METRIC_LABELS) <= set(values), values
    # the at-a-glance card of every model sits above the detail tiles
    assert {"Served", "Errors", "p95"} <= set(values), values
    # Drift and Fairness verdicts are badges from the findings (no truncated metric text)
    verdicts = [m.value for m in at.markdown if m.value.startswith(("Drift", "Fairness"))]
    assert len(verdicts) == 2 * len(at.session_state["monitor_context"].models), verdicts
    assert all("-badge[" in v for v in verdicts), verdicts
    expected = count_in_window(predictions, model_id, dt.timedelta(days=1))
    assert expected > 0
    assert as_count(values["Predictions"]) == expected
    assert values["Error rate"].endswith("%")
    for name in ("Latency p50", "Latency p95", "Latency p99"):
        assert values[name].endswith(" ms"), (name, values[name])
        float(values[name].removesuffix(" ms").replace(",", ""))
    as_count(values["Invalid records"])


def test_all_data_window_shows_the_models_total(
    demo_dir: Path, predictions: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = run_app(demo_dir / "monitor.toml", monkeypatch)
    assert_no_exception(at)
    model_id = at.sidebar.selectbox(key="filter_model").options[0]
    day = as_count(metric_values(at)["Predictions"])

    at.sidebar.selectbox(key="filter_window").set_value("All data").run()
    assert_no_exception(at)
    assert at.sidebar.selectbox(key="filter_window").value == "All data"
    assert at.sidebar.selectbox(key="filter_model").value == model_id
    total = as_count(metric_values(at)["Predictions"])
    assert total == count_in_window(predictions, model_id, None)
    assert total > day  # 14 days of demo traffic are more than the last day's


def test_invalid_config_shows_an_error_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text('[[models]]\nid = "x"\ntask = "nope"\n', encoding="utf-8")
    at = run_app(config, monkeypatch)
    assert_no_exception(at)
    errors = [e.value for e in at.error]
    assert len(errors) == 1, errors
    assert "task" in errors[0]
    assert not at.metric


def test_a_finding_link_sets_the_filters_once(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The Overview's Explain links carry ?model=&version=&window=: the linked page opens
    on that model, version and window; the user's own choice afterwards stands."""
    import shutil

    data = tmp_path / "demo"
    shutil.copytree(demo_dir, data, ignore=shutil.ignore_patterns("state.sqlite*"))
    monkeypatch.setenv("MONITOR_CONFIG", str(data / "monitor.toml"))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["model"] = "credit-risk"
    at.query_params["version"] = "v3"
    at.query_params["window"] = "Last 7 days"
    at.run()
    assert not at.exception
    assert at.selectbox(key="filter_model").value == "credit-risk"
    assert at.multiselect(key="filter_versions_credit-risk").value == ["v3"]
    assert at.selectbox(key="filter_window").value == "Last 7 days"
    at.selectbox(key="filter_window").select("Last 24 hours").run()
    assert at.selectbox(key="filter_window").value == "Last 24 hours"
    unknown = AppTest.from_file(str(APP), default_timeout=60)
    unknown.query_params["model"] = "no-such-model"
    unknown.run()
    assert not unknown.exception
    assert unknown.selectbox(key="filter_model").value == "credit-risk"


def test_a_missing_reference_shows_drift_as_unknown_with_the_reason(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The Overview never shows a model's drift as fine when its reference file is gone:
    the verdict is unknown, and a warning names the setting and the path."""
    import shutil

    from monitor.demo import demo_config_toml

    data = tmp_path / "demo"
    shutil.copytree(demo_dir, data, ignore=shutil.ignore_patterns("state.sqlite*"))
    (data / "reference" / "credit-risk.parquet").unlink()
    at = run_app(data / "monitor.toml", monkeypatch)
    assert_no_exception(at)
    setting = f"models[0].reference = 'reference/credit-risk.parquet' in {data / 'monitor.toml'}"
    shown = [w.value.replace("\\", "") for w in at.warning]  # markdown escapes undone
    warnings = [w for w in shown if w.startswith("Unknown: credit-risk: ")]
    assert len(warnings) == 1 and setting in warnings[0], shown
    assert "does not exist" in warnings[0]
    verdicts = [m.value for m in at.markdown if m.value.startswith("Drift")]
    assert len(verdicts) == 2, verdicts
    assert sum("gray-badge" in v and "unknown" in v for v in verdicts) == 1, verdicts
    assert demo_config_toml(".") == (data / "monitor.toml").read_text(encoding="utf-8")
