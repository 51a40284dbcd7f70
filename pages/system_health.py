"""System health: latency, throughput, errors, traffic gaps and host resources."""

import streamlit as st

from monitor.ui import context as ui
from monitor.ui import health as ui_health
from monitor.ui.charts import health as charts_health

context = ui.current()
st.title("System health")
filters, scope = context.filters, context.scope
if filters is None or scope is None:
    st.warning(f"No predictions found under {context.settings.data_dir}.")
    st.stop()
assert filters is not None and scope is not None

store, model, window = context.store, filters.model, filters.window
now = ui.model_health(store, scope)
before = ui.model_health(store, scope.previous())
bucket = scope.bucket(finest="minute")
buckets = ui.traffic(store, scope, bucket)
gaps = ui_health.traffic_gaps(store, scope)
minutes = max((window.end - window.start).total_seconds() / 60, 1.0)

st.caption(
    f"{model.model_id}, {filters.window_label.lower()} ({window.start:%Y-%m-%d %H:%M} to "
    f"{window.end:%Y-%m-%d %H:%M} UTC); deltas against the {filters.window_label.lower()} before."
)


def delta(current: float | None, previous: float | None, scale: float = 1.0) -> float | None:
    if current is None or previous is None:
        return None
    return (current - previous) * scale + 0.0  # + 0.0 turns -0.0 into 0.0


tiles = st.columns(6)
tiles[0].metric("Predictions / min", f"{now.predictions / minutes:,.1f}")
tiles[1].metric(
    "Error rate",
    "n/a" if now.error_rate is None else f"{now.error_rate:.2%}",
    delta=None if (d := delta(now.error_rate, before.error_rate, 100)) is None else f"{d:+.2f} pp",
    delta_color="inverse",
)
for column, name in zip(tiles[2:5], ("p50", "p95", "p99"), strict=True):
    value = getattr(now.latency, name)
    change = delta(value, getattr(before.latency, name))
    column.metric(
        f"Latency {name}",
        "n/a" if value is None else f"{value:,.0f} ms",
        delta=None if change is None else f"{round(change) + 0:+,} ms",
        delta_color="inverse",
    )
tiles[5].metric(
    "Traffic gaps",
    len(gaps),
    help="Stretches without predictions where, at the usual rate for those hours, at least "
    "7 were expected (a chance below 0.1% of happening by luck).",
)

threshold = context.settings.thresholds.latency_p95_ms
if buckets:
    st.markdown(f"**Latency per {bucket}**")
    st.plotly_chart(
        charts_health.latency_figure(buckets, threshold), config={"displayModeBar": False}
    )
    st.markdown(f"**Throughput and error rate per {bucket}** (gaps shaded)")
    st.plotly_chart(
        charts_health.throughput_figure(buckets, gaps), config={"displayModeBar": False}
    )

if gaps:
    st.markdown("**Gaps in traffic**")
    st.dataframe(
        [
            {
                "from (UTC)": g.start,
                "to (UTC)": g.end,
                "minutes": round(g.duration.total_seconds() / 60),
                "predictions expected": round(g.expected),
            }
            for g in gaps
        ],
        hide_index=True,
    )

left, right = st.columns(2)
with left:
    st.markdown("**Most frequent errors**")
    errors = ui_health.top_errors(store, scope)
    if errors:
        st.dataframe(
            [
                {
                    "message": e.message,
                    "count": e.count,
                    "versions": ", ".join(v or "(unversioned)" for v in e.versions),
                    "last seen (UTC)": e.last_seen,
                }
                for e in errors
            ],
            hide_index=True,
        )
    else:
        st.caption("No errors in this window.")
with right:
    st.markdown("**Per version**")
    st.dataframe(
        [
            {
                "version": v.version or "(unversioned)",
                "traffic share": v.traffic_share,
                "predictions": v.predictions,
                "error rate": v.error_rate,
                "p95 (ms)": v.latency.p95,
            }
            for v in ui_health.version_health(store, scope)
        ],
        hide_index=True,
        column_config={
            "traffic share": st.column_config.NumberColumn(format="percent"),
            "error rate": st.column_config.NumberColumn(format="percent"),
            "p95 (ms)": st.column_config.NumberColumn(format="%.0f"),
        },
    )

st.subheader("Resources")
known_hosts = ui_health.hosts(store, scope)
if not known_hosts:
    st.info("No system events in this window. Log them with `PredictionLogger.log_system`.")
else:
    names = [h.host for h in known_hosts]
    preferred = [n for n in names if n.startswith(model.model_id)] or names
    chosen = st.multiselect("Hosts", names, default=preferred, key="health_hosts")
    series = ui_health.host_series(store, scope, bucket, tuple(chosen))
    cpu, memory, queue = st.columns(3)
    for column, metric, title in (
        (cpu, "cpu_mean", "CPU % (mean)"),
        (memory, "memory_max", "memory MB (max)"),
        (queue, "queue_max", "queue depth (max)"),
    ):
        with column:
            st.markdown(f"**{title}**")
            st.plotly_chart(
                charts_health.resource_figure(series, metric, title),
                config={"displayModeBar": False},
            )
