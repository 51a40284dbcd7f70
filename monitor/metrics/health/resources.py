"""CPU, memory and queue depth per host from system events (the aggregates come from
`monitor.queries.resources`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Host:
    host: str
    samples: int
    last_seen: dt.datetime


@dataclass(frozen=True)
class HostBucket:
    host: str
    start: dt.datetime
    samples: int
    cpu_mean: float | None
    cpu_max: float | None
    memory_mean: float | None
    memory_max: float | None
    queue_mean: float | None
    queue_max: float | None
