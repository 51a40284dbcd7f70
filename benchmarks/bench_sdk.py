"""Caller-thread cost of PredictionLogger.log_prediction, and writer throughput.

Run: python benchmarks/bench_sdk.py [--calls 200000]

Prints a Markdown table. Per-call percentiles time each call with perf_counter_ns and
subtract the median cost of an empty timer pair; "batch mean" times batches of 1000 calls
with no per-call timer, so it is free of that correction. "flush wait" is the time from
the last call until flush() returned; "writer records/s" is records written divided by
the time from the first call until flush() returned.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from array import array

from monitor.sdk import PredictionLogger

BATCH = 1000
FEATURES = {
    "age": 42,
    "income": 51234.5,
    "tenure_months": 17,
    "balance": 1023.75,
    "num_products": 2,
    "has_card": True,
    "is_active": False,
    "country": "FR",
    "gender": "F",
    "score": 0.6321,
}


def timer_overhead_ns() -> int:
    clock = time.perf_counter_ns
    samples = []
    for _ in range(100_000):
        start = clock()
        samples.append(clock() - start)
    return int(statistics.median(samples))


def percentile(sorted_values: list[int], q: float) -> float:
    return float(sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))])


def run(calls: int, sample_rate: float, queue_size: int, flush_interval: float) -> dict[str, float]:
    clock = time.perf_counter_ns
    overhead = timer_overhead_ns()
    with tempfile.TemporaryDirectory() as data_dir:
        log = PredictionLogger(
            data_dir,
            model_id="churn",
            model_version="3",
            sample_rate=sample_rate,
            queue_size=queue_size,
            flush_interval=flush_interval,
        )
        call = log.log_prediction
        per_call = array("q", bytes(8 * calls))
        batch_means: list[float] = []
        started = time.perf_counter()
        done = 0
        while done < calls:  # half of the batches timed per call, half as a whole
            start = clock()
            for _ in range(BATCH):
                call(features=FEATURES, prediction=1, probability=0.73, latency_ms=4.2)
            batch_means.append((clock() - start) / BATCH)
            for i in range(done, done + BATCH):
                start = clock()
                call(features=FEATURES, prediction=1, probability=0.73, latency_ms=4.2)
                per_call[i] = clock() - start - overhead
            done += BATCH
        produced = time.perf_counter() - started
        log.flush()
        elapsed = time.perf_counter() - started
        log.close()
        stats = log.stats()
    values = sorted(per_call[:done])
    return {
        "p50": percentile(values, 0.50),
        "p90": percentile(values, 0.90),
        "p99": percentile(values, 0.99),
        "batch_mean": statistics.median(batch_means),
        "calls": 2 * done,
        "written": stats.written,
        "dropped": stats.dropped,
        "sampled_out": stats.sampled_out,
        "produce_s": produced,
        "throughput": stats.written / elapsed,
        "flush_s": elapsed - produced,
        "overhead": overhead,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000, help="calls per scenario")
    args = parser.parse_args()
    calls = args.calls // 2
    scenarios = [
        ("1.0, writer active", 1.0, 250_000, 1.0),
        ("0.1, writer active", 0.1, 250_000, 1.0),
        ("1.0, writer idle (queue never half full, no timer wake)", 1.0, 10_000_000, 3600.0),
        ("1.0, default queue_size=10000", 1.0, 10_000, 1.0),
    ]
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}")
    print()
    print(
        "| sample_rate / setup | p50 ns | p90 ns | p99 ns | batch mean ns | calls | written "
        "| dropped | sampled_out | flush wait s | writer records/s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    overhead = 0.0
    for name, rate, queue_size, interval in scenarios:
        r = run(calls, rate, queue_size, interval)
        overhead = r["overhead"]
        print(
            f"| {name} | {r['p50']:.0f} | {r['p90']:.0f} | {r['p99']:.0f} "
            f"| {r['batch_mean']:.0f} | {r['calls']:.0f} | {r['written']:.0f} "
            f"| {r['dropped']:.0f} | {r['sampled_out']:.0f} | {r['flush_s']:.2f} "
            f"| {r['throughput']:,.0f} |"
        )
    print()
    print(f"timer overhead subtracted from per-call times: {overhead:.0f} ns")


if __name__ == "__main__":
    main()
