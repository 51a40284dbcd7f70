"""Gaps in traffic: stretches without predictions where traffic was expected.

An empty stretch counts as a gap when, at the model's usual rate for those hours of the
day, at least `min_expected` predictions should have arrived: under a Poisson model the
chance of seeing none by luck is then below e**-min_expected (0.09% for the default 7).
Quiet nights with a prediction every half hour are not gaps; an outage at noon is. The
usual rate per hour of day comes from a baseline of up to `baseline` before the window's
end, so an outage inside the window barely lowers it. Pure: the arrivals per minute come
from `monitor.queries.health.traffic_gaps`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from monitor.core.catalog import Window

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class TrafficGap:
    start: dt.datetime
    """The first minute without predictions."""
    end: dt.datetime
    """The start of the next minute with predictions (or the window's end)."""
    expected: float
    """Predictions expected in the gap at the usual rate."""

    @property
    def duration(self) -> dt.timedelta:
        return self.end - self.start


def baseline_start(window: Window, baseline: dt.timedelta) -> dt.datetime:
    """Where the arrivals `traffic_gaps` needs begin: `baseline` before the window's end,
    or the window's start when that is earlier (whole minutes)."""
    return _at(min(_minute(window.start), _minute(window.end - baseline)))


def traffic_gaps(
    arrivals: Sequence[tuple[int, int]],
    window: Window,
    *,
    min_expected: float = 7.0,
    baseline: dt.timedelta = dt.timedelta(days=7),
) -> tuple[TrafficGap, ...]:
    """The gaps in `window` from (minute since the epoch, predictions) of the minutes with
    any, oldest first, from `baseline_start(window, baseline)` to the window's end."""
    first = _minute(window.start)
    last = _minute(window.end)
    base_first = _minute(baseline_start(window, baseline))
    if arrivals:  # the baseline starts no earlier than the traffic itself
        base_first = min(first, max(base_first, int(arrivals[0][0])))
    counts = np.zeros(last - base_first + 1)
    for minute, n in arrivals:
        if int(minute) >= base_first:
            counts[int(minute) - base_first] = n
    minutes = np.arange(base_first, last + 1)
    hour_of_day = (minutes // 60) % 24
    rate = np.bincount(hour_of_day, weights=counts, minlength=24) / np.maximum(
        np.bincount(hour_of_day, minlength=24), 1
    )
    in_window = minutes >= first
    empty = (counts == 0) & in_window
    gaps: list[TrafficGap] = []
    for run_start, run_end in _runs(empty):
        expected = float(rate[hour_of_day[run_start:run_end]].sum())
        if expected >= min_expected:
            end = min(_at(base_first + run_end), window.end)
            gaps.append(TrafficGap(_at(base_first + run_start), end, expected))
    return tuple(gaps)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index pairs of the runs of True in a boolean array."""
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _minute(moment: dt.datetime) -> int:
    return int((moment - _EPOCH) // dt.timedelta(minutes=1))


def _at(minute: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(minutes=minute)
