"""Overview: is anything wrong right now, and where do I look."""

import streamlit as st

from monitor.core.scope import Scope
from monitor.findings.status import LABELS, SYMBOLS
from monitor.metrics.health.service import in_window
from monitor.ui import alerts as ui_alerts
from monitor.ui import context as ui
from monitor.ui.charts import traffic as charts

context = ui.current()
st.title("Overview")
if context.demo:
    st.info(
        "You are looking at **demo data**: generated logs with known, injected problems "
        "(see docs/demo-data.md). Point `data_dir` in monitor.toml at your own logs to "
        "monitor your models.",
        icon=":material/science:",
    )

alerts_checked = ui_alerts.overview_block(context.state)

filters, scope = context.filters, context.scope
if filters is None or scope is None:
    st.warning(
        f"No predictions found under {context.settings.data_dir}. Log predictions with "
        "`monitor.sdk.PredictionLogger`, or run `monitor demo --data-dir DIR`."
    )
    st.stop()
assert filters is not None and scope is not None

store = context.store
model = filters.model

st.subheader("At a glance")
st.caption(
    f"Each model's {filters.window_label.lower()} up to its newest prediction, all versions; "
    "deltas against the same length of time before, accuracy against the reference dataset."
)
for other in context.models:
    window = ui.window_for(other, filters.window_label)
    status = ui.model_status(store, store.version, context.settings, other.model_id, window)
    other_scope = Scope.of(
        context.settings.model(other.model_id), window, data_version=store.version
    )
    trend = ui.traffic(store, other_scope, other_scope.bucket(finest="minute"))
    with st.container(border=True):
        st.markdown(f"**{ui.escape_markdown(other.model_id)}**")
        if alerts_checked:
            ui_alerts.model_alerts_caption(context.state, other.model_id)
        cells = st.columns(6)
        found = status.headline
        if found is not None and found.value is not None:
            cells[0].metric(
                f"{found.label} (estimated)" if found.estimated else found.label,
                f"{found.value:.3f}" if found.metric == "accuracy" else f"{found.value:,.3g}",
                delta=None if found.delta is None else f"{found.delta:+.3f} vs baseline",
                delta_color="normal" if found.higher_is_better else "inverse",
                help=status.performance.summary,
            )
        else:
            name = found.label if found is not None else "Accuracy"
            cells[0].metric(name, "n/a", help=status.performance.summary)
        cells[1].metric(
            "Served",
            f"{status.health.predictions:,}",
            chart_data=[b.predictions for b in trend] or None,
            chart_type="bar",
            help="Predictions in the window, per bucket in the little chart.",
        )
        error_delta = status.error_rate_delta
        cells[2].metric(
            "Errors",
            "n/a" if status.health.error_rate is None else f"{status.health.error_rate:.2%}",
            delta=None if error_delta is None else f"{error_delta * 100:+.2f} pp",
            delta_color="inverse",
        )
        p95, p95_delta = status.health.latency.p95, status.p95_delta
        steady = p95_delta is not None and round(p95_delta) == 0
        cells[3].metric(
            "p95",
            "n/a" if p95 is None else f"{p95:,.0f} ms",
            delta=None if p95_delta is None else f"{round(p95_delta) + 0:+,} ms",
            delta_color="off" if steady else "inverse",
        )
        for cell, title, part, target in (
            (cells[4], "Drift", status.drift, "pages/drift.py"),
            (cells[5], "Fairness", status.fairness, "pages/fairness.py"),
        ):
            cell.metric(title, f"{SYMBOLS[part.state]} {LABELS[part.state]}", help=part.summary)
            cell.page_link(target, label=f"Open {title}", icon=":material/arrow_forward:")
            cell.caption(part.summary)

st.subheader(f"{model.model_id} in detail")
health = ui.model_health(store, scope)
columns = st.columns(6)
columns[0].metric("Predictions", f"{health.predictions:,}")
columns[1].metric("Error rate", "n/a" if health.error_rate is None else f"{health.error_rate:.2%}")
for column, name, value in zip(
    columns[2:5],
    ("Latency p50", "Latency p95", "Latency p99"),
    (health.latency.p50, health.latency.p95, health.latency.p99),
    strict=True,
):
    column.metric(name, "n/a" if value is None else f"{value:,.0f} ms")
columns[5].metric(
    "Invalid records",
    f"{health.invalid_records:,}",
    help="Log lines of this model that could not be read, in the files of the window's days.",
)

bucket = scope.bucket(finest="minute")
buckets = ui.traffic(store, scope, bucket)
if buckets:
    st.markdown(f"**Predictions per {bucket}** (bars) and p95 latency (line)")
    st.plotly_chart(charts.traffic_figure(buckets), config={"displayModeBar": False})

invalid = in_window(ui.invalid_records(store, store.version), filters.window)
if invalid:
    total = sum(i.count for i in invalid)
    with st.expander(
        f"Log files with invalid records in this window: {total:,} records in {len(invalid)} files"
    ):
        st.caption(
            "All models and record kinds. Invalid lines are skipped by every view; a "
            "line counts for a model when it still names it, or when its file holds "
            "only that model's predictions."
        )
        st.dataframe(
            [
                {
                    "file": str(i.path.relative_to(store.data_dir)),
                    "kind": i.kind,
                    "day": i.day,
                    "invalid records": i.count,
                    f"of {model.model_id}": i.by_model.get(model.model_id, 0),
                    "problem": i.unreadable or "unreadable lines skipped",
                }
                for i in invalid
            ],
            hide_index=True,
        )
