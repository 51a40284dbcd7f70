"""Overview: is anything wrong right now, and where do I look."""

import datetime as dt

import streamlit as st

from monitor import charts, ui
from monitor.metrics.health import Bucket, in_window

context = ui.current()
st.title("Overview")
if context.demo:
    st.info(
        "You are looking at **demo data**: generated logs with known, injected problems "
        "(see docs/demo-data.md). Point `data_dir` in monitor.toml at your own logs to "
        "monitor your models.",
        icon=":material/science:",
    )

filters = context.filters
if filters is None:
    st.warning(
        f"No predictions found under {context.settings.data_dir}. Log predictions with "
        "`monitor.sdk.PredictionLogger`, or run `monitor demo --data-dir DIR`."
    )
    st.stop()

store = context.store
model = filters.model
health = ui.model_health(store, store.version, model.model_id, filters.window, filters.versions)

st.subheader(model.model_id)
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

span = filters.window.end - filters.window.start
bucket: Bucket = "hour" if span <= dt.timedelta(days=3) else "day"
buckets = ui.traffic(store, store.version, model.model_id, filters.window, bucket, filters.versions)
if buckets:
    st.markdown(f"**Predictions per {bucket}** (bars) and p95 latency (line)")
    st.plotly_chart(charts.traffic_figure(buckets), config={"displayModeBar": False})

if len(context.models) > 1:
    st.markdown(
        f"**All models** ({filters.window_label.lower()} of each model's logs, all versions)"
    )
    rows = []
    for other in context.models:
        window = ui.window_for(other, filters.window_label)
        other_health = ui.model_health(store, store.version, other.model_id, window, ())
        rows.append(
            {
                "model": other.model_id,
                "predictions": other_health.predictions,
                "error rate": other_health.error_rate,
                "latency p95 (ms)": other_health.latency.p95,
                "invalid records": other_health.invalid_records,
                "newest prediction (UTC)": other.last_seen,
            }
        )
    st.dataframe(
        rows,
        hide_index=True,
        column_config={
            "error rate": st.column_config.NumberColumn(format="percent"),
            "latency p95 (ms)": st.column_config.NumberColumn(format="%.0f"),
            "newest prediction (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        },
    )

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
