"""Helpers for the rollup tests: copies of a demo, running the job, reading the rollups the
way a reader must (the files the manifest names), comparing them, and the raw logs read
independently (tests/performance_truth.py: json, pyarrow and pandas)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from monitor.core.config import load_settings
from monitor.ops.rollup.duckdb_engine import DuckDBEngine
from monitor.ops.rollup.job import RollupReport, run_rollup
from monitor.ops.rollup.manifest import MANIFEST_PATH
from monitor.ops.rollup.storage import storage_for
from tests import performance_truth as truth


def copy_demo(demo_dir: Path, target: Path) -> Path:
    """A writable copy of a demo (logs, references, monitor.toml with data_dir = ".")."""
    shutil.copytree(demo_dir, target, ignore=shutil.ignore_patterns("rollups", "state.sqlite*"))
    return target


def rollup(data_dir: Path, *, full: bool = False) -> RollupReport:
    settings = load_settings(data_dir / "monitor.toml", env={})
    return run_rollup(DuckDBEngine(data_dir), settings, storage_for(data_dir), full=full)


def manifest(data_dir: Path) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((data_dir / MANIFEST_PATH).read_text(encoding="utf-8"))
    return found


def read_rollup(data_dir: Path, table: str) -> pd.DataFrame:
    """Every file of a table that the manifest names, concatenated."""
    days = manifest(data_dir)["tables"][table]["days"]
    frames = [pq.read_table(data_dir / entry["file"]).to_pandas() for entry in days.values()]
    found: pd.DataFrame = pd.concat(frames, ignore_index=True)
    return found


def rollup_files(data_dir: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every rollup file the manifest names."""
    found: dict[str, bytes] = {}
    for state in manifest(data_dir)["tables"].values():
        for entry in state["days"].values():
            found[entry["file"]] = (data_dir / entry["file"]).read_bytes()
    return found


FEATURES: tuple[str, ...] = ("income", "credit_score", "employment_type", "gender", "age_group")
"""The demo features the tests check, as columns `features.<key>`."""


def raw_predictions(data_dir: Path) -> pd.DataFrame:
    """Every valid prediction (tests/performance_truth.py: json and pyarrow, not the
    store), with `hour`, version '' when none and the FEATURES as `features.<key>`."""
    found = truth.read_predictions(data_dir, FEATURES)
    found = found.rename(columns={key: f"features.{key}" for key in FEATURES})
    found["hour"] = found["timestamp"].dt.floor("h")
    found["model_version"] = found["model_version"].fillna("")
    for column in ("latency_ms", "probability", "features.income", "features.credit_score"):
        found[column] = pd.to_numeric(found[column])
    return found


def labeled_predictions(data_dir: Path) -> pd.DataFrame:
    """Predictions with the label of their latest feedback record, else the inline one."""
    found = raw_predictions(data_dir)
    feedback = truth.read_feedback(data_dir).sort_values("timestamp", kind="stable")
    latest = feedback.groupby("prediction_id")["label"].last()
    labels = found["prediction_id"].map(latest)
    found["label"] = labels.where(found["prediction_id"].isin(latest.index), found["label"])
    found["label"] = found["label"].where(found["label"].notna(), None)
    return found


def assert_equal_to_rebuild(data_dir: Path, scratch: Path) -> None:
    """The rollups of `data_dir` equal those of a copy rolled up from scratch."""
    fresh = scratch / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(data_dir, fresh, ignore=shutil.ignore_patterns("rollups"))
    rollup(fresh)
    mine, theirs = rollup_files(data_dir), rollup_files(fresh)
    assert sorted(mine) == sorted(theirs)
    for path in mine:
        assert_tables_equal(pq.read_table(data_dir / path), pq.read_table(fresh / path), path)


def assert_tables_equal(found: pa.Table, expected: pa.Table, what: str = "") -> None:
    """Same schema and rows; counts, keys and texts exactly, floats to 1e-9 (sums of the
    same values in another order: parallel aggregation, another engine)."""
    assert found.schema == expected.schema, what
    assert found.num_rows == expected.num_rows, what
    for name in found.column_names:
        mine, theirs = found.column(name), expected.column(name)
        if pa.types.is_floating(mine.type):
            a = mine.to_numpy(zero_copy_only=False).astype(float)
            b = theirs.to_numpy(zero_copy_only=False).astype(float)
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, err_msg=f"{what} {name}")
        else:
            assert mine.to_pylist() == theirs.to_pylist(), f"{what} {name}"
