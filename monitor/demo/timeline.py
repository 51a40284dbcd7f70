"""When things happen: the span of days, daily traffic, and the windows of injected problems.

All times are integer microseconds since the epoch (UTC). Problem windows are
half-open ``[start, end)`` and sit at fixed fractions of the span, so they move with
`days` but never depend on the random stream.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

US_PER_SECOND = 1_000_000
US_PER_MINUTE = 60 * US_PER_SECOND
US_PER_HOUR = 60 * US_PER_MINUTE
US_PER_DAY = 24 * US_PER_HOUR
MINUTES_PER_DAY = 24 * 60

Window = tuple[int, int]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_EPOCH = dt.date(1970, 1, 1)


def date_to_us(day: dt.date) -> int:
    return (day - _EPOCH).days * US_PER_DAY


def us_to_datetime(us: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=us)


def daily_cycle() -> FloatArray:
    """Relative traffic per minute of the (UTC) day: quiet at night, peak mid-afternoon."""
    hours = np.arange(MINUTES_PER_DAY, dtype=np.float64) / 60.0
    return 0.15 + np.exp(-(((hours - 14.0) / 4.5) ** 2))


_CYCLE = daily_cycle()
_CYCLE_P = _CYCLE / _CYCLE.sum()


def cycle_load(minute_of_day: IntArray) -> FloatArray:
    """Traffic intensity at each minute relative to the busiest minute (0..1)."""
    result: FloatArray = _CYCLE[minute_of_day] / _CYCLE.max()
    return result


def sample_times(rng: np.random.Generator, day_start_us: int, count: int) -> IntArray:
    """`count` sorted timestamps within one day, following the daily cycle."""
    minutes = rng.choice(MINUTES_PER_DAY, size=count, p=_CYCLE_P).astype(np.int64)
    offsets = np.floor(rng.random(count) * US_PER_MINUTE).astype(np.int64)
    times = day_start_us + minutes * US_PER_MINUTE + offsets
    times.sort(kind="stable")
    return times


def in_window(times: IntArray, window: Window) -> BoolArray:
    return (times >= window[0]) & (times < window[1])


def progress(times: IntArray, window: Window) -> FloatArray:
    """0 before the window, rising linearly to 1 at its end, 1 after."""
    span = max(window[1] - window[0], 1)
    return np.clip((times - window[0]) / span, 0.0, 1.0)


def allocate(total: int, weights: FloatArray) -> IntArray:
    """Split `total` into integer parts proportional to `weights` (largest remainder)."""
    raw = total * weights / weights.sum()
    counts: IntArray = np.floor(raw).astype(np.int64)
    short = total - int(counts.sum())
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[:short]] += 1
    return counts


@dataclass(frozen=True)
class Scenario:
    """The span of the demo and the windows of every injected problem."""

    start: dt.date
    days: int
    v2_rollout: Window
    canary: Window
    missing_spike: Window
    label_shift: Window
    new_category: Window
    income_drift: Window
    latency_spike: Window
    error_burst: Window
    unlabeled: Window
    demand_v2: Window

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=self.days - 1)

    @property
    def span(self) -> Window:
        return (date_to_us(self.start), date_to_us(self.start) + self.days * US_PER_DAY)

    def day(self, index: int) -> dt.date:
        return self.start + dt.timedelta(days=index)

    def day_start(self, index: int) -> int:
        return date_to_us(self.start) + index * US_PER_DAY

    def day_index(self, times: IntArray) -> IntArray:
        return (times - self.span[0]) // US_PER_DAY


def build_scenario(end: dt.date, days: int) -> Scenario:
    start = end - dt.timedelta(days=days - 1)
    t0 = date_to_us(start)
    t_end = t0 + days * US_PER_DAY

    def at(fraction: float, minimum: int = 0) -> int:
        """Start of the day at `fraction` of the span (never the very last day)."""
        return t0 + min(max(int(fraction * days), minimum), days - 1) * US_PER_DAY

    def days_window(first: int, length_days: int) -> Window:
        return (first, min(first + length_days * US_PER_DAY, t_end))

    rollout = at(0.3, minimum=1)
    shift_start = at(0.45)
    shift_days = max(2, round(0.2 * days))
    labeled_until = t0 + max(days - 2, 1) * US_PER_DAY
    shift_end = max(
        min(shift_start + shift_days * US_PER_DAY, labeled_until), shift_start + US_PER_DAY
    )
    latency_day = at(0.8)
    burst_day = at(0.85)
    return Scenario(
        start=start,
        days=days,
        v2_rollout=days_window(rollout, 2),
        canary=(at(0.7), t_end),
        missing_spike=days_window(at(0.35), 1),
        label_shift=(shift_start, min(shift_end, t_end)),
        new_category=(at(0.55), t_end),
        income_drift=(at(0.6), t_end),
        latency_spike=(latency_day + 13 * US_PER_HOUR, latency_day + 16 * US_PER_HOUR),
        error_burst=(burst_day + 12 * US_PER_HOUR, burst_day + 14 * US_PER_HOUR),
        unlabeled=(t0 + max(days - 2, 0) * US_PER_DAY, t_end),
        demand_v2=(at(0.5), t_end),
    )
