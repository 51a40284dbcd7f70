"""The Drift page on a model whose reference is an uploaded dataset: the caption names
the upload, and the cached scores follow the new reference (scipy on the raw rows)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from streamlit.testing.v1 import AppTest

from monitor.core.state import Actor, StateStore
from monitor.ops.datasets import ingest, storage
from monitor.ops.datasets.library import ColumnRoles
from tests.ui.test_app import APP, assert_no_exception
from tests.ui.test_drift import MODEL, feature_rows, last_day, logged


def _caption(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


def _ks(reference: pd.Series, current: np.ndarray) -> float:
    return float(stats.ks_2samp(reference, current).statistic)


def test_drift_page_uses_the_uploaded_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.demo import generate_demo

    data_dir = tmp_path / "data"
    generate_demo(data_dir, days=4, predictions=3000)
    monkeypatch.setenv("MONITOR_CONFIG", str(data_dir / "monitor.toml"))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    at.switch_page("pages/drift.py").run()
    at.selectbox(key="drift_method").set_value("ks").run()
    assert_no_exception(at)
    configured = pd.read_parquet(data_dir / "reference" / f"{MODEL}.parquet")
    current = last_day(logged(data_dir, "income"))
    assert f"{MODEL}.parquet" in _caption(at)
    first = feature_rows(at)["income"]["score"]
    assert first == pytest.approx(_ks(configured.income, current), rel=1e-9)

    # The user uploads a smaller training set (label renamed) and attaches it.
    upload = configured[configured.income > configured.income.median()].rename(
        columns={"label": "y"}
    )
    source = tmp_path / "richer half.parquet"
    upload.to_parquet(source, index=False)
    storage.save_dataset(
        StateStore.for_data_dir(data_dir),
        data_dir,
        ingest.read_path(source, max_bytes=50 * 1024 * 1024),
        name="richer half",
        role="reference",
        actor=Actor("ana", verified=True),
        column_roles=ColumnRoles(label="y", prediction="prediction", score="probability"),
        model_id=MODEL,
    )
    at.run()  # same logs (same store version): only the reference changed
    assert_no_exception(at)
    assert "uploaded dataset 'richer half'" in _caption(at)
    score = feature_rows(at)["income"]["score"]
    assert score == pytest.approx(_ks(upload.income, current), rel=1e-9)
    assert score != pytest.approx(first)

    at.switch_page("pages/performance.py").run()
    assert_no_exception(at)
