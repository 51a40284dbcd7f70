"""Time buckets shared by every chart and query: fixed widths in UTC on epoch microseconds.

Queries compute a bucket's start as
``(epoch_us(timestamp) - $offset_us) // $width_us * $width_us + $offset_us``: several
times faster than date_trunc on TIMESTAMPTZ (ICU calendar arithmetic per row).
"""

from __future__ import annotations

import datetime as dt
from typing import Final, Literal

Bucket = Literal["minute", "hour", "day", "week"]

WIDTH_US: Final[dict[Bucket, int]] = {
    "minute": 60_000_000,
    "hour": 3_600_000_000,
    "day": 86_400_000_000,
    "week": 7 * 86_400_000_000,
}
WEEK_OFFSET_US: Final = 4 * 86_400_000_000
"""1970-01-01 was a Thursday: weeks start on Monday 1970-01-05 (ISO weeks)."""


def offset_us(bucket: Bucket) -> int:
    return WEEK_OFFSET_US if bucket == "week" else 0


def params(bucket: Bucket) -> dict[str, int]:
    """The $width_us / $offset_us parameters of the bucketed queries."""
    return {"width_us": WIDTH_US[bucket], "offset_us": offset_us(bucket)}


def width(bucket: Bucket) -> dt.timedelta:
    return dt.timedelta(microseconds=WIDTH_US[bucket])


def bucket_for(span: dt.timedelta, *, finest: Bucket = "hour") -> Bucket:
    """The one rule that maps a window's length to a bucket width, for every chart, query
    and command: minutes up to 6 hours, hours up to 3 days, days up to 90 days, weeks
    beyond; never finer than `finest` (group metrics need more rows per point than
    latency does)."""
    for bucket, longest in _LONGEST_SPAN.items():
        if span <= longest and WIDTH_US[bucket] >= WIDTH_US[finest]:
            return bucket
    return "week"


_LONGEST_SPAN: Final[dict[Bucket, dt.timedelta]] = {
    "minute": dt.timedelta(hours=6),
    "hour": dt.timedelta(days=3),
    "day": dt.timedelta(days=90),
}
