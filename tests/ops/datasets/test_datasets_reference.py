"""An uploaded reference dataset attached to a model replaces monitor.toml's reference
for the model's log analyses (`references.with_uploaded_references`), in the CLI's
settings too. Checked on a copy of a small demo against a monitor.toml that points at
the same file directly (the config parser's path), and against pandas/sklearn over the
reference rows."""

from __future__ import annotations

import argparse
import shutil
import textwrap
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, roc_auc_score

from monitor.cli.common import settings as cli_settings
from monitor.core import catalog, tabular
from monitor.core.catalog import Window
from monitor.core.config import ModelConfig, Settings, load_settings
from monitor.core.state import STATE_FILE_NAME, Actor, StateStore
from monitor.core.store import LogStore
from monitor.ops.datasets import ingest, references, storage
from monitor.ops.datasets.library import ColumnRoles, Dataset
from monitor.queries import drift
from monitor.queries.performance_reference import fit_reference
from monitor.ui import drift as ui_drift

MODEL = "credit-risk"
ACTOR = Actor("ana", verified=True)
LIMIT = 50 * 1024 * 1024


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from monitor.demo import generate_demo

    path = tmp_path_factory.mktemp("demo_reference")
    generate_demo(path, days=4, predictions=3000)
    return path


@pytest.fixture
def data_dir(demo: Path, tmp_path: Path) -> Path:
    """A private copy of the demo (each test saves its own datasets)."""
    copy = tmp_path / "data"
    shutil.copytree(demo, copy)
    return copy


def _original(data_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(data_dir / "reference" / f"{MODEL}.parquet")


def _upload(
    data_dir: Path, frame: pd.DataFrame, name: str, model_id: str | None, roles: ColumnRoles
) -> Dataset:
    source = data_dir.parent / f"{name}.parquet"
    frame.to_parquet(source, index=False)
    ingested = ingest.read_path(source, max_bytes=LIMIT)
    return storage.save_dataset(
        StateStore.for_data_dir(data_dir),
        data_dir,
        ingested,
        name=name,
        role="reference",
        actor=ACTOR,
        column_roles=roles,
        model_id=model_id,
    )


def _renamed(data_dir: Path, rows: int | None = None) -> pd.DataFrame:
    """The demo's reference with the label column renamed to "y"."""
    frame = _original(data_dir).rename(columns={"label": "y"})
    return frame if rows is None else frame.head(rows)


ROLES_Y = ColumnRoles(label="y", prediction="prediction", score="probability")


def _effective(data_dir: Path) -> Settings:
    configured = load_settings(data_dir / "monitor.toml", env={})
    return references.with_uploaded_references(configured, StateStore.for_data_dir(data_dir))


def _direct(data_dir: Path, tmp_path: Path, reference: Path, model: ModelConfig) -> ModelConfig:
    """The same model from a monitor.toml that names the file and columns itself."""
    toml = tmp_path / "direct.toml"
    toml.write_text(
        textwrap.dedent(
            f"""
            data_dir = "{data_dir.as_posix()}"
            [[models]]
            id = "{MODEL}"
            task = "binary"
            positive_label = "1"
            reference = "{reference.as_posix()}"
            label_column = "y"
            prediction_column = "prediction"
            score_column = "probability"
            """
        ),
        encoding="utf-8",
    )
    direct = load_settings(toml, env={}).model(MODEL)
    # Only what this test sets differs from the demo's model (ranges, categories...).
    return ModelConfig(
        id=MODEL,
        reference=direct.reference,
        label_column=direct.label_column,
        prediction_column=direct.prediction_column,
        score_column=direct.score_column,
        task=direct.task,
        positive_label=direct.positive_label,
        sensitive_features=model.sensitive_features,
        feature_ranges=model.feature_ranges,
        feature_categories=model.feature_categories,
        feature_kinds=model.feature_kinds,
        baseline=model.baseline,
    )


def test_attached_reference_replaces_the_configured_one(data_dir: Path) -> None:
    configured = load_settings(data_dir / "monitor.toml", env={})
    saved = _upload(data_dir, _renamed(data_dir), "credit training y", MODEL, ROLES_Y)
    effective = _effective(data_dir)
    model = effective.model(MODEL)
    assert saved.path.is_file() and saved.path.parent == data_dir / "uploads"
    assert model.reference == saved.path
    assert (model.label_column, model.prediction_column, model.score_column) == (
        "y",
        "prediction",
        "probability",
    )
    before = configured.model(MODEL)
    assert (model.task, model.sensitive_features, model.feature_ranges) == (
        before.task,
        before.sensitive_features,
        before.feature_ranges,
    )
    other = configured.model("demand-forecast")
    assert effective.model("demand-forecast") == other
    assert [m.id for m in effective.models] == [m.id for m in configured.models]


def test_unset_roles_keep_the_configured_columns(data_dir: Path) -> None:
    _upload(data_dir, _renamed(data_dir), "label only", MODEL, ColumnRoles(label="y"))
    model = _effective(data_dir).model(MODEL)
    assert (model.label_column, model.prediction_column, model.score_column) == (
        "y",
        "prediction",
        "probability",
    )


def test_baseline_and_drift_equal_a_config_naming_the_file(data_dir: Path, tmp_path: Path) -> None:
    saved = _upload(data_dir, _renamed(data_dir), "credit training y", MODEL, ROLES_Y)
    uploaded = _effective(data_dir).model(MODEL)
    direct = _direct(data_dir, tmp_path, saved.path, uploaded)
    assert direct.reference == saved.path
    assert uploaded == direct
    store = LogStore(data_dir)

    fit = fit_reference(store, uploaded)
    expected = fit_reference(store, direct)
    assert fit.baseline.note is None
    # equal up to float summation order (DuckDB aggregates in parallel threads)
    assert fit.baseline.metrics.keys() == expected.baseline.metrics.keys()
    for name, metric in fit.baseline.metrics.items():
        other = expected.baseline.metrics[name]
        assert metric.n == other.n, name
        for a, b in (
            (metric.value, other.value),
            (metric.low, other.low),
            (metric.high, other.high),
        ):
            assert a == pytest.approx(b, rel=1e-12, abs=1e-15, nan_ok=True), name
    assert fit.baseline.reference_rows == expected.baseline.reference_rows
    # ...and against sklearn over the rows of the demo's own reference file.
    raw = _original(data_dir)
    assert fit.baseline.reference_rows == len(raw)
    accuracy = fit.baseline.metrics["accuracy"].value
    assert accuracy == pytest.approx(accuracy_score(raw["label"], raw["prediction"]), abs=1e-12)
    auc = fit.baseline.metrics["roc_auc"].value  # binned scores: within 1e-3 (docs)
    assert auc == pytest.approx(roc_auc_score(raw["label"], raw["probability"]), abs=1e-3)

    (info,) = [m for m in catalog.inventory(store) if m.model_id == MODEL]
    window = Window(info.first_seen, info.last_seen)
    current = tabular.log_relation(store, uploaded, window, ())
    reference = tabular.reference_relation(store, uploaded)
    assert reference.targets["label"].name == "y"
    found = drift.drift_between(store, reference, current)
    same = drift.drift_between(
        store,
        tabular.reference_relation(store, direct),
        tabular.log_relation(store, direct, window, ()),
    )
    assert [f.feature for f in found.features] == [f.feature for f in same.features]
    assert [f.score for f in found.features] == pytest.approx(
        [f.score for f in same.features], rel=1e-12, nan_ok=True
    )
    assert tabular.rows(store, reference) == len(raw)
    assert {f.feature for f in found.features} >= {"income", "age", "region"}


def test_a_model_only_in_the_logs_gets_a_config(data_dir: Path) -> None:
    frame = _renamed(data_dir, rows=500)
    saved = _upload(data_dir, frame, "shadow ref", "shadow-model", ROLES_Y)
    effective = _effective(data_dir)
    configured = load_settings(data_dir / "monitor.toml", env={})
    assert "shadow-model" not in {m.id for m in configured.models}
    added = next(m for m in effective.models if m.id == "shadow-model")
    assert added == ModelConfig(
        id="shadow-model",
        reference=saved.path,
        label_column="y",
        prediction_column="prediction",
        score_column="probability",
    )
    assert effective.model(MODEL) == configured.model(MODEL)
    # An uploaded pair attached to it still has no configured task or ranges to apply.
    assert ui_drift.attached_model(effective, saved) is None
    credit = _upload(data_dir, _renamed(data_dir, rows=700), "credit ref", MODEL, ROLES_Y)
    assert ui_drift.attached_model(_effective(data_dir), credit) == replace(
        configured.model(MODEL), reference=credit.path, label_column="y"
    )


def test_newest_wins_and_delete_falls_back(data_dir: Path) -> None:
    configured = load_settings(data_dir / "monitor.toml", env={})
    state = StateStore.for_data_dir(data_dir)
    older = _upload(data_dir, _renamed(data_dir, rows=1000), "older", MODEL, ROLES_Y)
    newer = _upload(
        data_dir, _original(data_dir).head(2000), "newer", MODEL, ColumnRoles(label="label")
    )
    # A current dataset or an unattached reference never counts.
    current = storage.save_dataset(
        state,
        data_dir,
        ingest.read_path(data_dir.parent / "older.parquet", max_bytes=LIMIT),
        name="a current one",
        role="current",
        actor=ACTOR,
        model_id=MODEL,
    )
    assert current.role == "current"
    assert _effective(data_dir).model(MODEL).reference == newer.path
    assert _effective(data_dir).model(MODEL).label_column == "label"

    storage.delete_dataset(state, data_dir, "newer", ACTOR)
    model = _effective(data_dir).model(MODEL)
    assert (model.reference, model.label_column) == (older.path, "y")

    storage.delete_dataset(state, data_dir, "older", ACTOR)
    assert _effective(data_dir) == configured
    assert configured.model(MODEL).reference == data_dir / "reference" / f"{MODEL}.parquet"


def test_cli_settings_use_the_upload_only_when_a_state_file_exists(data_dir: Path) -> None:
    args = argparse.Namespace(config=str(data_dir / "monitor.toml"), data_dir=None)
    state_file = data_dir / STATE_FILE_NAME
    assert not state_file.exists()
    plain = cli_settings(args)
    assert not state_file.exists(), "a read-only command created the state database"
    assert plain.model(MODEL).reference == data_dir / "reference" / f"{MODEL}.parquet"

    saved = _upload(data_dir, _renamed(data_dir), "for the cli", MODEL, ROLES_Y)
    model = cli_settings(args).model(MODEL)
    assert (model.reference, model.label_column) == (saved.path, "y")
