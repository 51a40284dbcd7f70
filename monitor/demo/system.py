"""System metrics: every 5 minutes per host, following traffic, spiking with latency."""

from __future__ import annotations

import numpy as np

from monitor.demo.batch import Column, SystemBatch
from monitor.demo.timeline import US_PER_MINUTE, Window, cycle_load, in_window

INTERVAL_MINUTES = 5


def system_batch(
    rng: np.random.Generator,
    hosts: tuple[str, str],
    day_start_us: int,
    traffic_ratio: float,
    spike: Window | None,
) -> SystemBatch:
    """One day of metrics for two hosts; `traffic_ratio` is the day's traffic / average day."""
    minutes = np.arange(0, 24 * 60, INTERVAL_MINUTES, dtype=np.int64)
    times = np.repeat(day_start_us + minutes * US_PER_MINUTE, 2)
    host = np.tile(np.arange(2, dtype=np.int64), len(minutes))
    share = np.where(host == 0, 0.55, 0.45) * 2.0
    load = np.repeat(cycle_load(minutes), 2) * traffic_ratio * share
    n = len(times)
    cpu = 8.0 + 55.0 * load + rng.normal(0.0, 3.0, n)
    memory = 1800.0 + 500.0 * load + rng.normal(0.0, 25.0, n)
    queue = rng.poisson(0.5 + 6.0 * load).astype(np.float64)
    if spike is not None:
        hot = in_window(times, spike)
        cpu = np.where(hot, cpu + 35.0, cpu)
        memory = np.where(hot, memory + 900.0, memory)
        queue = np.where(hot, queue * 8.0 + 20.0, queue)
    return SystemBatch(
        timestamp_us=times,
        host=Column(host, categories=hosts),
        cpu_percent=np.round(np.clip(cpu, 0.5, 99.5), 1).astype(np.float64),
        memory_mb=np.round(memory, 1),
        queue_depth=queue,
    )
