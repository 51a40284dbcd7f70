"""The only Streamlit code in the core: cached resources, global filters, shared widgets.

Pages call `page_context()` and get settings, the store and the filters the user
chose in the sidebar; aggregates are cached with the store's version in the key, so
new log files invalidate them and raw rows are never cached.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from monitor.core import catalog
from monitor.core.buckets import Bucket
from monitor.core.catalog import ModelInfo, Window
from monitor.core.config import Settings, load_settings
from monitor.core.errors import MonitorError
from monitor.core.scope import Scope
from monitor.core.state import StateStore
from monitor.core.store import InvalidRecords, LogStore
from monitor.core.tabular import FileDatabase
from monitor.demo import bootstrap, history
from monitor.findings import status as executive
from monitor.metrics.health.service import ModelHealth, TrafficBucket
from monitor.ops.alerts.replay import replay_history
from monitor.ops.datasets import library as datasets
from monitor.ops.datasets.library import Dataset
from monitor.ops.datasets.references import apply_references, attached_references
from monitor.queries import health
from monitor.ui import performance as ui_performance

WINDOWS: dict[str, dt.timedelta | None] = {
    "Last 24 hours": dt.timedelta(days=1),
    "Last 7 days": dt.timedelta(days=7),
    "Last 30 days": dt.timedelta(days=30),
    "All data": None,
}


@dataclass(frozen=True)
class Filters:
    model: ModelInfo
    versions: tuple[str, ...]
    """Empty means all versions."""
    window: Window
    window_label: str


SourceKind = Literal["logs", "uploads"]
SOURCES: dict[SourceKind, str] = {"logs": "Model logs", "uploads": "Uploaded datasets"}
UPLOAD_PAGES: tuple[str, ...] = ("performance", "drift", "data_quality", "fairness")
"""URL paths of the pages that analyse the data source (the others always read the logs)."""


@dataclass(frozen=True)
class DataSource:
    """What the Performance, Drift, Data quality and Fairness pages analyse: the model logs
    chosen by the filters, or an uploaded (reference, current) pair (None: none registered
    yet)."""

    kind: SourceKind = "logs"
    reference: Dataset | None = None
    current: Dataset | None = None

    @property
    def uploads(self) -> bool:
        return self.kind == "uploads"


@dataclass(frozen=True)
class PageContext:
    settings: Settings
    store: LogStore
    models: tuple[ModelInfo, ...]
    filters: Filters | None
    demo: bool
    state: StateStore
    """Alerts, rollback marks, uploaded datasets and the audit trail (SQLite)."""
    source: DataSource = DataSource()
    """The sidebar's data source (Performance, Drift, Data quality and Fairness)."""
    references: Mapping[str, Dataset] = field(default_factory=dict)
    """Uploaded reference datasets attached to models (model id -> dataset); `settings`
    already uses them as the models' references."""

    @property
    def scope(self) -> Scope | None:
        """The sidebar filters as a `Scope` (None when the logs hold no model): the value
        pages pass to the cached aggregates in `monitor.ui`."""
        if self.filters is None:
            return None
        return Scope.of(
            self.settings.model(self.filters.model.model_id),
            self.filters.window,
            self.filters.versions,
            data_version=self.store.version,
        )


@st.cache_resource(show_spinner=False)
def _settings() -> Settings:
    return load_settings()


@st.cache_resource(show_spinner="Preparing data...")
def _store(data_dir: str, _config: Settings) -> LogStore:
    path = Path(data_dir)
    generated = bootstrap.ensure_demo_data(path)
    store = LogStore(path)
    if generated:  # the alert history the demo's problems would have left
        # A bad rule is no reason to stop: the Alerts page checks the rules and says why.
        with contextlib.suppress(MonitorError):
            replay_history(store, _config, _state(data_dir), history.replay_times(path))
    return store


@st.cache_resource(show_spinner=False)
def _state(data_dir: str) -> StateStore:
    return StateStore.for_data_dir(Path(data_dir))


@st.cache_resource(show_spinner=False)
def upload_runner() -> FileDatabase:
    """The DuckDB connection that reads uploaded datasets (their stored Parquet files)."""
    return FileDatabase()


@st.cache_data(ttl=300, show_spinner=False, max_entries=64)
def _inventory(_store: LogStore, version: str) -> tuple[ModelInfo, ...]:
    return catalog.inventory(_store)


@st.cache_data(ttl=300, show_spinner=False, max_entries=256)
def model_health(_store: LogStore, scope: Scope) -> ModelHealth:
    return health.model_health(_store, scope)


@st.cache_data(ttl=300, show_spinner=False, max_entries=256)
def traffic(_store: LogStore, scope: Scope, bucket: Bucket) -> tuple[TrafficBucket, ...]:
    return health.traffic(_store, scope, bucket)


@st.cache_data(ttl=300, show_spinner="Checking performance, drift and fairness...", max_entries=64)
def model_status(_store: LogStore, _settings: Settings, scope: Scope) -> executive.ModelStatus:
    """`executive.model_status` of the scope's model and window (all versions pooled)."""
    fit = ui_performance.reference_fit(_store, _settings.model(scope.model_id), scope)
    return executive.model_status(_store, _settings, scope.model_id, scope.window, reference=fit)


@st.cache_data(ttl=300, show_spinner=False, max_entries=16)
def invalid_records(_store: LogStore, version: str) -> tuple[InvalidRecords, ...]:
    return _store.invalid_records()


_CONTEXT_KEY = "monitor_context"


def download_buttons(name: str, csv_text: str, json_text: str) -> None:
    """ "Download CSV" and "Download JSON" side by side, as `<name>.csv` / `<name>.json`."""
    left, right = st.columns(2)
    left.download_button(
        "Download CSV", csv_text, file_name=f"{name}.csv", mime="text/csv", key=f"{name}_csv"
    )
    right.download_button(
        "Download JSON",
        json_text,
        file_name=f"{name}.json",
        mime="application/json",
        key=f"{name}_json",
    )


def current() -> PageContext:
    """The context app.py loaded for this run (pages call this).

    When it is missing, Streamlit ran the page file on its own: on a fresh server, the
    first session that opens a page's URL directly is run in the legacy `pages/` folder
    mode, without app.py. Switch that mode off, as app.py's `st.navigation` would, and
    rerun: app.py then runs and routes to the same page."""
    context: PageContext | None = st.session_state.get(_CONTEXT_KEY)
    if context is None:
        PagesManager.uses_pages_directory = False
        st.rerun()
    assert context is not None
    return context


def load_context(page: str = "") -> PageContext:
    """Settings, store and sidebar filters, kept for the pages of this run (`page`: the
    URL path of the page about to run).

    Stops the page with a clear message on a bad configuration."""
    try:
        settings = _settings()
    except MonitorError as exc:
        st.error(f"Configuration problem: {exc}")
        st.stop()
        raise  # unreachable; st.stop raises
    with st.spinner("First start: generating demo data and its alerts (about 15 seconds)..."):
        store = _store(str(settings.data_dir), settings)
    store.refresh()
    models = _inventory(store, store.version)
    uploads_here = page in UPLOAD_PAGES and st.session_state.get("source_kind") == "uploads"
    filters = _sidebar(models, shown=not uploads_here)
    try:
        state = _state(str(settings.data_dir))
        source = _source_sidebar(state)
        references = attached_references(state)
    except MonitorError as exc:
        st.error(f"State database problem: {exc}")
        st.stop()
        raise  # unreachable; st.stop raises
    is_demo = bootstrap.is_demo(settings.data_dir)
    settings = apply_references(settings, references)
    context = PageContext(settings, store, models, filters, is_demo, state, source, references)
    st.session_state[_CONTEXT_KEY] = context
    return context


def window_for(model: ModelInfo, label: str) -> Window:
    """The window a sidebar choice means for a model: it ends at the model's newest
    prediction, so old logs still show something."""
    span = WINDOWS[label]
    if span is None:
        return Window(model.first_seen, model.last_seen)
    return Window.ending_at(model.last_seen, span)


def _sidebar(models: tuple[ModelInfo, ...], *, shown: bool = True) -> Filters | None:
    """The log filters (model, versions, window). Not `shown` on a page that analyses
    uploaded datasets: they would change nothing there; their values are kept for the
    pages that use them."""
    sidebar = st.sidebar
    if not models:
        sidebar.info("No predictions logged yet.")
        return None
    by_id = {m.model_id: m for m in models}
    if not shown:
        return _kept_filters(by_id)
    _apply_link(by_id)
    model_id = sidebar.selectbox("Model", list(by_id), key="filter_model")
    model = by_id[model_id]
    versions = sidebar.multiselect(
        "Versions",
        [v.version for v in model.versions],
        key=f"filter_versions_{model_id}",
        placeholder="All versions",
        format_func=lambda v: v or "(unversioned)",
    )
    label = sidebar.selectbox("Time window", list(WINDOWS), key="filter_window")
    window = window_for(model, label)
    sidebar.caption(
        f"Window: {window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC "
        "(ends at the newest prediction)"
    )
    return Filters(model, tuple(versions), window, label)


def _kept_filters(by_id: Mapping[str, ModelInfo]) -> Filters:
    """The filters as last chosen, without drawing them. Streamlit forgets the state of
    a widget not drawn in a run, so each is written back to keep it for later pages."""
    state = st.session_state
    model_id = state.get("filter_model")
    model = by_id.get(model_id) if isinstance(model_id, str) else None
    model = model or next(iter(by_id.values()))
    versions_key = f"filter_versions_{model.model_id}"
    label = state.get("filter_window")
    label = label if label in WINDOWS else next(iter(WINDOWS))
    for key in ("filter_model", "filter_window", versions_key):
        if key in state:
            state[key] = state[key]
    st.sidebar.caption(
        "Model, versions and time window apply to the model logs; this page analyses the "
        "uploaded datasets chosen below."
    )
    versions = tuple(state.get(versions_key, ()))
    return Filters(model, versions, window_for(model, label), label)


def _apply_link(by_id: Mapping[str, ModelInfo]) -> None:
    """A link from a finding (`?model=ID&version=V&window=Last 7 days`) sets the
    sidebar filters, once per link: the user's own choices afterwards stand."""
    params = st.query_params
    model_id = params.get("model")
    if model_id is None or model_id not in by_id:
        return
    token = (model_id, params.get("version"), params.get("window"))
    if st.session_state.get("_applied_link") == token:
        return
    st.session_state["_applied_link"] = token
    st.session_state["filter_model"] = model_id
    version = params.get("version")
    known = {v.version for v in by_id[model_id].versions}
    st.session_state[f"filter_versions_{model_id}"] = [version] if version in known else []
    window = params.get("window")
    if window in WINDOWS:
        st.session_state["filter_window"] = window


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=])")


def escape_markdown(text: str) -> str:
    """User or file text made literal inside Streamlit markdown (captions, info boxes):
    every markdown, HTML, LaTeX ($) and directive (:red[...]) character backslash-escaped,
    line breaks flattened."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _role_first(found: tuple[Dataset, ...], role: str) -> list[Dataset]:
    """Datasets of `role`, then the others, each newest first as listed (any dataset can
    be either side; the default is the newest of the matching role)."""
    return [d for d in found if d.role == role] + [d for d in found if d.role != role]


def _source_sidebar(state: StateStore) -> DataSource:
    """The "Data source" switch; kept per session by its widget keys (app.py renders it on
    every page)."""
    sidebar = st.sidebar
    kind: SourceKind = sidebar.radio(
        "Data source",
        list(SOURCES),
        format_func=SOURCES.__getitem__,
        key="source_kind",
        help="What the Performance, Drift, Data quality and Fairness pages analyse: the "
        "model's logs (filters above) or a reference/current pair uploaded on the Datasets page.",
    )
    if kind != "uploads":
        return DataSource()
    found = datasets.list_datasets(state)
    if not found:
        sidebar.info(
            "No uploaded datasets yet: add a reference and a current dataset on the Datasets page."
        )
        return DataSource("uploads")
    chosen: dict[str, Dataset] = {}
    for role, title in (("reference", "Reference dataset"), ("current", "Current dataset")):
        options = _role_first(found, role)
        by_name = {d.name: d for d in options}
        shown = {d.name: f"{d.name} ({d.role}, {d.rows:,} rows)" for d in options}
        name = sidebar.selectbox(
            title, list(by_name), key=f"source_{role}", format_func=shown.__getitem__
        )
        chosen[role] = by_name[name]
    return DataSource("uploads", chosen["reference"], chosen["current"])


def uploaded_pair(source: DataSource) -> tuple[Dataset, Dataset]:
    """The (reference, current) pair of an uploads source; stops the page with a message
    and a link to the Datasets page when none is registered yet."""
    if source.reference is None or source.current is None:
        st.info(
            "The data source is *Uploaded datasets*, but none is registered yet: upload a "
            "reference and a current dataset (for Fairness, with label, prediction and "
            "sensitive columns) on the Datasets page, or switch the data source in the "
            "sidebar back to *Model logs*."
        )
        st.page_link("pages/datasets.py", label="Open the Datasets page")
        st.stop()
    assert source.reference is not None and source.current is not None
    return source.reference, source.current


def source_caption(source: DataSource) -> str:
    """Which uploaded pair a page analyses, in escaped markdown."""
    if source.reference is None or source.current is None:
        return "Uploaded datasets: none registered yet."
    parts = []
    for title, found in (("reference", source.reference), ("current", source.current)):
        parts.append(
            f"{title} **{escape_markdown(found.name)}** ({found.rows:,} rows, from "
            f"{escape_markdown(found.source_name)})"
        )
    return "Uploaded datasets: " + " against ".join(reversed(parts)) + "."
