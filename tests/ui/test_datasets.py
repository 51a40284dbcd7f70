"""The Datasets page and the sidebar's data source under AppTest.

Uploads go through AppTest's `file_uploader` (Streamlit 1.67 registers the bytes like a
browser upload). The analyses of an uploaded pair are checked against scipy, pandas and
fairlearn run on the same files, read with pandas (never through monitor).

The pair: tests/data/compas_for_aequitas.csv as current, a seeded 30% sample of it as
reference with a seeded 5% of `age_cat` blanked (a known missing share). Each test
shuffles the rows with a seed of its own: the statistics do not depend on row order,
and the bytes (hence the sha256) differ from any other test's upload of the same file,
so the duplicate check never meets another test's dataset in the shared state.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, selection_rate
from scipy import stats
from scipy.spatial import distance
from streamlit.testing.v1 import AppTest

from monitor.core.state import Actor, StateStore
from monitor.ops.datasets import ingest, storage
from monitor.ops.datasets import library as datasets
from monitor.ui import datasets as ui_datasets
from tests.conftest import REPO_ROOT
from tests.ui.test_app import APP, assert_no_exception

COMPAS = REPO_ROOT / "tests" / "data" / "compas_for_aequitas.csv"
MAX_BYTES = 50 * 1024 * 1024
TESTER = Actor("dataset tester")
HOSTILE = "<script>alert(1)</script>"


def reference_frame() -> pd.DataFrame:
    """The seeded 30% sample, with 5% of age_cat blanked (seeded)."""
    frame = pd.read_csv(COMPAS).sample(frac=0.3, random_state=7).reset_index(drop=True)
    blank = np.random.default_rng(11).random(len(frame)) < 0.05
    frame.loc[blank, "age_cat"] = None
    return frame


def shuffled(frame: pd.DataFrame) -> pd.DataFrame:
    """The same rows in an order of this call's own (new bytes, same statistics)."""
    return frame.sample(frac=1.0, random_state=uuid.uuid4().int % 2**32).reset_index(drop=True)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


def unique(prefix: str) -> str:
    """A name no other test uses (letters and digits only: shown as is in markdown)."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Pair:
    reference: datasets.Dataset
    current: datasets.Dataset
    reference_frame: pd.DataFrame
    current_frame: pd.DataFrame


COMPAS_ROLES = datasets.ColumnRoles(
    label="label_value", prediction="score", sensitive=("race", "sex")
)


def register(
    state: StateStore,
    data_dir: Path,
    data: bytes,
    source: str,
    name: str,
    role: datasets.Role,
    roles: datasets.ColumnRoles = COMPAS_ROLES,
) -> datasets.Dataset:
    ingested = ingest.read_upload(data, source, max_bytes=MAX_BYTES)
    return storage.save_dataset(
        state, data_dir, ingested, name=name, role=role, actor=TESTER, column_roles=roles
    )


def cleanup(state: StateStore, data_dir: Path, *names: str) -> None:
    existing = {d.name for d in datasets.list_datasets(state)}
    for name in names:
        if name in existing:
            storage.delete_dataset(state, data_dir, name, TESTER)


@pytest.fixture
def state(demo_dir: Path) -> Iterator[StateStore]:
    store = StateStore.for_data_dir(demo_dir)
    try:
        yield store
    finally:
        store.close()


@contextlib.contextmanager
def registered_pair(
    demo_dir: Path, state: StateStore, roles: datasets.ColumnRoles = COMPAS_ROLES
) -> Iterator[Pair]:
    """The compas pair registered under unique names with `roles` (removed afterwards)."""
    reference = shuffled(reference_frame())
    current = shuffled(pd.read_csv(COMPAS))
    names = (unique("compasreference"), unique("compascurrent"))
    ref_bytes, cur_bytes = csv_bytes(reference), csv_bytes(current)
    saved_ref = register(
        state, demo_dir, ref_bytes, "compas_sample.csv", names[0], "reference", roles
    )
    saved_cur = register(state, demo_dir, cur_bytes, COMPAS.name, names[1], "current", roles)
    try:
        yield Pair(saved_ref, saved_cur, reference, current)
    finally:
        cleanup(state, demo_dir, *names)


@pytest.fixture
def pair(demo_dir: Path, state: StateStore) -> Iterator[Pair]:
    """The compas pair registered under unique names (removed afterwards)."""
    with registered_pair(demo_dir, state) as found:
        yield found


def open_page(demo_dir: Path, monkeypatch: pytest.MonkeyPatch, page: str) -> AppTest:
    monkeypatch.setenv("MONITOR_CONFIG", str(demo_dir / "monitor.toml"))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    at.switch_page(page).run()
    assert_no_exception(at)
    return at


def metric_value(at: AppTest, label: str) -> str:
    for metric in at.metric:
        if metric.label == label:
            return str(metric.value)
    raise AssertionError(f"no metric {label!r}: {[m.label for m in at.metric]}")


def frame_with(at: AppTest, *columns: str) -> pd.DataFrame:
    for element in at.dataframe:
        frame = element.value
        if all(c in frame.columns for c in columns):
            return frame
    raise AssertionError(f"no table with columns {columns}")


def listed_names(at: AppTest) -> set[str]:
    """Names in the page's table of saved datasets (none shown: no table)."""
    for element in at.dataframe:
        frame = element.value
        if {"name", "role", "sha256"} <= set(frame.columns):
            return set(frame["name"])
    return set()


def by_label(widgets: Any, label: str) -> Any:
    for widget in widgets:
        if widget.label == label:
            return widget
    raise AssertionError(f"no widget labelled {label!r}")


def text_of(at: AppTest) -> str:
    parts = [e.value for e in (*at.caption, *at.markdown, *at.info, *at.error, *at.success)]
    return "\n".join(str(p) for p in parts)


# -- the page: upload, preview, override, roles, save, duplicate ---------------------------


def test_upload_preview_types_roles_save_and_duplicate(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch, state: StateStore
) -> None:
    at = open_page(demo_dir, monkeypatch, "pages/datasets.py")
    assert at.title[0].value == "Datasets"
    uploaders = {u.key: u for u in at.file_uploader}
    assert set(uploaders) == {"upload_reference", "upload_current"}
    assert all(u.accept_multiple_files for u in uploaders.values())
    assert {".csv", ".parquet", ".jsonl", ".txt", ".tsv", ".ndjson"} <= set(
        uploaders["upload_current"].allowed_type
    )

    reference = shuffled(reference_frame()).assign(note="a constant column")
    current = shuffled(pd.read_csv(COMPAS))
    ref_bytes, cur_bytes = csv_bytes(reference), csv_bytes(current)
    at.file_uploader(key="upload_reference").set_value(("sample.csv", ref_bytes, "text/csv"))
    at.file_uploader(key="upload_current").set_value((COMPAS.name, cur_bytes, "text/csv"))
    at.run()
    assert_no_exception(at)
    rows = [m.value for m in at.metric if m.label == "Rows"]
    assert rows == [f"{len(reference):,}", f"{len(current):,}"]
    columns = [m.value for m in at.metric if m.label == "Columns"]
    assert columns == [str(reference.shape[1]), str(current.shape[1])]
    previews = [e.value for e in at.dataframe if "entity_id" in e.value.columns]
    assert [list(p.columns) for p in previews] == [list(reference.columns), list(current.columns)]
    preview = previews[1]
    assert len(preview) == 20
    assert preview["race"].tolist() == current["race"].head(20).tolist()
    assert "Format CSV" in text_of(at) and "delimiter comma" in text_of(at)
    # Schema comparison: the reference has the extra `note` column.
    assert metric_value(at, "Shared columns") == str(current.shape[1])
    assert metric_value(at, "Missing in current") == "1"
    assert metric_value(at, "Extra in current") == "0"
    differences = frame_with(at, "column", "difference")
    assert differences.to_dict("records") == [
        {"column": "note", "difference": "missing in current"}
    ]

    # Override a type through the editor's edit state: entity_id numeric -> categorical.
    editor = next(e for e in at.data_editor if (e.key or "").startswith("dataset_types_current"))
    assert editor.key is not None
    types = editor.value
    row = types.index[types["column"] == "entity_id"][0]
    assert types.loc[row, "detected"] == "numeric"
    at.session_state[editor.key] = {
        "edited_rows": {int(row): {"type": "categorical"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert_no_exception(at)

    # Without a name in the sidebar: no Save button, and a reason.
    assert not [b for b in at.button if b.key == "dataset_save"]
    assert "Type your name in the sidebar" in text_of(at)
    at.sidebar.text_input(key="actor_name").set_value(TESTER.name).run()
    by_label(at.selectbox, "Prediction column").set_value("score")
    by_label(at.selectbox, "Score column").select_index(0)  # (none)
    by_label(at.multiselect, "Sensitive features").set_value(["race", "sex"])
    at.run()
    ids = by_label(at.multiselect, "Identifier columns")
    assert "race" not in ids.options and "entity_id" in ids.options
    ids.set_value(["entity_id"])
    assert by_label(at.multiselect, "Ignored columns").options  # offered beside it
    names = {"reference": unique("uiref"), "current": unique("uicur")}
    for role, name in names.items():
        by_label(at.text_input, f"Name of the {role} dataset").set_value(name)
    at.run()
    assert by_label(at.selectbox, "Label column").value == "label_value"  # guessed by name
    try:
        at.button(key="dataset_save").click().run()
        assert_no_exception(at)
        saved = {d.name: d for d in datasets.list_datasets(state)}
        assert names["reference"] in saved
        ref = saved[names["reference"]]
        assert (ref.role, ref.rows, ref.created_by) == ("reference", len(reference), TESTER.name)
        assert ref.column_roles == datasets.ColumnRoles(
            label="label_value", prediction="score", sensitive=("race", "sex"), ids=("entity_id",)
        )
        cur = saved[names["current"]]
        assert (cur.role, cur.rows, cur.source_name) == ("current", len(current), COMPAS.name)
        assert dict(cur.columns)["entity_id"] == "categorical"  # the override was kept
        assert "age_cat" not in cur.column_roles.sensitive
        listed = frame_with(at, "name", "role", "rows", "sha256")
        assert set(names.values()) <= set(listed["name"])
        assert any(names["current"] in s.value for s in at.success)

        # Saving the same files again: nothing new, the existing datasets are named.
        at.button(key="dataset_save").click().run()
        assert_no_exception(at)
        infos = "\n".join(i.value for i in at.info)
        assert "already saved" in infos
        assert names["reference"] in infos and names["current"] in infos
        mine = [d for d in datasets.list_datasets(state) if d.name in names.values()]
        assert len(mine) == 2
    finally:
        cleanup(state, demo_dir, *names.values())


def test_hostile_header_and_refused_file(demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(demo_dir, monkeypatch, "pages/datasets.py")
    hostile = f'{HOSTILE},"a;b",x\n1,2,3\n4,5,6\n'.encode()
    at.file_uploader(key="upload_reference").set_value(("evil.csv", hostile, "text/csv"))
    at.file_uploader(key="upload_current").set_value(("empty.csv", b"", "text/csv"))
    at.run()
    assert_no_exception(at)
    preview = frame_with(at, HOSTILE)
    assert list(preview.columns) == [HOSTILE, "a;b", "x"]
    assert preview[HOSTILE].tolist() == [1, 4]
    # The empty file is refused with the reader's message, shown as an error.
    assert at.error and all("Traceback" not in e.value for e in at.error)
    assert not [m for m in at.metric if m.label == "Shared columns"]


# -- list, rename, delete (with confirmation) ---------------------------------------------


def test_rename_and_delete_with_confirmation(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch, state: StateStore
) -> None:
    name, renamed = unique("listed"), unique("renamed")
    data = f"a,b\n1,x\n2,y\n3,{name}\n".encode()
    saved = register_plain(state, demo_dir, data, name)
    try:
        at = open_page(demo_dir, monkeypatch, "pages/datasets.py")
        listed = frame_with(at, "name", "role", "rows", "sha256")
        row = listed[listed["name"] == name].iloc[0]
        assert (row["role"], row["rows"], row["sha256"]) == ("current", 3, saved.sha256[:12])
        assert row["source file"] == "listed.csv"
        assert not [b for b in at.button if b.key in ("dataset_rename", "dataset_delete")]

        at.sidebar.text_input(key="actor_name").set_value(TESTER.name).run()
        at.selectbox(key="dataset_pick").set_value(name)
        at.text_input(key="dataset_new_name").set_value(renamed)
        at.run()
        at.button(key="dataset_rename").click().run()
        assert_no_exception(at)
        names = {d.name for d in datasets.list_datasets(state)}
        assert renamed in names and name not in names
        assert renamed in listed_names(at)

        path = datasets.get_dataset(state, renamed).path
        assert path.is_file()
        at.selectbox(key="dataset_pick").set_value(renamed).run()
        at.button(key="dataset_delete").click().run()
        assert_no_exception(at)
        # The dialog asks first: nothing is deleted yet.
        assert renamed in {d.name for d in datasets.list_datasets(state)}
        at.button(key="dataset_delete_cancel").click().run()
        assert renamed in {d.name for d in datasets.list_datasets(state)}
        assert not [b for b in at.button if b.key == "dataset_delete_confirm"]

        at.button(key="dataset_delete").click().run()
        at.button(key="dataset_delete_confirm").click().run()
        assert_no_exception(at)
        assert renamed not in {d.name for d in datasets.list_datasets(state)}
        assert not path.exists()
        assert renamed not in listed_names(at)
    finally:
        cleanup(state, demo_dir, name, renamed)


def register_plain(state: StateStore, data_dir: Path, data: bytes, name: str) -> datasets.Dataset:
    ingested = ingest.read_upload(data, "listed.csv", max_bytes=MAX_BYTES)
    return storage.save_dataset(state, data_dir, ingested, name=name, role="current", actor=TESTER)


# -- the sidebar's data source: Drift, Data quality and Fairness on the pair ---------------


def choose_pair(at: AppTest, pair: Pair) -> None:
    at.sidebar.radio(key="source_kind").set_value("uploads").run()
    at.sidebar.selectbox(key="source_reference").set_value(pair.reference.name)
    at.sidebar.selectbox(key="source_current").set_value(pair.current.name)
    at.run()
    assert_no_exception(at)


def test_data_source_defaults_to_logs(demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(demo_dir, monkeypatch, "pages/drift.py")
    assert at.sidebar.radio(key="source_kind").value == "logs"
    assert at.selectbox(key="drift_baseline_credit-risk").value is not None


def test_drift_on_uploaded_pair(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch, pair: Pair
) -> None:
    at = open_page(demo_dir, monkeypatch, "pages/drift.py")
    choose_pair(at, pair)
    captions = text_of(at)
    assert pair.reference.name in captions and pair.current.name in captions
    assert "no time axis" in captions  # drift over time is hidden, with the reason
    assert not [s for s in at.selectbox if s.key and s.key.startswith("drift_baseline")]

    ref, cur = pair.reference_frame, pair.current_frame
    rows = {
        r["feature"]: r for r in frame_with(at, "feature", "method", "score").to_dict("records")
    }
    # label, prediction: targets; entity_id (unique per row): an identifier, said so.
    assert set(rows) == {"race", "sex", "age_cat"}
    left_out = next(c.value for c in at.caption if c.value.startswith("Not analysed"))
    assert left_out.replace("\\", "").startswith(
        f"Not analysed: entity_id (unique per row in the reference ({len(ref):,} rows): "
        "treated as an identifier)."
    )
    race = rows["race"]
    assert race["method"] == "jensenshannon"
    categories = sorted(set(ref.race) | set(cur.race))
    p = ref.race.value_counts(normalize=True).reindex(categories, fill_value=0)
    q = cur.race.value_counts(normalize=True).reindex(categories, fill_value=0)
    assert race["score"] == pytest.approx(distance.jensenshannon(p, q, base=2), rel=1e-6)

    outputs = frame_with(at, "output", "method", "values (current)")
    counts = dict(zip(outputs["output"], outputs["values (current)"], strict=True))
    assert counts == {"label": len(cur), "prediction": len(cur)}

    # The choice holds on another page of the session.
    at.switch_page("pages/data_quality.py").run()
    assert at.sidebar.radio(key="source_kind").value == "uploads"
    assert at.sidebar.selectbox(key="source_current").value == pair.current.name


def test_drift_on_uploaded_pair_saved_to_keep_identifiers(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch, state: StateStore
) -> None:
    keep = dataclasses.replace(COMPAS_ROLES, keep_ids=True)
    with registered_pair(demo_dir, state, keep) as kept:
        at = open_page(demo_dir, monkeypatch, "pages/drift.py")
        choose_pair(at, kept)
        assert "Not analysed" not in text_of(at)
        at.selectbox(key="drift_method").set_value("ks").run()
        assert_no_exception(at)
        table = frame_with(at, "feature", "method", "score")
        rows = {r["feature"]: r for r in table.to_dict("records")}
        assert set(rows) == {"entity_id", "race", "sex", "age_cat"}
        expected = stats.ks_2samp(kept.reference_frame.entity_id, kept.current_frame.entity_id)
        assert rows["entity_id"]["method"] == "ks"
        assert rows["entity_id"]["score"] == pytest.approx(expected.statistic, rel=1e-9)


def test_data_quality_on_uploaded_pair(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch, pair: Pair
) -> None:
    at = open_page(demo_dir, monkeypatch, "pages/data_quality.py")
    choose_pair(at, pair)
    ref, cur = pair.reference_frame, pair.current_frame
    assert metric_value(at, "Rows") == f"{len(cur):,}"
    assert metric_value(at, "Invalid records") == "n/a"
    table = frame_with(at, "feature", "missing", "missing (reference)")
    rows = {r["feature"]: r for r in table.to_dict("records")}
    assert ref.age_cat.isna().mean() > 0.02
    assert rows["age_cat"]["missing (reference)"] == pytest.approx(ref.age_cat.isna().mean())
    assert rows["age_cat"]["missing"] == pytest.approx(cur.age_cat.isna().mean())
    assert rows["race"]["distinct"] == cur.race.nunique()
    assert "no time axis" in text_of(at)


def test_fairness_on_uploaded_pair(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch, pair: Pair
) -> None:
    at = open_page(demo_dir, monkeypatch, "pages/fairness.py")
    choose_pair(at, pair)
    assert at.multiselect(key="fairness_sensitive_uploads").value == ["race"]
    cur = pair.current_frame
    groups = frame_with(at, "group", "count", "selection_rate")
    frame = MetricFrame(
        metrics=selection_rate,
        y_true=cur.label_value,
        y_pred=cur.score.astype(int),
        sensitive_features=cur.race,
    )
    found = dict(zip(groups["group"], groups["selection_rate"], strict=True))
    assert found == pytest.approx(frame.by_group.to_dict(), rel=1e-12)
    counts = dict(zip(groups["group"], groups["count"], strict=True))
    assert counts == cur.race.value_counts().to_dict()
    # The reference dataset judged the same way, beside the current one.
    assert "reference dataset against current dataset" in text_of(at)
    assert len(at.get("plotly_chart")) == 2

    at.multiselect(key="fairness_sensitive_uploads").set_value(["sex"]).run()
    assert_no_exception(at)
    groups = frame_with(at, "group", "count", "selection_rate")
    by_sex = MetricFrame(
        metrics=selection_rate, y_true=cur.label_value, y_pred=cur.score, sensitive_features=cur.sex
    )
    found = dict(zip(groups["group"], groups["selection_rate"], strict=True))
    assert found == pytest.approx(by_sex.by_group.to_dict(), rel=1e-12)


def test_read_only_dashboard_lists_but_offers_no_upload_or_action(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch, state: StateStore, tmp_path: Path
) -> None:
    name = unique("readonly")
    register_plain(state, demo_dir, f"a,b\n1,{name}\n".encode(), name)
    config = tmp_path / "read_only.toml"
    text = (demo_dir / "monitor.toml").read_text(encoding="utf-8")
    assert 'data_dir = "."' in text
    config.write_text(
        text.replace('data_dir = "."', f"data_dir = {str(demo_dir)!r}")
        + "\n[dashboard]\nread_only = true\n",
        encoding="utf-8",
    )
    try:
        monkeypatch.setenv("MONITOR_CONFIG", str(config))
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.run()
        at.switch_page("pages/datasets.py").run()
        assert_no_exception(at)
        assert not at.file_uploader
        assert [b.key for b in at.button] == []
        assert name in listed_names(at)
        assert any("Read-only dashboard" in i.value for i in at.info)
    finally:
        cleanup(state, demo_dir, name)


# -- the page's pure helpers -------------------------------------------------------------


def test_upload_limit_is_the_smaller_of_config_and_server() -> None:
    assert ui_datasets.upload_limit_mb(50, 200) == 50
    assert ui_datasets.upload_limit_mb(500, 200) == 200
    assert ui_datasets.upload_limit_mb(50, None) == 50


def test_type_overrides_are_the_changed_rows_only() -> None:
    edited = pd.DataFrame(
        {
            "column": ["a", "b", "c"],
            "detected": ["numeric", "categorical", "numeric"],
            "missing": [0, 0, 1],
            "type": ["numeric", "text", "nonsense"],
        }
    )
    assert ui_datasets.overrides_from(edited) == (("b", "text"),)


def test_roles_are_guessed_by_usual_names_and_kept_per_side() -> None:
    names = ["entity_id", "Score", "label_value", "race"]
    assert ui_datasets.guess_role("label", names) == "label_value"
    assert ui_datasets.guess_role("score", names) == "Score"
    assert ui_datasets.guess_role("prediction", names) is None
    choice = ui_datasets.RoleChoice("label_value", "Score", None, ("race", "sex"))
    assert choice.for_columns(["Score", "race"]) == datasets.ColumnRoles(
        label=None, prediction="Score", score=None, sensitive=("race",)
    )


def test_notes_list_repairs_and_column_problems_as_text() -> None:
    data = b'a,a,,n\n1,2,3,"1,000"\n5,6,7,x\n'
    ingested = ingest.read_upload(data, "notes.csv", max_bytes=MAX_BYTES)
    found = ui_datasets.notes(ingested)
    assert [n["column"] for n in found[: len(ingested.repairs)]] == ["(file)"] * len(
        ingested.repairs
    )
    assert [n["message"] for n in found[: len(ingested.repairs)]] == list(ingested.repairs)
    problems = [(c.name, p) for c in ingested.columns for p in c.problems]
    assert [(n["column"], n["message"]) for n in found[len(ingested.repairs) :]] == problems
    assert problems  # the mixed column is reported
    listed = ui_datasets.column_list(ingested, limit=2)
    assert listed.startswith("Columns: a (") and listed.endswith(" and 2 more")


def test_fairness_asks_for_roles_a_dataset_was_saved_without(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch, state: StateStore
) -> None:
    current = shuffled(pd.read_csv(COMPAS))
    reference = shuffled(reference_frame())
    names = (unique("noroleref"), unique("norolecur"))
    none = datasets.ColumnRoles()
    ref = register(state, demo_dir, csv_bytes(reference), "r.csv", names[0], "reference", none)
    cur = register(state, demo_dir, csv_bytes(current), "c.csv", names[1], "current", none)
    try:
        at = open_page(demo_dir, monkeypatch, "pages/fairness.py")
        choose_pair(at, Pair(ref, cur, reference, current))
        assert any("Choose the label and the prediction column" in i.value for i in at.info)
        at.selectbox(key="fairness_label_uploads").set_value("label_value").run()
        at.selectbox(key="fairness_prediction_uploads").set_value("score").run()
        sensitive = at.multiselect(key="fairness_sensitive_uploads")
        assert sensitive.value == [] and "label_value" not in sensitive.options
        sensitive.set_value(["race"]).run()
        assert_no_exception(at)
        groups = frame_with(at, "group", "count", "selection_rate")
        expected = MetricFrame(
            metrics=selection_rate,
            y_true=current.label_value,
            y_pred=current.score,
            sensitive_features=current.race,
        ).by_group.to_dict()
        found = dict(zip(groups["group"], groups["selection_rate"], strict=True))
        assert found == pytest.approx(expected, rel=1e-12)
        assert len(at.get("plotly_chart")) == 2  # the reference judged with the same roles
    finally:
        cleanup(state, demo_dir, *names)


def test_log_filters_step_aside_on_a_page_that_analyses_uploads(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch, pair: Pair
) -> None:
    """Model, versions and window change nothing on Drift with uploaded datasets: they
    are not drawn there, and the choice made before is still there on a logs page."""
    at = open_page(demo_dir, monkeypatch, "pages/drift.py")
    at.sidebar.selectbox(key="filter_model").set_value("demand-forecast").run()
    at.sidebar.selectbox(key="filter_window").set_value("Last 7 days").run()
    choose_pair(at, pair)
    shown = {w.key for w in (*at.sidebar.selectbox, *at.sidebar.multiselect)}
    assert not shown & {"filter_model", "filter_window", "filter_versions_demand-forecast"}
    assert any("apply to the model logs" in c.value for c in at.sidebar.caption)
    at.switch_page("pages/system_health.py").run()  # a page that always reads the logs
    assert_no_exception(at)
    assert at.sidebar.selectbox(key="filter_model").value == "demand-forecast"
    assert at.sidebar.selectbox(key="filter_window").value == "Last 7 days"
