"""System health: latency, throughput, errors, traffic gaps and host resources."""

import streamlit as st

from monitor.core.buckets import Bucket
from monitor.core.scope import Scope
from monitor.findings.rules_config import rule_threshold
from monitor.metrics.health.gaps import TrafficGap
from monitor.ui import context as ui
from monitor.ui import health as ui_health
from monitor.ui import page_findings
from monitor.ui.charts import health as charts_health
from monitor.ui.context import Filters
from monitor.ui.health import LATENCIES

RESOURCES = (
    ("cpu_mean", "CPU % (mean)"),
    ("memory_max", "memory MB (max)"),
    ("queue_max", "queue depth (max)"),
)
"""The host series charted side by side, and their titles."""


def window_caption(filters: Filters) -> None:
    window, label = filters.window, filters.window_label.lower()
    st.caption(
        f"{filters.model.model_id}, {label} ({window.start:%Y-%m-%d %H:%M} to "
        f"{window.end:%Y-%m-%d %H:%M} UTC); deltas against the {label} before."
    )


def headline_tiles(filters: Filters, scope: Scope, gaps: tuple[TrafficGap, ...]) -> None:
    """Throughput, error rate and latency against the window before, and traffic gaps."""
    now = ui.model_health(context.store, scope)
    before = ui.model_health(context.store, scope.previous())
    minutes = max((filters.window.end - filters.window.start).total_seconds() / 60, 1.0)
    tiles = st.columns(6)
    tiles[0].metric("Predictions / min", f"{now.predictions / minutes:,.1f}")
    errors = ui_health.error_rate_tile(now, before)
    tiles[1].metric(
        "Error rate",
        errors.value,
        delta=errors.delta,
        delta_color=errors.delta_color,
        delta_arrow=errors.delta_arrow,
    )
    for column, name in zip(tiles[2:5], LATENCIES, strict=True):
        tile = ui_health.latency_tile(now, before, name)
        column.metric(
            f"Latency {name}",
            tile.value,
            delta=tile.delta,
            delta_color=tile.delta_color,
            delta_arrow=tile.delta_arrow,
        )
    tiles[5].metric(
        "Traffic gaps",
        len(gaps),
        help="Stretches without predictions where, at the usual rate for those hours, at least "
        "7 were expected (a chance below 0.1% of happening by luck).",
    )


def latency_and_throughput(scope: Scope, bucket: Bucket, gaps: tuple[TrafficGap, ...]) -> None:
    buckets = ui.traffic(context.store, scope, bucket)
    if not buckets:
        return
    threshold = rule_threshold(context.settings, "latency_p95_ms", scope.model_id)
    st.markdown(f"**Latency per {bucket}**")
    st.plotly_chart(
        charts_health.latency_figure(buckets, threshold), config={"displayModeBar": False}
    )
    st.markdown(f"**Throughput and error rate per {bucket}** (gaps shaded)")
    st.plotly_chart(
        charts_health.throughput_figure(buckets, gaps), config={"displayModeBar": False}
    )


def traffic_gaps(gaps: tuple[TrafficGap, ...]) -> None:
    if gaps:
        st.markdown("**Gaps in traffic**")
        st.dataframe(ui_health.gap_rows(gaps), hide_index=True)


def frequent_errors(scope: Scope) -> None:
    st.markdown("**Most frequent errors**")
    errors = ui_health.top_errors(context.store, scope)
    if errors:
        st.dataframe(ui_health.error_rows(errors), hide_index=True)
    else:
        st.caption("No errors in this window.")


def per_version(scope: Scope) -> None:
    st.markdown("**Per version**")
    st.dataframe(
        ui_health.version_rows(ui_health.version_health(context.store, scope)),
        hide_index=True,
        column_config={
            "traffic share": st.column_config.NumberColumn(format="percent"),
            "error rate": st.column_config.NumberColumn(format="percent"),
            "p95 (ms)": st.column_config.NumberColumn(format="%.0f"),
        },
    )


def errors_and_versions(scope: Scope) -> None:
    left, right = st.columns(2)
    with left:
        frequent_errors(scope)
    with right:
        per_version(scope)


def resources(scope: Scope, bucket: Bucket, model_id: str) -> None:
    """CPU, memory and queue depth of the chosen hosts (the model's own by default)."""
    st.subheader("Resources")
    known_hosts = ui_health.hosts(context.store, scope)
    if not known_hosts:
        st.info("No system events in this window. Log them with `PredictionLogger.log_system`.")
        return
    names = [h.host for h in known_hosts]
    preferred = [n for n in names if n.startswith(model_id)] or names
    chosen = st.multiselect("Hosts", names, default=preferred, key="health_hosts")
    series = ui_health.host_series(context.store, scope, bucket, tuple(chosen))
    for column, (metric, title) in zip(st.columns(3), RESOURCES, strict=True):
        with column:
            st.markdown(f"**{title}**")
            st.plotly_chart(
                charts_health.resource_figure(series, metric, title),
                config={"displayModeBar": False},
            )


context = ui.current()
st.title("System health")
page_filters, page_scope = context.filters, context.scope
if page_filters is None or page_scope is None:
    st.warning(f"No predictions found under {context.settings.data_dir}.")
    st.stop()

page_bucket = page_scope.bucket(finest="minute")
page_gaps = ui_health.traffic_gaps(context.store, page_scope)
page_findings.show(context, "system_health", context.settings.model(page_scope.model_id), logs=True)
window_caption(page_filters)
headline_tiles(page_filters, page_scope, page_gaps)
latency_and_throughput(page_scope, page_bucket, page_gaps)
traffic_gaps(page_gaps)
errors_and_versions(page_scope)
resources(page_scope, page_bucket, page_filters.model.model_id)
