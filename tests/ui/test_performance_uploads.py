"""The Performance page on an uploaded pair: the label-free estimates it shows are the
numbers `monitor estimate --json` prints for the same files, for each task the pair's
roles call for (NannyML's car-loan, multiclass and regression data)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from monitor.core.state import Actor, StateStore
from monitor.ops.datasets import ingest, storage
from monitor.ops.datasets import library as datasets
from tests.estimate_support import (
    ANALYSIS,
    MULTICLASS_COLUMNS,
    MULTICLASS_FILES,
    REFERENCE,
    REGRESSION_COLUMNS,
    REGRESSION_FILES,
    estimate_json,
)
from tests.nannyml_support import NANNYML
from tests.ui.test_app import APP, assert_no_exception

TESTER = Actor("estimate tester")
ROLES = datasets.ColumnRoles(label="repaid", prediction="y_pred", score="y_pred_proba")
NUMBERS = ("estimate", "lower", "upper", "realized")
DOCUMENT_KEYS = {"estimate": "value", "lower": "lower", "upper": "upper", "realized": "realized"}


@contextlib.contextmanager
def uploaded(
    data_dir: Path,
    roles: datasets.ColumnRoles = ROLES,
    files: tuple[Path, Path] = (REFERENCE, ANALYSIS),
) -> Iterator[tuple[datasets.Dataset, datasets.Dataset]]:
    """The pair of `files` (default: car loan) registered under names of this call's own
    (removed afterwards)."""
    state = StateStore.for_data_dir(data_dir)
    suffix = uuid.uuid4().hex[:8]
    saved = []
    try:
        for path, role in zip(files, ("reference", "current"), strict=True):
            ingested = ingest.read_path(path, max_bytes=50 * 1024 * 1024)
            saved.append(
                storage.save_dataset(
                    state,
                    data_dir,
                    ingested,
                    name=f"carloan{role}{suffix}",
                    role=role,  # type: ignore[arg-type]
                    actor=TESTER,
                    column_roles=roles,
                )
            )
        yield saved[0], saved[1]
    finally:
        for dataset in saved:
            storage.delete_dataset(state, data_dir, dataset.name, TESTER)
        state.close()


def open_on_pair(
    demo_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    pair: tuple[datasets.Dataset, datasets.Dataset],
) -> AppTest:
    monkeypatch.setenv("MONITOR_CONFIG", str(demo_dir / "monitor.toml"))
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.run()
    at.switch_page("pages/performance.py").run()
    at.sidebar.radio(key="source_kind").set_value("uploads").run()
    at.sidebar.selectbox(key="source_reference").set_value(pair[0].name)
    at.sidebar.selectbox(key="source_current").set_value(pair[1].name)
    at.run()
    assert_no_exception(at)
    return at


def cli_document(*args: str) -> dict[str, Any]:
    return estimate_json(*args)


def shown_table(at: AppTest) -> pd.DataFrame:
    for element in at.dataframe:
        frame = element.value
        if {"chunk", "metric", *NUMBERS} <= set(frame.columns):
            return frame
    raise AssertionError("no estimate table on the page")


def assert_same_numbers(frame: pd.DataFrame, document: dict[str, Any]) -> None:
    chunks = document["chunks"]
    assert len(frame) == sum(len(c["metrics"]) for c in chunks) > 0
    for row in frame.to_dict("records"):
        chunk = chunks[int(row["chunk"])]
        assert int(row["rows"]) == chunk["rows"]
        found = chunk["metrics"][row["metric"]]
        for column, key in DOCUMENT_KEYS.items():
            expected = found[key]
            if expected is None:
                assert pd.isna(row[column])
            else:
                assert row[column] == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_the_page_shows_the_clis_estimates_of_the_same_files(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = ("--reference", str(REFERENCE), "--current", str(ANALYSIS))
    columns = ("--label", "repaid", "--score", "y_pred_proba", "--prediction", "y_pred")
    with uploaded(demo_dir) as pair:
        at = open_on_pair(demo_dir, monkeypatch, pair)
        frame = shown_table(at)  # the default: 10 equal chunks, as the command's
        document = cli_document(*files, *columns)
        assert len(document["chunks"]) == 10
        assert set(frame["metric"]) >= {"accuracy", "precision", "recall", "f1"}
        assert_same_numbers(frame, document)
        assert len(at.get("plotly_chart")) >= 1
        assert not at.warning

        at.number_input(key="performance_upload_chunk_size").set_value(12000).run()
        assert_no_exception(at)
        document = cli_document(*files, *columns, "--chunk-size", "12000")
        assert [c["rows"] for c in document["chunks"]] == [12000] * 4 + [2000]
        assert_same_numbers(shown_table(at), document)
        assert len(at.warning) == len(document["warnings"]) == 1  # the short last chunk

        # By week of the timestamp column, as --chunk-by timestamp:week.
        at.selectbox(key="performance_upload_chunk_by").set_value("timestamp").run()
        at.selectbox(key="performance_upload_period").set_value("week").run()
        assert_no_exception(at)
        weekly = cli_document(*files, *columns, "--chunk-by", "timestamp:week")
        frame = shown_table(at)
        assert_same_numbers(frame, weekly)
        starts = [str(c["start"]) for c in weekly["chunks"]]
        assert sorted(set(frame["start"])) == sorted(
            str(pd.Timestamp(s).tz_convert("UTC")) for s in starts
        )


def test_a_pair_without_scores_says_what_is_missing(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_score = datasets.ColumnRoles(label="repaid", prediction="y_pred")
    with uploaded(demo_dir, without_score) as pair:
        at = open_on_pair(demo_dir, monkeypatch, pair)
        text = " ".join(str(i.value) for i in at.info).replace("\\", "")
        assert "need a score column in the reference" in text
        assert not [e for e in at.dataframe if "metric" in e.value.columns]


def chunk_warnings(at: AppTest) -> list[str]:
    """The lines of the page's expander of warnings about single chunks."""
    text = " ".join(str(m.value) for m in at.markdown).replace("\\", "")
    return [line.strip() for line in text.split("- chunk ")[1:]]


def test_a_multiclass_pair_shows_the_clis_multiclass_estimates(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No score role: the numeric columns named after the classes are the scores."""
    roles = datasets.ColumnRoles(label="y_true", prediction="y_pred")
    files = (NANNYML / "multiclass_reference.parquet", NANNYML / "multiclass_analysis.parquet")
    with uploaded(demo_dir, roles, files) as pair:
        at = open_on_pair(demo_dir, monkeypatch, pair)
        assert not [r for r in at.radio if r.key == "performance_upload_task"]  # one task fits
        document = cli_document(*MULTICLASS_FILES, *MULTICLASS_COLUMNS, "--prediction", "y_pred")
        assert document["task"] == "multiclass"
        frame = shown_table(at)
        assert set(frame["metric"]) == {"accuracy", "precision", "recall", "f1", "roc_auc"}
        assert_same_numbers(frame, document)
        expected = [
            f"{c['chunk']}: {w}".replace("(", "").replace(")", "")
            for c in document["chunks"]
            for w in c["warnings"]
        ]
        assert len(expected) == 5  # the drifted half
        shown = [line.replace("(", "").replace(")", "") for line in chunk_warnings(at)]
        assert [s[: len(e)] for s, e in zip(shown, expected, strict=True)] == expected


def test_a_regression_pair_shows_the_clis_regression_estimates(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    roles = datasets.ColumnRoles(label="y_true", prediction="y_pred", ids=("id",))
    files = (NANNYML / "regression_reference.parquet", NANNYML / "regression_analysis.parquet")
    with uploaded(demo_dir, roles, files) as pair:
        at = open_on_pair(demo_dir, monkeypatch, pair)
        document = cli_document(*REGRESSION_FILES, *REGRESSION_COLUMNS, "--id", "id")
        assert document["task"] == "regression"
        frame = shown_table(at)
        assert set(frame["metric"]) == {"mae", "rmse"}
        assert_same_numbers(frame, document)
        assert not at.warning and not chunk_warnings(at)


def test_a_pair_fitting_two_tasks_gets_a_selector(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A score role on one class's column fits a binary model too: binary first (its
    label has three values: an error), multiclass when chosen."""
    roles = datasets.ColumnRoles(
        label="y_true", prediction="y_pred", score="y_pred_proba_prepaid_card"
    )
    files = (NANNYML / "multiclass_reference.parquet", NANNYML / "multiclass_analysis.parquet")
    with uploaded(demo_dir, roles, files) as pair:
        at = open_on_pair(demo_dir, monkeypatch, pair)
        task = at.radio(key="performance_upload_task")
        assert task.options == ["binary", "multiclass"] and task.value == "binary"
        errors = " ".join(str(e.value) for e in at.error).replace("\\", "")
        assert "holds more than two values" in errors
        task.set_value("multiclass").run()
        assert_no_exception(at)
        document = cli_document(*MULTICLASS_FILES, *MULTICLASS_COLUMNS, "--prediction", "y_pred")
        assert_same_numbers(shown_table(at), document)
