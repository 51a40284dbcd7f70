"""Columns read two ways on the pages (issue 13): the Datasets page's check before saving
lists how each will be compared, and the Drift page on an uploaded CSV/Parquet pair
says so and scores the Yes/No column as scipy does on the same counts."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.spatial import distance

from monitor.core.state import StateStore
from monitor.ops.datasets import library as datasets
from tests.ui.test_app import assert_no_exception
from tests.ui.test_datasets import (
    Pair,
    choose_pair,
    cleanup,
    csv_bytes,
    frame_with,
    open_page,
    register,
    state,
    text_of,
    unique,
)

NO_ROLES = datasets.ColumnRoles()
__all__ = ["state"]  # the fixture, shared with the Datasets page's tests


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(5)
    ref = pd.DataFrame(
        {"holiday": np.where(rng.random(300) < 0.2, "Yes", "No"), "amount": rng.normal(size=300)}
    )
    cur = pd.DataFrame({"holiday": rng.random(250) < 0.5, "amount": rng.normal(size=250)})
    return ref, cur


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    return buffer.getvalue()


def test_datasets_page_lists_how_columns_read_two_ways_compare(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref, cur = frames()
    at = open_page(demo_dir, monkeypatch, "pages/datasets.py")
    at.file_uploader(key="upload_reference").set_value(("ref.csv", csv_bytes(ref), "text/csv"))
    at.file_uploader(key="upload_current").set_value(
        ("cur.parquet", parquet_bytes(cur), "application/octet-stream")
    )
    at.run()
    assert_no_exception(at)
    compared = frame_with(at, "column", "reference", "current", "compared")
    assert compared.to_dict("records") == [
        {
            "column": "holiday",
            "reference": "text",
            "current": "boolean",
            "compared": "compared as booleans (Yes/No)",
        }
    ]


def test_drift_page_on_a_csv_and_parquet_pair(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch, state: StateStore
) -> None:
    ref, cur = frames()
    names = (unique("yesnoref"), unique("yesnocur"))
    saved = (
        register(state, demo_dir, csv_bytes(ref), "ref.csv", names[0], "reference", NO_ROLES),
        register(state, demo_dir, parquet_bytes(cur), "cur.parquet", names[1], "current", NO_ROLES),
    )
    try:
        at = open_page(demo_dir, monkeypatch, "pages/drift.py")
        choose_pair(at, Pair(*saved, ref, cur))
        assert "Read two ways" in text_of(at)
        assert "holiday: read as text from dataset" in text_of(at).replace("\\", "")
        at.selectbox(key="drift_method").set_value("jensenshannon").run()
        assert_no_exception(at)
        rows = frame_with(at, "feature", "method", "score").set_index("feature")
        counts = [
            [int((ref["holiday"] == "No").sum()), int((ref["holiday"] == "Yes").sum())],
            [int((~cur["holiday"]).sum()), int(cur["holiday"].sum())],
        ]
        assert rows.loc["holiday", "method"] == "jensenshannon"
        assert rows.loc["holiday", "score"] == pytest.approx(
            distance.jensenshannon(counts[0], counts[1], base=2), rel=1e-9
        )
    finally:
        cleanup(state, demo_dir, *names)
