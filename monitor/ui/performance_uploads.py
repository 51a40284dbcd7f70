"""The Performance page on an uploaded (reference, current) pair: label-free estimates per
chunk of the current dataset, calibrated on the labeled reference, with the realized
value wherever the current dataset has labels.

The task follows the pair: the attached model's, else the datasets' roles (`upload_tasks`:
binary with a score column; multiclass where numeric columns are named after every
reference label, `y_pred_proba_<class>`; regression with a numeric label of more than
two values and a numeric prediction, no score), with a selector when several fit.

The numbers come from the function behind `monitor estimate`
(`monitor.queries.estimate_files.estimate_files`) and its table and JSON document
(`monitor.reports.estimate_export`), so the page and the command agree. The estimate is
cached on the datasets' ids, names and content hashes (a stored file never changes) and
the request.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Final

import pandas as pd
import streamlit as st

from monitor.core.buckets import Bucket
from monitor.core.config import ModelConfig, Task
from monitor.core.errors import MonitorError
from monitor.ops.datasets.analysis import attached_model
from monitor.ops.datasets.library import Dataset
from monitor.queries.column_roles import RoleNames
from monitor.queries.estimate_files import estimate_files
from monitor.queries.estimate_inputs import label_values
from monitor.queries.estimate_multiclass import class_columns
from monitor.queries.estimate_types import DEFAULT_CHUNKS, Chunking, EstimateSpec, FileEstimate
from monitor.reports.estimate_export import estimate_document, estimate_rows
from monitor.reports.jsonable import jsonable
from monitor.ui import context as ui
from monitor.ui.charts.estimate import chunk_estimates_figure
from monitor.ui.charts.performance import TITLES

PERIODS: Final[tuple[Bucket, ...]] = ("day", "hour", "week")
_BY_ROWS: Final = "rows (file order)"
MAX_CLASSES: Final = 50
"""A reference label with more values than this is a regression target, not classes."""
_NEEDS: Final = (
    "Label-free estimates need a score column in the reference {ref} (binary), numeric "
    "score columns named after every class, such as y_pred_proba_<class> (multiclass), or "
    "a numeric prediction column with a numeric label of more than two values "
    "(regression); each with a label column."
)
_ABOUT: Final[dict[Task, str]] = {
    "binary": "Confidence-based estimation, as `monitor estimate`: the reference's scores "
    "calibrated against its labels give each chunk's expected confusion matrix. It assumes "
    "P(label | score) is as in the reference; where labels exist, compare.",
    "multiclass": "Confidence-based estimation per class, as `monitor estimate --task "
    "multiclass`: each class's scores calibrated one-vs-rest on the reference give each "
    "chunk's expected confusion matrix. It assumes P(label | scores) is as in the "
    "reference; where labels exist, compare.",
    "regression": "Direct loss estimation, as `monitor estimate --task regression`: models "
    "of the absolute and squared error, fitted on the reference's features and "
    "predictions, give each chunk's expected MAE and RMSE. It assumes P(label | features) "
    "is as in the reference; where labels exist, compare.",
}


@dataclass(frozen=True)
class ChunkChoice:
    """The page's chunks: of rows, or per period of a datetime `column`."""

    plan: Chunking
    column: str | None = None


@st.cache_data(
    ttl=3600,
    show_spinner=False,
    max_entries=64,
    hash_funcs={Dataset: lambda d: (d.id, d.name, d.sha256)},
)
def reference_labels(reference: Dataset) -> tuple[str, ...] | None:
    """The reference's label values (None: more than MAX_CLASSES), cached."""
    label = reference.column_roles.label
    if label is None:
        return ()
    return label_values(ui.upload_runner(), reference.path, label, MAX_CLASSES)


def upload_tasks(
    reference: Dataset, model: ModelConfig | None, labels: tuple[str, ...] | None
) -> tuple[Task, ...]:
    """The tasks the pair can be estimated as (module docstring), most likely first."""
    if model is not None:
        return (model.task,)
    roles = reference.column_roles
    if roles.label is None:
        return ()
    kinds = dict(reference.columns)
    found: list[Task] = ["binary"] if roles.score is not None else []
    if labels and class_columns(reference.columns, labels) is not None:
        found.append("multiclass")
    numeric = kinds.get(roles.label) == kinds.get(roles.prediction or "") == "numeric"
    if numeric and roles.score is None and (labels is None or len(labels) > 2):
        found.append("regression")
    return tuple(found)


def estimate_spec(
    reference: Dataset,
    current: Dataset,
    model: ModelConfig | None,
    chunking: ChunkChoice,
    task: Task = "binary",
    labels: tuple[str, ...] | None = None,
) -> tuple[EstimateSpec | None, str | None]:
    """The estimate of `task` the datasets' saved column roles allow (the attached
    model's positive label, if any), or None and what is missing."""
    ref, cur = reference.column_roles, current.column_roles
    missing = [f"a label column in the reference {reference.name!r}"] * (ref.label is None)
    score, classes = ref.score, None
    cur_score, cur_roles = cur.score, RoleNames()
    if task == "binary":
        missing += [f"a score column in the reference {reference.name!r}"] * (ref.score is None)
        missing += [f"a score column in the current {current.name!r}"] * (cur.score is None)
    elif task == "multiclass":
        found = class_columns(reference.columns, labels or ())
        if found is None:
            missing.append(f"score columns named after the classes in {reference.name!r}")
        else:
            classes = tuple(name for name, _ in found)
            score = cur_score = ",".join(column for _, column in found)
    else:
        score = cur_score = None
        cur_roles = RoleNames(ids=cur.ids, ignore=cur.ignore)
        missing += [f"a prediction column in the reference {reference.name!r}"] * (
            ref.prediction is None
        )
        missing += [f"a prediction column in the current {current.name!r}"] * (
            cur.prediction is None
        )
    if missing:
        return None, "Label-free estimates need " + " and ".join(missing) + "."
    left = RoleNames(ids=ref.ids, ignore=ref.ignore) if task == "regression" else RoleNames()
    roles = RoleNames(
        label=ref.label, score=score, prediction=ref.prediction, ids=left.ids, ignore=left.ignore
    )
    current_roles = RoleNames(
        label=cur.label,
        score=cur_score,
        prediction=cur.prediction,
        timestamp=chunking.column,
        ids=cur_roles.ids,
        ignore=cur_roles.ignore,
    )
    positive = model.positive_label if model is not None and task == "binary" else None
    spec = EstimateSpec(
        roles,
        current_roles,
        task=task,
        chunking=chunking.plan,
        positive=positive,
        classes=classes,
        keep_ids=ref.keep_ids or cur.keep_ids,
    )
    return spec, None


@st.cache_data(
    ttl=3600,
    show_spinner="Estimating performance from the scores...",
    max_entries=32,
    hash_funcs={Dataset: lambda d: (d.id, d.name, d.sha256)},
)
def file_estimate(reference: Dataset, current: Dataset, spec: EstimateSpec) -> FileEstimate:
    """`estimate_files` on the stored files of the pair, cached."""
    names = (f"dataset {reference.name!r}", f"dataset {current.name!r}")
    return estimate_files(ui.upload_runner(), reference.path, current.path, spec, names=names)


def table(result: FileEstimate) -> pd.DataFrame:
    """The estimate per chunk and metric (the rows of `monitor estimate`'s table)."""
    rows = estimate_rows(result)
    frame = pd.DataFrame(rows)
    if rows:
        frame["start"] = frame["start"].astype(str)
        frame["end"] = frame["end"].astype(str)
    return frame


def chunk_picker(current: Dataset) -> ChunkChoice:
    """Chunks of N rows (default: DEFAULT_CHUNKS equal chunks), or per period of one of
    the current dataset's datetime columns."""
    times = [name for name, kind in current.columns if kind == "datetime"]
    left, right = st.columns(2)
    by = left.selectbox("Chunk by", [_BY_ROWS, *times], key="performance_upload_chunk_by")
    if by == _BY_ROWS:
        size = right.number_input(
            "Rows per chunk",
            min_value=1,
            value=max(1, math.ceil(current.rows / DEFAULT_CHUNKS)),
            step=1000,
            key="performance_upload_chunk_size",
        )
        return ChunkChoice(Chunking(size=int(size)), None)
    period: Bucket = right.selectbox("Period (UTC)", PERIODS, key="performance_upload_period")
    return ChunkChoice(Chunking(period=period), by)


def task_picker(
    reference: Dataset, model: ModelConfig | None
) -> tuple[Task | None, tuple[str, ...] | None]:
    """The task to estimate (a selector when the pair fits several; None: none fits) and
    the reference's label values."""
    labels = reference_labels(reference)
    tasks = upload_tasks(reference, model, labels)
    if len(tasks) < 2:
        return (tasks[0] if tasks else None), labels
    task: Task = st.radio(
        "Task",
        tasks,
        horizontal=True,
        key="performance_upload_task",
        help="The datasets' roles fit several model tasks: choose the model's.",
    )
    return task, labels


def show(context: ui.PageContext) -> None:
    """The page's content for the sidebar's uploaded pair."""
    reference, current = ui.uploaded_pair(context.source)
    st.caption(ui.source_caption(context.source))
    model = attached_model(context.settings, current, reference)
    try:
        task, labels = task_picker(reference, model)
    except MonitorError as exc:
        st.error(ui.escape_markdown(str(exc)))
        return
    chosen = chunk_picker(current)
    spec: EstimateSpec | None = None
    missing: str | None = _NEEDS.format(ref=repr(reference.name))
    if task is not None:
        spec, missing = estimate_spec(reference, current, model, chosen, task, labels)
    if spec is None:
        st.info(
            ui.escape_markdown(str(missing))
            + " Set the column roles when saving the datasets on the Datasets page."
        )
        return
    try:
        result = file_estimate(reference, current, spec)
    except MonitorError as exc:
        st.error(ui.escape_markdown(str(exc)))
        return
    for warning in result.warnings:
        st.warning(ui.escape_markdown(warning))
    names = list(dict.fromkeys(n for c in result.chunks for n in c.metrics))
    if not names:
        st.info("No chunk has predictions to estimate.")
        return
    metric = st.selectbox(
        "Metric", names, format_func=lambda m: TITLES.get(m, m), key="performance_upload_metric"
    )
    source = "the features and predictions" if result.task == "regression" else "the scores"
    st.markdown(
        f"**Estimated from {source}** ({_method(result)} on the reference, "
        f"{result.confidence:.0%} bands), and **realized** where the current dataset has labels"
    )
    st.plotly_chart(chunk_estimates_figure(result, metric), config={"displayModeBar": False})
    frame = table(result)
    st.dataframe(frame, hide_index=True, key="performance_upload_table", placeholder="n/a")
    chunk_warnings(result)
    document = json.dumps(jsonable(estimate_document(result)), indent=2, allow_nan=False)
    ui.download_buttons("estimates", frame.to_csv(index=False), document)
    st.caption(_ABOUT[result.task])


def _method(result: FileEstimate) -> str:
    if result.task == "regression":
        return "loss models fitted"
    return f"{result.method} calibration" + (" per class" * (result.task == "multiclass"))


def chunk_warnings(result: FileEstimate) -> None:
    """Each chunk's own warnings (a shift of the scores, categories the reference did not
    have), in one expander under the table."""
    lines = [f"chunk {c.index}: {w}" for c in result.chunks for w in c.warnings]
    if lines:
        with st.expander(f"Warnings about single chunks ({len(lines)})", expanded=True):
            st.markdown("\n".join("- " + ui.escape_markdown(line) for line in lines))
