"""Labels arrive late: what the Performance and Fairness pages say about it, and the one
click to a window that has labels.

`label_arrival` is cached on the `Scope`; the sentences are plain text (tested without
Streamlit); `window_button` sets the sidebar's `filter_window` in a callback, which runs
before the next script run draws the sidebar (a widget's state cannot change after the
widget is drawn in the same run).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import streamlit as st

from monitor.core.scope import Scope
from monitor.core.store import LogStore
from monitor.queries.performance_labels import LabelArrival
from monitor.queries.performance_labels import label_arrival as arrival_query

WINDOW_KEY = "filter_window"
"""The sidebar's time-window widget (monitor.ui.context)."""


@st.cache_data(ttl=300, show_spinner=False, max_entries=64)
def label_arrival(_store: LogStore, scope: Scope) -> LabelArrival:
    """`monitor.queries.performance_labels.label_arrival`, cached on the scope."""
    return arrival_query(_store, scope)


def _span(days: float) -> str:
    return f"{days * 24:.0f} hours" if days < 1 else f"{days:.1f} days"


def delay_text(arrival: LabelArrival, window_end: dt.datetime) -> str:
    """How late labels arrive and the newest labeled prediction, as one clause."""
    lookback = (arrival.lookback.end - arrival.lookback.start).days
    if arrival.delay_days is None:
        arrives = f"no label arrived as feedback for the predictions of the last {lookback} days"
    else:
        low, _, high = arrival.delay_days
        arrives = (
            f"labels arrive {_span(low)} to {_span(high)} after a prediction (10th to 90th "
            f"percentile of those received for the last {lookback} days)"
        )
    if arrival.newest_labeled is None:
        return f"{arrives}; no prediction of the last {lookback} days has a label yet"
    age = (window_end - arrival.newest_labeled).total_seconds() / 86400
    return (
        f"{arrives}; the newest labeled prediction is from "
        f"{arrival.newest_labeled:%Y-%m-%d %H:%M} UTC, {_span(age)} before the window ends"
    )


def window_with_labels(
    arrival: LabelArrival,
    windows: Mapping[str, dt.timedelta | None],
    current: str,
) -> str | None:
    """The shortest sidebar window longer than `current` that reaches back to the newest
    labeled prediction ("All data" when none is known); None when there is none."""
    spans = list(windows.items())
    names = [name for name, _ in spans]
    if current not in names:
        return None
    longer = spans[names.index(current) + 1 :]
    end = arrival.lookback.end
    for name, span in longer:
        if span is None:
            return name
        if arrival.newest_labeled is not None and end - span <= arrival.newest_labeled:
            return name
    return None


def _set_window(label: str) -> None:
    st.session_state[WINDOW_KEY] = label


def window_button(label: str, *, key: str) -> None:
    """A button that switches the sidebar's time window to `label`."""
    st.button(
        f"Show {label.lower()}" if label != "All data" else "Show all data",
        key=key,
        on_click=_set_window,
        args=(label,),
        type="primary",
    )
